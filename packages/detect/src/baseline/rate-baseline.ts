/**
 * A key's learned send rate, fed one closed minute at a time: EWMA mean and variance of per-minute
 * counts (winsorised so a spike does not teach itself), a ring of hourly totals for a robust
 * median/MAD, an optional hour-of-day or hour-of-week profile once a day of history exists, and a
 * slowly decaying peak so an account's history of large blasts is remembered.
 * State lives in one slab slot (see tracker-slab.ts): scalars as Float64, the hourly ring and the
 * profile as Uint16 (see encodeHourTotal and encodeFactor).
 */
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import { ownSlot, type SlabPage, type SlabSlot } from '../engine/tracker-slab.ts';

const HOURS_KEPT = 48;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** Peak decays by half in about two weeks of hours. */
const PEAK_DECAY_PER_HOUR = 0.998;
/** Minutes a key learns with 1/(n+1) before its EWMA's own alpha (see learn). */
const YOUNG_MINUTES = 30;
/** Visits of × 0.7 that take a profile factor (≤ 10, in 1/6000 steps) to its fixed point: 31. */
const PROFILE_VISITS = 32;

export interface Expectation {
  /** Expected count per minute at the time asked for. */
  perMinute: number;
  /** Standard deviation of a one-minute count. */
  sdPerMinute: number;
  /** Whether enough history exists to trust it (else callers use priors and absolute limits). */
  mature: boolean;
}

export interface RateBaselineState {
  mean: number;
  variance: number;
  minutes: number;
  hourTotal: number;
  hourIndex: number;
  hours: number[];
  hoursSeen: number;
  profile: number[] | null;
  peakPerMinute: number;
  hourMaxMinute: number;
}

// Word offsets of the Float64 scalars within the slot: the running moments and sums.
const MEAN = 0;
const VARIANCE = 1;
const HOUR_TOTAL = 2;
const PEAK = 3;
// Float32 offsets (from 2 × the slot's word) of the small integers and cached robust levels, which
// Float32 holds exactly (counts and hour indexes below 2^24) or as precisely as the ring they
// summarise: four words instead of eight.
const MINUTES = 8;
const HOUR_INDEX = 9;
const HOUR_MAX_MINUTE = 10;
const HOURS_SEEN = 11;
const ROBUST_AT = 12;
const ROBUST_MEDIAN = 13;
const ROBUST_MAD = 14;
const HAS_PROFILE = 15;
/** Word where the Uint16 hourly ring starts; the profile follows it (both Uint16). */
const HOURS_WORD = 8;
/**
 * The profile's per-slot factors (0–10, starting at 1) in Uint16 fixed point: steps of 1/6000,
 * far finer than the factor's meaning, at half the bytes of Float32.
 */
const PROFILE_SCALE = 6000;
const encodeFactor = (factor: number): number =>
  Math.min(65_535, Math.max(0, Math.round(factor * PROFILE_SCALE)));

/**
 * An hourly total in 16 bits, as a small unsigned float: 5 bits of exponent, 11 of mantissa.
 * Exact for whole numbers below 4,096, then within 1/4,096 of the value (rounded to nearest), up
 * to ~4.4 × 10^12 per hour. The ring only feeds a median, for which that is far below the noise
 * of the counts themselves, at half the bytes of Float32 (96 bytes less per tracked key).
 */
const MANTISSA = 2048;
const MAX_HOUR_CODE = 65_535;
export function encodeHourTotal(total: number): number {
  if (!(total > 0)) return 0;
  if (total < MANTISSA) return Math.round(total);
  // total = (MANTISSA + m) × 2^(e - 1) with 0 ≤ m < MANTISSA.
  let e = Math.floor(Math.log2(total)) - 10;
  let scaled = Math.round(total / 2 ** (e - 1));
  // log2 can land one off near powers of two, and rounding can carry into the next exponent.
  if (scaled < MANTISSA) {
    e--;
    scaled = Math.round(total / 2 ** (e - 1));
  }
  if (scaled >= 2 * MANTISSA) {
    e++;
    scaled = Math.round(total / 2 ** (e - 1));
  }
  return Math.min(MAX_HOUR_CODE, e * MANTISSA + (scaled - MANTISSA));
}

