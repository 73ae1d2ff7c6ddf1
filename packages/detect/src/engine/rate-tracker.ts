/**
 * Sliding-window counts for one key (short and medium windows on 10 s sub-buckets, the long window
 * on 5-minute sub-buckets) plus its learned baseline, fed each closed minute's count from a
 * one-minute accumulator. Thresholds are cached per minute, so the per-event path is: add, compare
 * three sums with three numbers. All of it lives in one slab slot (tracker-slab.ts), laid out so an
 * event touches two 64-byte runs of it (see the offsets below; two cache lines when the slot starts
 * on one): the words every event reads and writes — ring heads, window sums, the open minute, the
 * owner's last event time — and the long window's ring first, the fine ring next; what changes once
 * a minute or less (cached thresholds, first event time, the baseline) after them. Counts are Uint16
 * buckets and Uint32 sums; a key whose bucket would pass 65,535 (6,553 events/s in 10 s, 218/s in 5
 * minutes), or that is given a fractional amount, moves its rings and sums beside the slab for good
 * (see wideRings). The rings behave exactly like BucketRing and the accumulator like a
 * one-bucket BucketRing (a property test pins the equivalence).
 */

import {
  type BaselineSettings,
  RateBaseline,
  type RateBaselineState,
  settingsFor,
} from '../baseline/rate-baseline.ts';
import { windowExpectation, windowThreshold } from '../baseline/thresholds.ts';
import type { VolumeThresholds } from '../config.ts';
import { BucketRing, regrid, ringSlot } from '../windows/bucket-ring.ts';
import { copyOut, ownSlot, type TrackerSlab } from './tracker-slab.ts';

export interface WindowLayout {
  fineBucketMs: number;
  fineLength: number;
  shortBuckets: number;
  /** Minutes in each of the short, medium and long windows. */
  windowMinutes: [number, number, number];
  /** Sub-bucket of the long window: whole minutes, about a twelfth of it (5 min for 1 h). */
  coarseBucketMs: number;
  coarseLength: number;
}

/** Sub-buckets the long window is cut into, at least: a twelfth of it late is as coarse as it gets. */
const LONG_WINDOW_BUCKETS = 12;

/**
 * The long window's sub-bucket: the largest whole number of minutes that divides it into at least
 * LONG_WINDOW_BUCKETS buckets (5 min for 1 h, 10 min for 2 h, 1 min for windows of under 24 min).
 */
export function coarseBucketMinutes(longMs: number): number {
  const minutes = longMs / 60_000;
  if (!Number.isInteger(minutes)) return 1;
  for (let d = Math.floor(minutes / LONG_WINDOW_BUCKETS); d > 1; d--) if (minutes % d === 0) return d;
  return 1;
}

export function windowLayout(windows: { short: number; medium: number; long: number }): WindowLayout {
  const fineBucketMs = Math.max(1_000, Math.floor(windows.short / 6));
  const shortBuckets = Math.max(1, Math.round(windows.short / fineBucketMs));
  const fineLength = Math.max(shortBuckets, Math.round(windows.medium / fineBucketMs));
  const coarseBucketMs = coarseBucketMinutes(windows.long) * 60_000;
  const coarseLength = Math.max(1, Math.round(windows.long / coarseBucketMs));
  return {
    fineBucketMs,
    fineLength,
    shortBuckets,
    windowMinutes: [windows.short / 60_000, windows.medium / 60_000, windows.long / 60_000],
    coarseBucketMs,
    coarseLength,
  };
}

export const SHORT = 0;
export const MEDIUM = 1;
export const LONG = 2;

