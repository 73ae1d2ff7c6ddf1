/**
 * Sliding-window counts for one key (short and medium windows on 10 s sub-buckets, the long window
 * on 5-minute sub-buckets) plus its learned baseline, fed each closed minute's count from a
 * one-minute accumulator. Thresholds are cached per minute, so the per-event path is: add, compare
 * three sums with three numbers. All of it lives in one slab slot (tracker-slab.ts) — baseline,
 * ring heads and sums, cached thresholds, then the long window's Float32 ring and the fine ring as
 * Uint16 (a key past 65,535 events in one 10-second bucket moves its fine ring to Float64 beside
 * the slab, see wideRings) — so an event touches a few adjacent cache lines. The rings behave
 * exactly like BucketRing and the accumulator like a one-bucket BucketRing (a property test pins
 * the equivalence).
 */

import {
  type BaselineSettings,
  RateBaseline,
  type RateBaselineState,
  settingsFor,
} from '../baseline/rate-baseline.ts';
import { windowThreshold } from '../baseline/thresholds.ts';
import type { VolumeThresholds } from '../config.ts';
import { regrid, ringSlot } from '../windows/bucket-ring.ts';
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
  fine: { head: number; counts: number[] };
  /** `bucketMs` is absent in snapshots of version 1, whose long window had minute buckets. */
  coarse: { head: number; counts: number[]; bucketMs?: number };
  /** The open minute and its count so far (absent in version 1: the minute ring's head held it). */
  minute?: { head: number; count: number };
  baseline: RateBaselineState;
}

// Word offsets of the tracker's scalars, after the baseline's words.
const FINE_HEAD = 0;
const FINE_SUM0 = 1;
const FINE_SUM1 = 2;
const COARSE_HEAD = 3;
const COARSE_SUM = 4;
/** First and last event time of the key that owns the tracker (beside the words every event touches). */
const OWNER_LAST_SEEN = 5;
const OWNER_FIRST_SEEN = 6;
const THRESHOLD_MINUTE = 7;
/** The open minute (absolute index) and its count: what the baseline learns when it closes. */
const MINUTE_HEAD = 8;
const MINUTE_COUNT = 9;
// Float32 offsets (from 2 × the scalars' word) of the cached thresholds, expected counts and
// standard deviations of the three windows: recomputed every minute, compared with integer counts.
const THRESHOLD = 20;
const EXPECTED = 23;
const SD = 26;
/** Float32 flag: 1 once a fine bucket outgrew Uint16 and the fine ring moved to `wideRings`. */
const WIDE = 29;
const SCALAR_WORDS = 15;
/** The largest count a Uint16 fine bucket holds (and its bit mask). */
const NARROW_MAX = 0xffff;

/**
 * Fine rings of trackers whose 10-second bucket passed 65,535 events (6,553/s on one key), as
 * Float64: the slot's Uint16 ring is abandoned for the rest of the tracker's life. Rare enough to
 * live beside the slab rather than cost every key two more bytes per bucket (60 B per key).
 */
const wideRings = new WeakMap<RateTracker, Float64Array>();
const MINUTE_MS = 60_000;

/** Slot size in words for trackers of this layout and seasonality. */
export function trackerWords(layout: WindowLayout, seasonalitySlots: number): number {
  return (
    RateBaseline.words(seasonalitySlots) +
    SCALAR_WORDS +
    Math.ceil(layout.coarseLength / 2) +
    Math.ceil(layout.fineLength / 4)
  );
}

/**
 * Where things sit in a slot and what the baseline learns with, shared by every tracker of one
 * configuration and slab: the tracker's only per-configuration field.
 */