export function decodeHourTotal(code: number): number {
  const e = code >>> 11;
  const m = code & (MANTISSA - 1);
  return e === 0 ? m : (MANTISSA + m) * 2 ** (e - 1);
}

/** What every baseline of one configuration shares (one object, not two numbers per key). */
export interface BaselineSettings {
  alpha: number;
  slots: 0 | 24 | 168;
  /** Where the baseline's words start in its slot (a rate tracker keeps its own words first). */
  offset: number;
}

const settingsCache = new Map<string, BaselineSettings>();

export function settingsFor(halfLifeMinutes: number, slots: 0 | 24 | 168): BaselineSettings {
  const key = `${halfLifeMinutes}/${slots}`;
  let settings = settingsCache.get(key);
  if (settings === undefined) {
    settings = { alpha: 1 - 2 ** (-1 / halfLifeMinutes), slots, offset: 0 };
    settingsCache.set(key, settings);
  }
  return settings;
}

/**
 * Helpers are TypeScript-private, not `#`: V8 gives every instance of a class with `#` methods or
 * accessors a brand field (8 bytes), and a key's tracker carried two (this class and RateTracker).
 */
export class RateBaseline {
  /**
   * The slot's page (its views), the slot's first word and the configuration: three fields per key.
   * Each was a field of its own (views, base, the tracker's own base) — 32 bytes more per tracked key.
   */
  protected readonly v: SlabPage;
  protected readonly at: number;
  /** Shared by every baseline of one configuration (RateTracker passes its shape, which extends it). */
  protected readonly settings: BaselineSettings;

  protected get f64(): Float64Array {
    return this.v.f64;
  }

  protected get f32(): Float32Array {
    return this.v.f32;
  }

  protected get u16(): Uint16Array {
    return this.v.u16;
  }

  /** First word of the baseline's own part of the slot. */
  protected get base(): number {
    return this.at + this.settings.offset;
  }

  /** 8-byte words a baseline with `seasonalitySlots` occupies in a slot. */
  static words(seasonalitySlots: number): number {
    return HOURS_WORD + Math.ceil((HOURS_KEPT + seasonalitySlots) / 4);
  }

  /**
   * With a slot (views of one buffer), the baseline lives in its zero-filled words
   * `[base, base + words(seasonalitySlots))`; without, in a buffer of its own.
   */
  constructor(
    halfLifeMinutes: number,
    seasonalitySlots: 0 | 24 | 168,
    slot?: Pick<SlabSlot, 'page' | 'base'>,
    settings?: BaselineSettings,
  ) {
    this.settings = settings ?? settingsFor(halfLifeMinutes, seasonalitySlots);
    const storage = slot ?? ownSlot(RateBaseline.words(seasonalitySlots));
    this.v = storage.page;
    this.at = storage.base;
    this.f32[2 * this.base + HOUR_INDEX] = -1;
    this.f32[2 * this.base + ROBUST_AT] = -1;
  }

  /** Uint16 index of the hourly ring. */
  private get hoursAt(): number {
    return 4 * (this.base + HOURS_WORD);
  }

  /** Uint16 index of the profile. */
  private get profileAt(): number {
    return 4 * (this.base + HOURS_WORD) + HOURS_KEPT;
  }

  private get slots(): 0 | 24 | 168 {
    return this.settings.slots;
  }

  private get alpha(): number {
    return this.settings.alpha;
  }

  get mean(): number {
    return this.f64[this.base + MEAN] as number;
  }

  get variance(): number {
    return this.f64[this.base + VARIANCE] as number;
  }

  get minutes(): number {
    return this.f32[2 * this.base + MINUTES] as number;
  }