export interface RateTrackerState {
  /** `bucketMs` is absent before it was written (its bucket then is today's layout's). */
  fine: { head: number; counts: number[]; bucketMs?: number };
  /** `bucketMs` is absent in snapshots of version 1, whose long window had minute buckets. */
  coarse: { head: number; counts: number[]; bucketMs?: number };
  /** The open minute and its count so far (absent in version 1: the minute ring's head held it). */
  minute?: { head: number; count: number };
  baseline: RateBaselineState;
  /**
   * The open minute's cached thresholds, when there are: [minute + 1, the three windows'
   * thresholds, the expected rate and spread they came from] (absent before snapshot version 5,
   * whose restore worked them out again mid-minute from the state and config at restore time).
   */
  thresholds?: number[];
}

// The slot, from its first word (`at`). The first 64 bytes, read and written by every event:
// Uint32 offsets (from 2 × at). Heads are absolute bucket (minute) indexes plus one, 0 for none:
// Uint32 holds them until 2106 for buckets of a second or more.
const FINE_HEAD = 0;
const COARSE_HEAD = 1;
const MINUTE_HEAD = 2;
/** The minute (plus one) the cached thresholds are for. */
const THRESHOLD_MINUTE = 3;
const FINE_SUM0 = 4;
const FINE_SUM1 = 5;
const COARSE_SUM = 6;
/** The open minute's count so far: what the baseline learns when it closes. */
const MINUTE_COUNT = 7;
/** Float64 word: last event time of the key that owns the tracker. */
const OWNER_LAST_SEEN = 4;
/** Uint16 offset (from 4 × at) of the long window's ring, which fills the rest of the 64 bytes. */
const COARSE_RING = 20;
const HOT_WORDS = 5;
/**
 * What the four counters hold once the tracker is wide: no narrow tracker reaches it (its sums are
 * at most 65,535 × the buckets of a window, and the open minute's count at most one 5-minute
 * bucket's; windows of fewer than 65,537 buckets — the defaults have 6, 30 and 12), so the words
 * every event reads tell both apart.
 */
const WIDE = 0xffffffff;
// Then the fine ring (Uint16).
// Then, read once a minute or less: Float32 cached thresholds of the three windows and the
// expectation they came from, the owner's first event time (Float64), and the baseline's words.
const THRESHOLD = 0;
const PER_MINUTE = 3;
const SD_PER_MINUTE = 4;
const COLD_F32_WORDS = 3;
const COLD_WORDS = COLD_F32_WORDS + 1;
/** The largest count a Uint16 bucket holds. */
const NARROW_MAX = 0xffff;

/**
 * Rings and sums of trackers that went wide (a bucket past 65,535, or a fractional amount), as
 * BucketRings (Float32 buckets, exact to 16.7 M each, and Float64 sums) and the open minute's count:
 * rare enough to live beside the slab rather than cost every key wider buckets. The slot's ring
 * heads, rings and counters are abandoned for the rest of the tracker's life (its open minute and
 * cached thresholds stay in the slot).
 */
interface WideState {
  fine: BucketRing;
  coarse: BucketRing;
  minuteCount: number;
}
const wideRings = new WeakMap<RateTracker, WideState>();
const MINUTE_MS = 60_000;

/** Words of the tracker's own part of a slot (before the baseline's). */
function ownWords(layout: WindowLayout): number {
  return HOT_WORDS + Math.ceil(layout.coarseLength / 4) + Math.ceil(layout.fineLength / 4) + COLD_WORDS;
}

/** Slot size in words for trackers of this layout and seasonality. */
export function trackerWords(layout: WindowLayout, seasonalitySlots: number): number {
  return ownWords(layout) + RateBaseline.words(seasonalitySlots);
}

/**
 * Where things sit in a slot and what the baseline learns with, shared by every tracker of one
 * configuration and slab: the tracker's only per-configuration field.
 */
interface TrackerShape extends BaselineSettings {
  layout: WindowLayout;
  /** The slab the slots come from; null for standalone trackers. */
  slab: TrackerSlab | null;
  /** Uint16 offset of the fine ring from 4 × the slot's first word. */
  fine: number;
  /** Float32 offset of the cold scalars from 2 × the slot's first word. */
  cold: number;
  /** Word offset of the owner's first event time. */
  firstSeen: number;
  /** Words of the tracker and its baseline (the slab's stride may be larger: see CountryState). */
  words: number;
}