interface TrackerShape extends BaselineSettings {
  layout: WindowLayout;
  /** The slab the slots come from; null for standalone trackers. */
  slab: TrackerSlab | null;
  /** Word offset of the tracker scalars from the slot base (the baseline comes first). */
  scalars: number;
  /** Uint16 offset of the fine ring from the scalars' word index × 4. */
  fine: number;
  /** Float32 offset of the coarse ring from the scalars' word index × 2. */
  coarse: number;
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
    const coarse = 2 * SCALAR_WORDS;
    shape = {
      ...settingsFor(halfLifeMinutes, seasonalitySlots),
      layout,
      slab,
      scalars: RateBaseline.words(seasonalitySlots),
      fine: 4 * (SCALAR_WORDS + Math.ceil(layout.coarseLength / 2)),
      coarse,
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
  // The slot views and base are the baseline's, the shape is its settings.
  /** Word index of the scalars (a field: as a getter, bench:detect rate path read 86–104 k events/s, not 106–117 k). */
  readonly #s: number;

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
    this.#s = slot.base + shape.scalars;
    this.f64[this.#s + FINE_HEAD] = -1;
    this.f64[this.#s + COARSE_HEAD] = -1;
    this.f64[this.#s + MINUTE_HEAD] = -1;
    this.f64[this.#s + THRESHOLD_MINUTE] = -1;
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
    this.shape.slab?.releaseAt(this.f64, this.base);
  }

  /** Uint16 index of the fine ring (while the tracker is not wide). */
  private get fineAt(): number {
    return 4 * this.#s + this.shape.fine;
  }

  /** The fine ring as Float64 once a bucket outgrew Uint16, else null (the ring is in the slot). */
  private get wideRing(): Float64Array | null {
    return this.f32[2 * this.#s + WIDE] === 0 ? null : (wideRings.get(this) as Float64Array);
  }

  /** Moves the fine ring out of the slot into a Float64 ring of its own, for good. */
  private widen(): Float64Array {
    const ring = new Float64Array(this.fineLength);
    for (let i = 0; i < ring.length; i++) ring[i] = this.u16[this.fineAt + i] as number;
    wideRings.set(this, ring);
    this.f32[2 * this.#s + WIDE] = 1;
    return ring;
  }

  /** Fine bucket at ring position `i`. */
  private fineBucket(i: number): number {
    const wide = this.wideRing;
    return (wide === null ? this.u16[this.fineAt + i] : wide[i]) as number;
  }

  private get coarseAt(): number {
    return 2 * this.#s + this.shape.coarse;
  }

  private get fineLength(): number {
    return this.shape.layout.fineLength;
  }

  private get coarseLength(): number {
    return this.shape.layout.coarseLength;
  }

  private get shortBuckets(): number {
    return this.shape.layout.shortBuckets;
  }

  private get fineBucketMs(): number {
    return this.shape.layout.fineBucketMs;
  }

  private get coarseBucketMs(): number {
    return this.shape.layout.coarseBucketMs;
  }

  /** Counts one event; false when it is older than the windows keep. */
  add(timeMs: number, amount = 1): boolean {
    const f = this.f64;
    const s = this.#s;
    // The open minute: a later one closes it into the baseline (with the idle minutes between as
    // zeros); a late event for a minute already closed is in the windows but not learned.
    const minute = Math.floor(timeMs / MINUTE_MS);
    const openMinute = f[s + MINUTE_HEAD] as number;
    if (minute === openMinute) f[s + MINUTE_COUNT] = (f[s + MINUTE_COUNT] as number) + amount;
    else if (minute > openMinute) {
      if (openMinute >= 0)
        this.observeMinute(openMinute * MINUTE_MS, f[s + MINUTE_COUNT] as number, minute - openMinute - 1);
      f[s + MINUTE_HEAD] = minute;
      f[s + MINUTE_COUNT] = amount;
    }
    const coarseBucket = Math.floor(timeMs / this.coarseBucketMs);
    if (coarseBucket > (f[s + COARSE_HEAD] as number)) this.advanceCoarse(coarseBucket);
    // Fine ring (two windows: short, and the whole ring).
    const bucket = Math.floor(timeMs / this.fineBucketMs);
    if (bucket > (f[s + FINE_HEAD] as number)) this.advanceFine(bucket);
    const fineAge = (f[s + FINE_HEAD] as number) - bucket;
    let inFine = false;
    if (fineAge < this.fineLength) {
      const i = ringSlot(bucket, this.fineLength);
      if (this.f32[2 * s + WIDE] === 0) {
        const at = this.fineAt + i;
        const count = (this.u16[at] as number) + amount;
        // Whole and within Uint16 (production adds 1 per event; the API takes any amount).
        if ((count & NARROW_MAX) === count) this.u16[at] = count;
        else {
          const wide = this.widen();
          wide[i] = count;
        }
      } else {
        const wide = wideRings.get(this) as Float64Array;
        wide[i] = (wide[i] as number) + amount;
      }
      if (fineAge < this.shortBuckets) f[s + FINE_SUM0] = (f[s + FINE_SUM0] as number) + amount;
      if (fineAge < this.fineLength) f[s + FINE_SUM1] = (f[s + FINE_SUM1] as number) + amount;
      inFine = true;
    }
    // Coarse ring (one window: the whole ring); its head is already at `coarseBucket` or later.
    const coarseAge = (f[s + COARSE_HEAD] as number) - coarseBucket;
    if (coarseAge >= this.coarseLength) return inFine;
    const at = this.coarseAt + ringSlot(coarseBucket, this.coarseLength);
    this.f32[at] = (this.f32[at] as number) + amount;
    f[s + COARSE_SUM] = (f[s + COARSE_SUM] as number) + amount;
    return true;
  }

  /** BucketRing.advance of the fine ring, which reports closed buckets to no one. */
  private advanceFine(bucket: number): void {
    const f = this.f64;
    const s = this.#s;
    const head = f[s + FINE_HEAD] as number;
    if (head < 0) {
      f[s + FINE_HEAD] = bucket;
      return;
    }
    const length = this.fineLength;
    // The ring and where it starts in it: the slot's Uint16s, or the Float64 ring of a wide tracker.
    const wide = this.wideRing;
    const ring = wide ?? this.u16;
    const at = wide === null ? this.fineAt : 0;
    if (bucket - head > length) {
      ring.fill(0, at, at + length);
      f[s + FINE_SUM0] = 0;
      f[s + FINE_SUM1] = 0;
      f[s + FINE_HEAD] = bucket;
      return;
    }
    let sum0 = f[s + FINE_SUM0] as number;
    let sum1 = f[s + FINE_SUM1] as number;
    for (let next = head + 1; next <= bucket; next++) {
      sum0 -= ring[at + ringSlot(next - this.shortBuckets, length)] as number;
      sum1 -= ring[at + ringSlot(next - length, length)] as number;
      ring[at + ringSlot(next, length)] = 0;
    }
    f[s + FINE_SUM0] = sum0;
    f[s + FINE_SUM1] = sum1;
    f[s + FINE_HEAD] = bucket;
  }

  /** BucketRing.advance of the long window's ring (which reports closed buckets to no one). */
  private advanceCoarse(bucket: number): void {
    const f = this.f64;
    const s = this.#s;
    const head = f[s + COARSE_HEAD] as number;
    if (head < 0) {
      f[s + COARSE_HEAD] = bucket;
      return;
    }
    const length = this.coarseLength;
    if (bucket - head >= length) {
      this.f32.fill(0, this.coarseAt, this.coarseAt + length);
      f[s + COARSE_SUM] = 0;
      f[s + COARSE_HEAD] = bucket;
      return;
    }
    let sum = f[s + COARSE_SUM] as number;
    for (let next = head + 1; next <= bucket; next++) {
      const at = this.coarseAt + ringSlot(next, length);
      sum -= this.f32[at] as number;
      this.f32[at] = 0;
    }
    f[s + COARSE_SUM] = sum;
    f[s + COARSE_HEAD] = bucket;
  }

  /**
   * Event times of the key the tracker belongs to, kept here so the per-event path reads and
   * writes them on a cache line it touches anyway (as object fields they are boxed doubles). Not
   * part of toJSON: the owner snapshots them.
   */
  get ownerFirstSeenMs(): number {
    return this.f64[this.#s + OWNER_FIRST_SEEN] as number;
  }

  set ownerFirstSeenMs(timeMs: number) {
    this.f64[this.#s + OWNER_FIRST_SEEN] = timeMs;
  }

  get ownerLastSeenMs(): number {
    return this.f64[this.#s + OWNER_LAST_SEEN] as number;
  }

  set ownerLastSeenMs(timeMs: number) {
    this.f64[this.#s + OWNER_LAST_SEEN] = timeMs;
  }

  /** Count of `window` ending at `timeMs` (advancing through idle minutes, which the baseline learns). */
  countAt(window: number, timeMs: number): number {
    this.add(timeMs, 0);
    return this.count(window);
  }

  count(window: number): number {
    const f = this.f64;
    if (window === LONG) return f[this.#s + COARSE_SUM] as number;
    return (window === SHORT ? f[this.#s + FINE_SUM0] : f[this.#s + FINE_SUM1]) as number;
  }

  /** Cached threshold of `window` for the current minute (see refreshThresholds). */
  thresholdOf(window: number): number {
    return this.f32[2 * this.#s + THRESHOLD + window] as number;
  }

  expectedOf(window: number): number {
    return this.f32[2 * this.#s + EXPECTED + window] as number;
  }

  sdOf(window: number): number {
    return this.f32[2 * this.#s + SD + window] as number;
  }

  /** Whether the cached thresholds are `timeMs`'s minute's (refreshThresholds would return at once). */
  thresholdsCurrent(timeMs: number): boolean {
    return Math.floor(timeMs / MINUTE_MS) === this.f64[this.#s + THRESHOLD_MINUTE];
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
    this.f64[this.#s + THRESHOLD_MINUTE] = minute;
    const expectation = this.baseline.expectationAt(timeMs);
    if (!expectation.mature && prior !== undefined && prior > expectation.perMinute) {
      // A young key borrows its peers' typical rate so its first minutes are not all "spikes".
      expectation.perMinute = prior;
      expectation.sdPerMinute = Math.sqrt(Math.max(expectation.sdPerMinute ** 2, prior));
    }
    const layout = this.shape.layout;
    // The long window spans its full buckets plus the open one up to the end of this minute.
    const bucketMinutes = layout.coarseBucketMs / MINUTE_MS;
    const longCovered = Math.min(
      layout.windowMinutes[LONG],
      (layout.coarseLength - 1) * bucketMinutes + (minute % bucketMinutes) + 1,
    );
    for (let w = 0; w < 3; w++) {
      const result = windowThreshold(
        expectation,
        w === LONG ? longCovered : (layout.windowMinutes[w] as number),
        w === SHORT ? volume.minCount1m : w === MEDIUM ? volume.minCount5m : volume.minCount1h,
        volume,
        w === SHORT ? volume.minRatio1m : volume.minRatio,
      );
      const at = 2 * this.#s;
      this.f32[at + THRESHOLD + w] = float32AtLeast(result.threshold);
      this.f32[at + EXPECTED + w] = result.expected;
      this.f32[at + SD + w] = result.sd;
    }
  }

  /** Invalidate cached thresholds (after a config change or restore). */
  invalidate(): void {
    this.f64[this.#s + THRESHOLD_MINUTE] = -1;
  }

  /** Count of the fine bucket `age` buckets before the newest (0 = newest). */
  fineCountAt(age: number): number {
    const head = this.f64[this.#s + FINE_HEAD] as number;
    if (age < 0 || age >= this.fineLength || head < 0) return 0;
    return this.fineBucket(ringSlot(head - age, this.fineLength));
  }

  /**
   * Messages in the contiguous run of elevated fine buckets ending now, and when it started: the
   * anomaly's start as far as the windows can see.
   */
  elevatedRun(): { messages: number; startMs: number } {
    const perBucket = this.expectedOf(SHORT) / this.shortBuckets;
    const bar = Math.max(1, perBucket * 2);
    let messages = 0;
    let age = 0;
    for (; age < this.fineLength; age++) {
      const count = this.fineCountAt(age);
      if (count <= bar) break;
      messages += count;
    }
    const startBucket = (this.f64[this.#s + FINE_HEAD] as number) - Math.max(0, age - 1);
    return { messages, startMs: startBucket * this.fineBucketMs };
  }

  toJSON(): RateTrackerState {
    return {
      fine: {
        head: this.f64[this.#s + FINE_HEAD] as number,
        counts: this.wideRing ? Array.from(this.wideRing) : copyOut(this.u16, this.fineAt, this.fineLength),
      },
      coarse: {
        head: this.f64[this.#s + COARSE_HEAD] as number,
        counts: copyOut(this.f32, this.coarseAt, this.coarseLength),
        bucketMs: this.coarseBucketMs,
      },
      minute: {
        head: this.f64[this.#s + MINUTE_HEAD] as number,
        count: this.f64[this.#s + MINUTE_COUNT] as number,
      },
      baseline: this.baselineState(),
    };
  }

  restore(state: RateTrackerState): void {
    const f = this.f64;
    const s = this.#s;
    f[s + FINE_HEAD] = state.fine.head;
    const fine = state.fine.counts.slice(0, this.fineLength);
    if (this.wideRing === null && fine.every((count) => (count & NARROW_MAX) === count))
      this.u16.set(fine, this.fineAt);
    else (this.wideRing ?? this.widen()).set(fine);
    // Version 1 kept the long window in minute buckets, whose head was also the open minute.
    const coarse = regrid(
      state.coarse,
      state.coarse.bucketMs ?? MINUTE_MS,
      this.coarseBucketMs,
      this.coarseLength,
    );
    f[s + COARSE_HEAD] = coarse.head;
    this.f32.set(coarse.counts, this.coarseAt);
    const minute = state.minute ?? {
      head: state.coarse.head,
      count:
        state.coarse.head >= 0
          ? (state.coarse.counts[ringSlot(state.coarse.head, state.coarse.counts.length)] ?? 0)
          : 0,
    };
    f[s + MINUTE_HEAD] = minute.head;
    f[s + MINUTE_COUNT] = minute.count;
    // Sums are recomputed from the buckets, as BucketRing.restore does.
    let sum0 = 0;
    let sum1 = 0;
    let coarseSum = 0;
    if (state.fine.head >= 0) {
      for (let age = 0; age < this.shortBuckets; age++) sum0 += this.fineCountAt(age);
      for (let age = 0; age < this.fineLength; age++) sum1 += this.fineCountAt(age);
    }
    for (const count of coarse.counts) coarseSum += count;
    f[s + FINE_SUM0] = sum0;
    f[s + FINE_SUM1] = sum1;
    f[s + COARSE_SUM] = coarseSum;
    this.restoreBaseline(state.baseline);
    this.invalidate();
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