  get peakPerMinute(): number {
    return this.f64[this.base + PEAK] as number;
  }

  get hoursSeen(): number {
    return this.f32[2 * this.base + HOURS_SEEN] as number;
  }

  /** Learns one closed minute (its start time and count); `zeros` more idle minutes follow it. */
  observeMinute(minuteStartMs: number, count: number, zeros = 0): void {
    this.learn(minuteStartMs, count);
    let lastMs = minuteStartMs;
    let left = zeros;
    // Minute by minute while the key is young (it learns with 1/(n+1), not with alpha) and for
    // short gaps; a long idle stretch of a mature key in closed form.
    while (left > 0 && (left <= 60 || (this.f32[2 * this.base + MINUTES] as number) < YOUNG_MINUTES)) {
      lastMs += MINUTE_MS;
      this.learn(lastMs, 0);
      left--;
    }
    if (left > 0) this.idle(lastMs, left);
  }

  /**
   * `n` idle minutes after the minute starting at `lastMs`, in closed form: what `learn` would do
   * with `n` zeros, without per-minute work (which made reactivated keys expensive). The open hour
   * and each idle hour close as with a total of 0: into the hourly ring, the peak's decay and the
   * profile; the EWMA moments decay exactly (mean qⁿm, variance qⁿ(v + m²(1 − qⁿ)), q = 1 − alpha).
   */
  private idle(lastMs: number, idleMinutes: number): void {
    let n = idleMinutes;
    const f = this.f64;
    const b = this.base;
    const g = this.f32;
    const c = 2 * b;
    const lastHour = Math.floor((lastMs + n * MINUTE_MS) / HOUR_MS);
    const hourIndex = g[c + HOUR_INDEX] as number;
    if (lastHour !== hourIndex) {
      // The open hour closes with the mean its last minute left (its profile ratio reads it).
      const inOpenHour = ((hourIndex + 1) * HOUR_MS - lastMs) / MINUTE_MS - 1;
      this.decayMoments(inOpenHour);
      n -= inOpenHour;
      this.closeHour(hourIndex);
      const idleHours = lastHour - hourIndex - 1;
      const seen = g[c + HOURS_SEEN] as number;
      // Every idle hour goes into the ring as 0; only the last HOURS_KEPT of them remain there.
      for (let h = Math.max(0, idleHours - HOURS_KEPT); h < idleHours; h++)
        this.u16[this.hoursAt + ((seen + h) % HOURS_KEPT)] = 0;
      g[c + HOURS_SEEN] = seen + idleHours;
      f[b + PEAK] = (f[b + PEAK] as number) * PEAK_DECAY_PER_HOUR ** idleHours;
      if (this.slots > 0 && (f[b + MEAN] as number) > 0) this.decayProfile(hourIndex + 1, idleHours);
      g[c + HOUR_INDEX] = lastHour;
      f[b + HOUR_TOTAL] = 0;
      g[c + HOUR_MAX_MINUTE] = 0;
    }
    this.decayMoments(n);
  }

  /** The EWMA's moments after `n` zeros, and the minutes learned. */
  private decayMoments(n: number): void {
    const f = this.f64;
    const b = this.base;
    const qn = (1 - this.alpha) ** n;
    const mean = f[b + MEAN] as number;
    f[b + MEAN] = mean * qn;
    f[b + VARIANCE] = qn * ((f[b + VARIANCE] as number) + mean * mean * (1 - qn));
    this.f32[2 * b + MINUTES] = (this.f32[2 * b + MINUTES] as number) + n;
  }

  /**
   * What closing `hours` empty hours from `firstHour` does to the profile: each one's slot × 0.7
   * (its ratio is 0). A slot reaches its fixed point within PROFILE_VISITS visits from any factor,
   * so only the last PROFILE_VISITS × slots hours need doing.
   */
  private decayProfile(firstHour: number, hours: number): void {
    const from = Math.max(firstHour, firstHour + hours - PROFILE_VISITS * this.slots);
    for (let hour = from; hour < firstHour + hours; hour++) {
      const at = this.profileAt + this.slotOf(hour * HOUR_MS);
      this.u16[at] = encodeFactor(0.7 * ((this.u16[at] as number) / PROFILE_SCALE));
    }
  }