/** Shapes by slab (or by layout, for standalone trackers), then by half-life and seasonality. */
const shapes = new WeakMap<object, Map<string, TrackerShape>>();

function shapeFor(
  layout: WindowLayout,
  halfLifeMinutes: number,
  seasonalitySlots: 0 | 24 | 168,
  slab: TrackerSlab | null,
): TrackerShape {
  const owner = slab ?? layout;
  let byConfig = shapes.get(owner);
  if (byConfig === undefined) {
    byConfig = new Map();
    shapes.set(owner, byConfig);
  }
  const key = `${halfLifeMinutes}/${seasonalitySlots}`;
  let shape = byConfig.get(key);
  if (shape === undefined || shape.layout !== layout) {
    const fineWord = HOT_WORDS + Math.ceil(layout.coarseLength / 4);
    const coldWord = fineWord + Math.ceil(layout.fineLength / 4);
    shape = {
      ...settingsFor(halfLifeMinutes, seasonalitySlots),
      layout,
      slab,
      fine: 4 * fineWord,
      cold: 2 * coldWord,
      firstSeen: coldWord + COLD_F32_WORDS,
      offset: ownWords(layout),
      words: trackerWords(layout, seasonalitySlots),
    };
    byConfig.set(key, shape);
  }
  return shape;
}

/**
 * The tracker is its own baseline (a subclass, not a field): one object per key instead of two,
 * ~64 bytes less per tracked key. Its helpers are TypeScript-private, not `#` (see RateBaseline).
 */
export class RateTracker extends RateBaseline {
  // The slot's page and first word (`at`) are the baseline's fields, the shape is its settings.

  /** With a slab, the tracker takes one of its slots; `release()` gives it back. */
  constructor(
    layout: WindowLayout,
    halfLifeMinutes: number,
    seasonalitySlots: 0 | 24 | 168,
    slab?: TrackerSlab,
  ) {
    const shape = shapeFor(layout, halfLifeMinutes, seasonalitySlots, slab ?? null);
    if (slab && slab.stride < shape.words)
      throw new RangeError(`slab stride ${slab.stride} < ${shape.words} words`);
    const slot = slab ? slab.allocate() : ownSlot(shape.words);
    super(halfLifeMinutes, seasonalitySlots, slot, shape);
  }

  protected get u32(): Uint32Array {
    return this.v.u32;
  }

  /** Words the tracker occupies from `at`; a slab with a larger stride leaves the rest to the owner. */
  protected get trackerWords(): number {
    return this.shape.words;
  }

  /** The learned baseline: the tracker itself (kept as a name for readers of `rate.baseline.mean`). */
  get baseline(): RateBaseline {
    return this;
  }

  private get shape(): TrackerShape {
    return this.settings as TrackerShape;
  }

  /** Returns the slot to the slab; the tracker must not be used afterwards. */
  release(): void {
    wideRings.delete(this);
    this.shape.slab?.releaseAt(this.v.f64, this.at);
  }

  /** Uint16 index of the fine ring. */
  private get fineAt(): number {
    return 4 * this.at + this.shape.fine;
  }

  /** The rings and sums aside once the tracker is wide, else null (they are in the slot). */
  private get wide(): WideState | null {
    return this.v.u32[2 * this.at + MINUTE_COUNT] === WIDE ? (wideRings.get(this) as WideState) : null;
  }

