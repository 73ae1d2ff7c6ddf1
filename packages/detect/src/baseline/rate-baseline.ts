/**
 * A key's learned send rate, fed one closed minute at a time: EWMA mean and variance of per-minute
 * counts (winsorised so a spike does not teach itself), a ring of hourly totals for a robust
 * median/MAD, an optional hour-of-day or hour-of-week profile once a day of history exists, and a
 * slowly decaying peak so an account's history of large blasts is remembered.
 */
import { median, medianAbsoluteDeviation } from 'simple-statistics';

const HOURS_KEPT = 48;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** Peak decays by half in about two weeks of hours. */
const PEAK_DECAY_PER_HOUR = 0.998;

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

export class RateBaseline {
  mean = 0;
  variance = 0;
  minutes = 0;
  #hourTotal = 0;
  #hourIndex = -1;
  #hourMaxMinute = 0;
  readonly #hours = new Float32Array(HOURS_KEPT);
  #hoursSeen = 0;
  /** Per slot, the ratio of that slot's rate to the mean rate (EWMA across days). */
  #profile: Float32Array | null = null;
  peakPerMinute = 0;
  #robustAt = -1;
  #robustMedian = 0;
  #robustMad = 0;
  readonly #alpha: number;
  readonly #slots: number;

  constructor(halfLifeMinutes: number, seasonalitySlots: 0 | 24 | 168) {
    this.#alpha = 1 - 2 ** (-1 / halfLifeMinutes);
    this.#slots = seasonalitySlots;
  }

  /** Learns one closed minute (its start time and count); `zeros` more idle minutes follow it. */
  observeMinute(minuteStartMs: number, count: number, zeros = 0): void {
    this.#learn(minuteStartMs, count);
    if (zeros <= 0) return;
    if (zeros <= 60) {
      for (let i = 1; i <= zeros; i++) this.#learn(minuteStartMs + i * MINUTE_MS, 0);
      return;
    }
    // A long idle stretch in closed form: zero hours into the hourly ring, the EWMA decayed as if
    // it had seen `zeros` empty minutes. Per-minute work here made reactivated keys expensive.
    const lastIdleMinuteMs = minuteStartMs + zeros * MINUTE_MS;
    const lastHour = Math.floor(lastIdleMinuteMs / HOUR_MS);
    if (lastHour !== this.#hourIndex) {
      this.#closeHour(this.#hourIndex);
      const idleHours = Math.min(lastHour - this.#hourIndex - 1, HOURS_KEPT);
      for (let h = 0; h < idleHours; h++) {
        this.#hours[this.#hoursSeen % HOURS_KEPT] = 0;
        this.#hoursSeen++;
      }
      this.#hourIndex = lastHour;
      this.#hourTotal = 0;
      this.#hourMaxMinute = 0;
    }
    const decay = (1 - this.#alpha) ** zeros;
    this.mean *= decay;
    this.variance *= decay;
    this.minutes += zeros;
  }

  #learn(minuteStartMs: number, count: number): void {
    const hourIndex = Math.floor(minuteStartMs / HOUR_MS);
    if (hourIndex !== this.#hourIndex) {
      if (this.#hourIndex >= 0) this.#closeHour(this.#hourIndex);
      this.#hourIndex = hourIndex;
      this.#hourTotal = 0;
      this.#hourMaxMinute = 0;
    }
    this.#hourTotal += count;
    if (count > this.#hourMaxMinute) this.#hourMaxMinute = count;
    // Winsorise once there is history: a burst moves the baseline only a little per minute.
    const sd = Math.sqrt(Math.max(this.variance, this.mean, 1));
    const x = this.minutes >= 30 ? Math.min(count, this.mean + 6 * sd) : count;
    const alpha = this.minutes < 30 ? 1 / (this.minutes + 1) : this.#alpha;
    const delta = x - this.mean;
    this.mean += alpha * delta;
    this.variance = (1 - alpha) * (this.variance + alpha * delta * delta);
    this.minutes++;
  }

  #closeHour(hourIndex: number): void {
    this.#hours[this.#hoursSeen % HOURS_KEPT] = this.#hourTotal;
    this.#hoursSeen++;
    this.peakPerMinute = Math.max(this.peakPerMinute * PEAK_DECAY_PER_HOUR, this.#hourMaxMinute);
    if (this.#slots === 0 || this.mean <= 0) return;
    this.#profile ??= new Float32Array(this.#slots).fill(1);
    const slot = this.#slot(hourIndex * HOUR_MS);
    const ratio = Math.min(10, this.#hourTotal / 60 / Math.max(this.mean, 1e-3));
    // Each slot is seen once a day (or week): a fast per-slot EWMA learns the shape in a few cycles.
    this.#profile[slot] = 0.7 * (this.#profile[slot] as number) + 0.3 * ratio;
  }

  #slot(timeMs: number): number {
    const hour = Math.floor(timeMs / HOUR_MS);
    // 1970-01-01 was a Thursday; shift so slot 0 is Monday 00:00 UTC for hour-of-week.
    return this.#slots === 168 ? (hour + 72) % 168 : hour % 24;
  }

  /** Robust hourly level: median of recent hourly totals, with MAD for its spread (cached per hour). */
  robustHourly(): { median: number; mad: number } | undefined {
    const n = Math.min(this.#hoursSeen, HOURS_KEPT);
    if (n < 6) return undefined;
    if (this.#robustAt !== this.#hoursSeen) {
      const values = Array.from(this.#hours.subarray(0, n));
      this.#robustMedian = median(values);
      this.#robustMad = medianAbsoluteDeviation(values);
      this.#robustAt = this.#hoursSeen;
    }
    return { median: this.#robustMedian, mad: this.#robustMad };
  }

  expectationAt(timeMs: number): Expectation {
    let perMinute = this.mean;
    const robust = this.robustHourly();
    if (robust) perMinute = Math.max(perMinute, robust.median / 60);
    const seasonal = this.#profile !== null && this.#hoursSeen >= (this.#slots === 168 ? 168 * 2 : 24);
    if (seasonal && this.#profile) {
      // Never let a quiet slot drop the expectation below a fifth of the mean, nor a busy one
      // raise it above five times: the profile refines, it does not decide.
      const factor = Math.min(5, Math.max(0.2, this.#profile[this.#slot(timeMs)] as number));
      perMinute = Math.max(perMinute * factor, this.mean * 0.2);
    }
    const sdPerMinute = Math.sqrt(Math.max(this.variance, perMinute));
    return { perMinute, sdPerMinute, mature: this.minutes >= 60 };
  }

  get hoursSeen(): number {
    return this.#hoursSeen;
  }

  toJSON(): RateBaselineState {
    return {
      mean: this.mean,
      variance: this.variance,
      minutes: this.minutes,
      hourTotal: this.#hourTotal,
      hourIndex: this.#hourIndex,
      hours: Array.from(this.#hours),
      hoursSeen: this.#hoursSeen,
      profile: this.#profile ? Array.from(this.#profile) : null,
      peakPerMinute: this.peakPerMinute,
      hourMaxMinute: this.#hourMaxMinute,
    };
  }

  restore(state: RateBaselineState): void {
    this.mean = state.mean;
    this.variance = state.variance;
    this.minutes = state.minutes;
    this.#hourTotal = state.hourTotal;
    this.#hourIndex = state.hourIndex;
    this.#hours.set(state.hours);
    this.#hoursSeen = state.hoursSeen;
    this.#profile = state.profile ? Float32Array.from(state.profile) : null;
    this.peakPerMinute = state.peakPerMinute;
    this.#hourMaxMinute = state.hourMaxMinute;
  }
}