  private learn(minuteStartMs: number, count: number): void {
    const f = this.f64;
    const b = this.base;
    const g = this.f32;
    const c = 2 * b;
    const hourIndex = Math.floor(minuteStartMs / HOUR_MS);
    if (hourIndex !== g[c + HOUR_INDEX]) {
      if ((g[c + HOUR_INDEX] as number) >= 0) this.closeHour(g[c + HOUR_INDEX] as number);
      g[c + HOUR_INDEX] = hourIndex;
      f[b + HOUR_TOTAL] = 0;
      g[c + HOUR_MAX_MINUTE] = 0;
    }
    f[b + HOUR_TOTAL] = (f[b + HOUR_TOTAL] as number) + count;
    if (count > (g[c + HOUR_MAX_MINUTE] as number)) g[c + HOUR_MAX_MINUTE] = count;
    // Winsorise once there is history: a burst moves the baseline only a little per minute.
    const mean = f[b + MEAN] as number;
    const variance = f[b + VARIANCE] as number;
    const minutes = g[c + MINUTES] as number;
    const sd = Math.sqrt(Math.max(variance, mean, 1));
    const x = minutes >= YOUNG_MINUTES ? Math.min(count, mean + 6 * sd) : count;
    const alpha = minutes < YOUNG_MINUTES ? 1 / (minutes + 1) : this.alpha;
    const delta = x - mean;
    f[b + MEAN] = mean + alpha * delta;
    f[b + VARIANCE] = (1 - alpha) * (variance + alpha * delta * delta);
    g[c + MINUTES] = minutes + 1;
  }

  private closeHour(hourIndex: number): void {
    const f = this.f64;
    const b = this.base;
    const g = this.f32;
    const c = 2 * b;
    const seen = g[c + HOURS_SEEN] as number;
    const hourTotal = f[b + HOUR_TOTAL] as number;
    this.u16[this.hoursAt + (seen % HOURS_KEPT)] = encodeHourTotal(hourTotal);
    g[c + HOURS_SEEN] = seen + 1;
    f[b + PEAK] = Math.max((f[b + PEAK] as number) * PEAK_DECAY_PER_HOUR, g[c + HOUR_MAX_MINUTE] as number);
    const mean = f[b + MEAN] as number;
    if (this.slots === 0 || mean <= 0) return;
    if (g[c + HAS_PROFILE] === 0) {
      this.u16.fill(PROFILE_SCALE, this.profileAt, this.profileAt + this.slots);
      g[c + HAS_PROFILE] = 1;
    }
    const at = this.profileAt + this.slotOf(hourIndex * HOUR_MS);
    const ratio = Math.min(10, hourTotal / 60 / Math.max(mean, 1e-3));
    // Each slot is seen once a day (or week): a fast per-slot EWMA learns the shape in a few cycles.
    this.u16[at] = encodeFactor(0.7 * ((this.u16[at] as number) / PROFILE_SCALE) + 0.3 * ratio);
  }

  /** The first `n` entries of the hourly ring (in ring order), decoded. */
  private hourTotals(n: number): number[] {
    const totals = new Array<number>(n);
    for (let i = 0; i < n; i++) totals[i] = decodeHourTotal(this.u16[this.hoursAt + i] as number);
    return totals;
  }

  private profileFactors(): number[] {
    const factors = new Array<number>(this.slots);
    for (let i = 0; i < this.slots; i++)
      factors[i] = (this.u16[this.profileAt + i] as number) / PROFILE_SCALE;
    return factors;
  }

  private slotOf(timeMs: number): number {
    const hour = Math.floor(timeMs / HOUR_MS);
    // 1970-01-01 was a Thursday; shift so slot 0 is Monday 00:00 UTC for hour-of-week.
    return this.slots === 168 ? (hour + 72) % 168 : hour % 24;
  }