  /** Moves the rings, sums and open minute's count out of the slot into BucketRings, for good. */
  private widen(): WideState {
    const layout = this.shape.layout;
    const state: WideState = {
      fine: new BucketRing(layout.fineBucketMs, layout.fineLength, [layout.shortBuckets, layout.fineLength]),
      coarse: new BucketRing(layout.coarseBucketMs, layout.coarseLength, [layout.coarseLength]),
      minuteCount: this.u32[2 * this.at + MINUTE_COUNT] as number,
    };
    const narrow = this.ringsState();
    state.fine.restore(narrow.fine);
    state.coarse.restore(narrow.coarse);
    wideRings.set(this, state);
    const a = 2 * this.at;
    this.v.u32.fill(WIDE, a + FINE_SUM0, a + MINUTE_COUNT + 1);
    return state;
  }

  /** The slot's rings as ring states (head −1 for none). */
  private ringsState(): {
    fine: { head: number; counts: number[] };
    coarse: { head: number; counts: number[] };
  } {
    const a = 2 * this.at;
    const layout = this.shape.layout;
    return {
      fine: {
        head: (this.u32[a + FINE_HEAD] as number) - 1,
        counts: copyOut(this.u16, this.fineAt, layout.fineLength),
      },
      coarse: {
        head: (this.u32[a + COARSE_HEAD] as number) - 1,
        counts: copyOut(this.u16, 4 * this.at + COARSE_RING, layout.coarseLength),
      },
    };
  }

  /** Counts one event; false when it is older than the windows keep. */
  add(timeMs: number, amount = 1): boolean {
    const v = this.v;
    const u = v.u32;
    const a = 2 * this.at;
    const minuteCount = u[a + MINUTE_COUNT] as number;
    if (minuteCount === WIDE || !(amount >= 0 && amount <= NARROW_MAX && Math.floor(amount) === amount))
      return this.addWide(timeMs, amount);
    u[a + MINUTE_COUNT] = this.countMinute(timeMs, minuteCount, amount);
    const layout = (this.settings as TrackerShape).layout;
    const coarseBucket = Math.floor(timeMs / layout.coarseBucketMs);
    if (coarseBucket + 1 > (u[a + COARSE_HEAD] as number)) this.advanceCoarse(coarseBucket);
    const bucket = Math.floor(timeMs / layout.fineBucketMs);
    if (bucket + 1 > (u[a + FINE_HEAD] as number)) this.advanceFine(bucket);
    const fineLength = layout.fineLength;
    const fineAge = (u[a + FINE_HEAD] as number) - 1 - bucket;
    const fineAt = fineAge < fineLength ? this.fineAt + ringSlot(bucket, fineLength) : -1;
    const coarseAge = (u[a + COARSE_HEAD] as number) - 1 - coarseBucket;
    const coarseAt =
      coarseAge < layout.coarseLength
        ? 2 * a + COARSE_RING + ringSlot(coarseBucket, layout.coarseLength)
        : -1;
    const u16 = v.u16;
    if (
      (fineAt >= 0 && (u16[fineAt] as number) + amount > NARROW_MAX) ||
      (coarseAt >= 0 && (u16[coarseAt] as number) + amount > NARROW_MAX)
    )
      return this.addRings(this.widen(), timeMs, amount);
    if (fineAt >= 0) {
      u16[fineAt] = (u16[fineAt] as number) + amount;
      if (fineAge < layout.shortBuckets) u[a + FINE_SUM0] = (u[a + FINE_SUM0] as number) + amount;
      u[a + FINE_SUM1] = (u[a + FINE_SUM1] as number) + amount;
    }
    // Coarse ring (one window: the whole ring); its head is already at `coarseBucket` or later.
    if (coarseAt < 0) return fineAt >= 0;
    u16[coarseAt] = (u16[coarseAt] as number) + amount;
    u[a + COARSE_SUM] = (u[a + COARSE_SUM] as number) + amount;
    return true;
  }

  /** `add` for a wide tracker, or one this amount makes wide (fractional, or past Uint16). */
  private addWide(timeMs: number, amount: number): boolean {
    const wide = this.wide ?? this.widen();
    wide.minuteCount = this.countMinute(timeMs, wide.minuteCount, amount);
    return this.addRings(wide, timeMs, amount);
  }

  /**
   * The open minute's count after an event of `amount` (`count` is it before): a later minute
   * closes the open one into the baseline (with the idle minutes between as zeros) and opens its
   * own; a late event for a minute already closed is in the windows but not learned.
   */
  private countMinute(timeMs: number, count: number, amount: number): number {
    const u = this.v.u32;
    const a = 2 * this.at;
    const minute = Math.floor(timeMs / MINUTE_MS);
    const openMinute = (u[a + MINUTE_HEAD] as number) - 1;
    if (minute === openMinute) return count + amount;
    if (minute < openMinute) return count;
    if (openMinute >= 0) this.observeMinute(openMinute * MINUTE_MS, count, minute - openMinute - 1);
    u[a + MINUTE_HEAD] = minute + 1;
    return amount;
  }

  /** The rings' part of `add` once the tracker is wide (the open minute is already counted). */
  private addRings(wide: WideState, timeMs: number, amount: number): boolean {
    const inFine = wide.fine.add(timeMs, amount);
    const inCoarse = wide.coarse.add(timeMs, amount);
    return inFine || inCoarse;
  }

  /** BucketRing.advance of the fine ring, which reports closed buckets to no one. */
  private advanceFine(bucket: number): void {
    const u = this.u32;
    const a = 2 * this.at;
    const head = (u[a + FINE_HEAD] as number) - 1;
    u[a + FINE_HEAD] = bucket + 1;
    if (head < 0) return;
    const layout = this.shape.layout;
    const length = layout.fineLength;
    const at = this.fineAt;
    const ring = this.u16;
    if (bucket - head > length) {
      ring.fill(0, at, at + length);
      u[a + FINE_SUM0] = 0;
      u[a + FINE_SUM1] = 0;
      return;
    }
    let sum0 = u[a + FINE_SUM0] as number;
    let sum1 = u[a + FINE_SUM1] as number;
    for (let next = head + 1; next <= bucket; next++) {
      sum0 -= ring[at + ringSlot(next - layout.shortBuckets, length)] as number;
      sum1 -= ring[at + ringSlot(next - length, length)] as number;
      ring[at + ringSlot(next, length)] = 0;
    }
    u[a + FINE_SUM0] = sum0;
    u[a + FINE_SUM1] = sum1;
  }

  /** BucketRing.advance of the long window's ring (which reports closed buckets to no one). */
  private advanceCoarse(bucket: number): void {
    const u = this.u32;
    const a = 2 * this.at;
    const head = (u[a + COARSE_HEAD] as number) - 1;
    u[a + COARSE_HEAD] = bucket + 1;
    if (head < 0) return;
    const length = this.shape.layout.coarseLength;
    const at = 4 * this.at + COARSE_RING;
    const ring = this.u16;
    if (bucket - head >= length) {
      ring.fill(0, at, at + length);
      u[a + COARSE_SUM] = 0;
      return;
    }
    let sum = u[a + COARSE_SUM] as number;
    for (let next = head + 1; next <= bucket; next++) {
      const slot = at + ringSlot(next, length);
      sum -= ring[slot] as number;
      ring[slot] = 0;
    }
    u[a + COARSE_SUM] = sum;
  }

  /**
   * Event times of the key the tracker belongs to, kept here so the per-event path reads and
   * writes the last one on a cache line it touches anyway (as object fields they are boxed doubles).
   * Not part of toJSON: the owner snapshots them.
   */
  get ownerFirstSeenMs(): number {
    return this.v.f64[this.at + this.shape.firstSeen] as number;
  }

  set ownerFirstSeenMs(timeMs: number) {
    this.v.f64[this.at + this.shape.firstSeen] = timeMs;
  }

  get ownerLastSeenMs(): number {
    return this.v.f64[this.at + OWNER_LAST_SEEN] as number;
  }