  /** Robust hourly level: median of recent hourly totals, with MAD for its spread (cached per hour). */
  robustHourly(): { median: number; mad: number } | undefined {
    const g = this.f32;
    const c = 2 * this.base;
    const seen = g[c + HOURS_SEEN] as number;
    const n = Math.min(seen, HOURS_KEPT);
    if (n < 6) return undefined;
    if (g[c + ROBUST_AT] !== seen) {
      const values = this.hourTotals(n);
      g[c + ROBUST_MEDIAN] = median(values);
      g[c + ROBUST_MAD] = medianAbsoluteDeviation(values);
      g[c + ROBUST_AT] = seen;
    }
    return { median: g[c + ROBUST_MEDIAN] as number, mad: g[c + ROBUST_MAD] as number };
  }

  expectationAt(timeMs: number): Expectation {
    const mean = this.mean;
    let perMinute = mean;
    const robust = this.robustHourly();
    if (robust) perMinute = Math.max(perMinute, robust.median / 60);
    const hasProfile = this.f32[2 * this.base + HAS_PROFILE] === 1;
    const seasonal = hasProfile && this.hoursSeen >= (this.slots === 168 ? 168 * 2 : 24);
    if (seasonal) {
      // Never let a quiet slot drop the expectation below a fifth of the mean, nor a busy one
      // raise it above five times: the profile refines, it does not decide.
      const factor = Math.min(
        5,
        Math.max(0.2, (this.u16[this.profileAt + this.slotOf(timeMs)] as number) / PROFILE_SCALE),
      );
      perMinute = Math.max(perMinute * factor, mean * 0.2);
    }
    const sdPerMinute = Math.sqrt(Math.max(this.variance, perMinute));
    return { perMinute, sdPerMinute, mature: this.minutes >= 60 };
  }

  /** The learned state, for snapshots (RateTracker's toJSON nests it). */
  baselineState(): RateBaselineState {
    return {
      mean: this.mean,
      variance: this.variance,
      minutes: this.minutes,
      hourTotal: this.f64[this.base + HOUR_TOTAL] as number,
      hourIndex: this.f32[2 * this.base + HOUR_INDEX] as number,
      hours: this.hourTotals(HOURS_KEPT),
      hoursSeen: this.hoursSeen,
      profile: this.f32[2 * this.base + HAS_PROFILE] === 1 ? this.profileFactors() : null,
      peakPerMinute: this.peakPerMinute,
      hourMaxMinute: this.f32[2 * this.base + HOUR_MAX_MINUTE] as number,
    };
  }

  restoreBaseline(state: RateBaselineState): void {
    const f = this.f64;
    const b = this.base;
    const g = this.f32;
    const c = 2 * b;
    f[b + MEAN] = state.mean;
    f[b + VARIANCE] = state.variance;
    g[c + MINUTES] = state.minutes;
    f[b + HOUR_TOTAL] = state.hourTotal;
    g[c + HOUR_INDEX] = state.hourIndex;
    for (let i = 0; i < HOURS_KEPT; i++) this.u16[this.hoursAt + i] = encodeHourTotal(state.hours[i] ?? 0);
    g[c + HOURS_SEEN] = state.hoursSeen;
    // A profile of another length (seasonality changed since the snapshot) is relearned.
    const restoreProfile = state.profile !== null && state.profile.length === this.slots && this.slots > 0;
    if (restoreProfile)
      (state.profile as number[]).forEach((factor, i) => {
        this.u16[this.profileAt + i] = encodeFactor(factor);
      });
    g[c + HAS_PROFILE] = restoreProfile ? 1 : 0;
    f[b + PEAK] = state.peakPerMinute;
    g[c + HOUR_MAX_MINUTE] = state.hourMaxMinute;
    g[c + ROBUST_AT] = -1;
  }
}