  set ownerLastSeenMs(timeMs: number) {
    this.v.f64[this.at + OWNER_LAST_SEEN] = timeMs;
  }

  /** Count of `window` ending at `timeMs` (advancing through idle minutes, which the baseline learns). */
  countAt(window: number, timeMs: number): number {
    this.add(timeMs, 0);
    return this.count(window);
  }

  /** Count of `window` (SHORT, MEDIUM, LONG: the three sums, in that order). */
  count(window: number): number {
    const sum = this.v.u32[2 * this.at + FINE_SUM0 + window] as number;
    return sum === WIDE ? this.wideCount(window) : sum;
  }

  private wideCount(window: number): number {
    const wide = wideRings.get(this) as WideState;
    return window === LONG ? wide.coarse.sum(0) : wide.fine.sum(window);
  }

  /** Cached threshold of `window` for the current minute (see refreshThresholds). */
  thresholdOf(window: number): number {
    return this.v.f32[2 * this.at + (this.settings as TrackerShape).cold + THRESHOLD + window] as number;
  }

  /** Expected count of `window` this minute, from the expectation the thresholds were refreshed with. */
  expectedOf(window: number): number {
    return this.windowExpectation(window).expected;
  }

  /**
   * Expected count of `window` at `timeMs`, working the minute's thresholds out first when they
   * are not yet (what `expectedOf` reads is cached only once a volume check has needed it: a key
   * below the volume floors read an expectation of 0, or of the minute it last had one).
   */
  expectedAt(
    window: number,
    timeMs: number,
    volume: Parameters<RateTracker['refreshThresholds']>[1],
    prior?: number,
  ): number {
    if (!this.thresholdsCurrent(timeMs)) this.refreshThresholds(timeMs, volume, prior);
    return this.expectedOf(window);
  }

  sdOf(window: number): number {
    return this.windowExpectation(window).sd;
  }

  private windowExpectation(window: number): { expected: number; sd: number } {
    const at = 2 * this.at + this.shape.cold;
    const minute = (this.u32[2 * this.at + THRESHOLD_MINUTE] as number) - 1;
    return windowExpectation(
      { perMinute: this.f32[at + PER_MINUTE] as number, sdPerMinute: this.f32[at + SD_PER_MINUTE] as number },
      this.windowMinutesAt(window, minute),
    );
  }

  /**
   * Minutes window `window` covers in `minute`: the long window spans its full buckets plus the
   * open one up to the end of this minute.
   */
  private windowMinutesAt(window: number, minute: number): number {
    const layout = this.shape.layout;
    if (window !== LONG || minute < 0) return layout.windowMinutes[window] as number;
    const bucketMinutes = layout.coarseBucketMs / MINUTE_MS;
    return Math.min(
      layout.windowMinutes[LONG],
      (layout.coarseLength - 1) * bucketMinutes + (minute % bucketMinutes) + 1,
    );
  }

  /** Whether the cached thresholds are `timeMs`'s minute's (refreshThresholds would return at once). */
  thresholdsCurrent(timeMs: number): boolean {
    return Math.floor(timeMs / MINUTE_MS) + 1 === this.v.u32[2 * this.at + THRESHOLD_MINUTE];
  }

  /** Thresholds for the current minute (recomputed once per minute per key). */
  refreshThresholds(
    timeMs: number,
    volume: Pick<
      VolumeThresholds,
      'minRatio' | 'minRatio1m' | 'zScore' | 'poissonTail' | 'minCount1m' | 'minCount5m' | 'minCount1h'
    >,
    prior?: number,
  ): void {
    if (this.thresholdsCurrent(timeMs)) return;
    const minute = Math.floor(timeMs / MINUTE_MS);
    this.u32[2 * this.at + THRESHOLD_MINUTE] = minute + 1;
    const expectation = this.baseline.expectationAt(timeMs);
    if (!expectation.mature && prior !== undefined && prior > expectation.perMinute) {
      // A young key borrows its peers' typical rate so its first minutes are not all "spikes".
      expectation.perMinute = prior;
      expectation.sdPerMinute = Math.sqrt(Math.max(expectation.sdPerMinute ** 2, prior));
    }
    // Kept as Float32, and the thresholds and evidence are worked out from what was kept, so a
    // detection's expected count is the one its threshold came from.
    const at = 2 * this.at + this.shape.cold;
    this.f32[at + PER_MINUTE] = expectation.perMinute;
    this.f32[at + SD_PER_MINUTE] = expectation.sdPerMinute;
    expectation.perMinute = this.f32[at + PER_MINUTE] as number;
    expectation.sdPerMinute = this.f32[at + SD_PER_MINUTE] as number;
    for (let w = 0; w < 3; w++) {
      const result = windowThreshold(
        expectation,
        this.windowMinutesAt(w, minute),
        w === SHORT ? volume.minCount1m : w === MEDIUM ? volume.minCount5m : volume.minCount1h,
        volume,
        w === SHORT ? volume.minRatio1m : volume.minRatio,
      );
      this.f32[at + THRESHOLD + w] = float32AtLeast(result.threshold);
    }
  }

  /** Invalidate cached thresholds (after a config change or restore). */
  invalidate(): void {
    this.u32[2 * this.at + THRESHOLD_MINUTE] = 0;
  }

  /** Count of the fine bucket `age` buckets before the newest (0 = newest). */
  fineCountAt(age: number): number {
    const wide = this.wide;
    if (wide !== null) return wide.fine.countAt(age);
    const head = (this.u32[2 * this.at + FINE_HEAD] as number) - 1;
    const length = this.shape.layout.fineLength;
    if (age < 0 || age >= length || head < 0) return 0;
    return this.u16[this.fineAt + ringSlot(head - age, length)] as number;
  }

  /**
   * Messages in the contiguous run of elevated fine buckets ending now, and when it started: the
   * anomaly's start as far as the windows can see.
   */
  elevatedRun(): { messages: number; startMs: number } {
    const layout = this.shape.layout;
    const perBucket = this.expectedOf(SHORT) / layout.shortBuckets;
    const bar = Math.max(1, perBucket * 2);
    let messages = 0;
    let age = 0;
    for (; age < layout.fineLength; age++) {
      const count = this.fineCountAt(age);
      if (count <= bar) break;
      messages += count;
    }
    const head = this.wide?.fine.head ?? (this.u32[2 * this.at + FINE_HEAD] as number) - 1;
    const startBucket = head - Math.max(0, age - 1);
    return { messages, startMs: startBucket * layout.fineBucketMs };
  }

  toJSON(): RateTrackerState {
    const wide = this.wide;
    const rings =
      wide === null ? this.ringsState() : { fine: wide.fine.toJSON(), coarse: wide.coarse.toJSON() };
    const a = 2 * this.at;
    return {
      // Both rings say their bucket size, so a restore under other window settings regrids them.
      fine: { ...rings.fine, bucketMs: this.shape.layout.fineBucketMs },
      coarse: { ...rings.coarse, bucketMs: this.shape.layout.coarseBucketMs },
      minute: {
        head: (this.u32[a + MINUTE_HEAD] as number) - 1,
        count: wide === null ? (this.u32[a + MINUTE_COUNT] as number) : wide.minuteCount,
      },
      baseline: this.baselineState(),
      ...this.thresholdsState(),
    };
  }

  private thresholdsState(): { thresholds?: number[] } {
    const minute = this.u32[2 * this.at + THRESHOLD_MINUTE] as number;
    if (minute === 0) return {};
    const at = 2 * this.at + this.shape.cold;
    const f = this.f32;
    return {
      thresholds: [
        minute,
        f[at + THRESHOLD] as number,
        f[at + THRESHOLD + 1] as number,
        f[at + THRESHOLD + 2] as number,
        f[at + PER_MINUTE] as number,
        f[at + SD_PER_MINUTE] as number,
      ],
    };
  }

  restore(state: RateTrackerState): void {
    const layout = this.shape.layout;
    const u = this.u32;
    const a = 2 * this.at;
    const fine = regrid(
      state.fine,
      state.fine.bucketMs ?? layout.fineBucketMs,
      layout.fineBucketMs,
      layout.fineLength,
    );
    // Version 1 kept the long window in minute buckets, whose head was also the open minute.
    const coarse = regrid(
      state.coarse,
      state.coarse.bucketMs ?? MINUTE_MS,
      layout.coarseBucketMs,
      layout.coarseLength,
    );
    const minute = state.minute ?? {
      head: state.coarse.head,
      count:
        state.coarse.head >= 0
          ? (state.coarse.counts[ringSlot(state.coarse.head, state.coarse.counts.length)] ?? 0)
          : 0,
    };
    u[a + MINUTE_HEAD] = minute.head + 1;
    const fits = (count: number) => count >= 0 && count <= NARROW_MAX && Math.floor(count) === count;
    if (this.wide === null && fine.counts.every(fits) && coarse.counts.every(fits) && fits(minute.count)) {
      u[a + FINE_HEAD] = fine.head + 1;
      u[a + COARSE_HEAD] = coarse.head + 1;
      u[a + MINUTE_COUNT] = minute.count;
      this.u16.set(fine.counts, this.fineAt);
      this.u16.set(coarse.counts, 4 * this.at + COARSE_RING);
      // Sums are recomputed from the buckets, as BucketRing.restore does.
      let sum0 = 0;
      let sum1 = 0;
      let coarseSum = 0;
      if (fine.head >= 0) {
        for (let age = 0; age < layout.shortBuckets; age++) sum0 += this.fineCountAt(age);
        for (let age = 0; age < layout.fineLength; age++) sum1 += this.fineCountAt(age);
      }
      for (const count of coarse.counts) coarseSum += count;
      u[a + FINE_SUM0] = sum0;
      u[a + FINE_SUM1] = sum1;
      u[a + COARSE_SUM] = coarseSum;
    } else {
      const wide = this.wide ?? this.widen();
      wide.fine.restore(fine);
      wide.coarse.restore(coarse);
      wide.minuteCount = minute.count;
    }
    this.restoreBaseline(state.baseline);
    // The cached thresholds come back as they were (worked out again mid-minute they could differ:
    // the prior and the overrides of the event that refreshes them are today's). Whoever restores
    // with a different config invalidates them.
    // A non-finite value (JSON writes it as null) is worked out again rather than guessed.
    const cached = state.thresholds;
    if (cached === undefined || cached.length !== 6 || !cached.every(Number.isFinite)) {
      this.invalidate();
      return;
    }
    u[a + THRESHOLD_MINUTE] = cached[0] as number;
    const at = a + this.shape.cold;
    for (let i = 0; i < 3; i++) this.f32[at + THRESHOLD + i] = cached[1 + i] as number;
    this.f32[at + PER_MINUTE] = cached[4] as number;
    this.f32[at + SD_PER_MINUTE] = cached[5] as number;
  }
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * The smallest Float32 not below `x`: a threshold stored as Float32 never lets a count fire that
 * the computed threshold would not (rounding to nearest could land just below it).
 */
export function float32AtLeast(x: number): number {
  const rounded = Math.fround(x);
  if (rounded >= x || Number.isNaN(x)) return rounded;
  f32Scratch[0] = rounded;
  // One unit in the last place up: larger bits for a positive value, smaller for a negative one.
  u32Scratch[0] = (u32Scratch[0] as number) + (rounded > 0 || Object.is(rounded, 0) ? 1 : -1);
  return f32Scratch[0] as number;
}
