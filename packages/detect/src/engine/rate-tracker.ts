/**
 * Sliding-window counts for one key (short and medium windows on 10 s sub-buckets, the long window
 * on minute buckets) plus its learned baseline. Each closed minute feeds the baseline and refreshes
 * the cached thresholds, so the per-event path is: add, compare three sums with three numbers.
 * All of it lives in one slab slot (tracker-slab.ts) — baseline, ring heads and sums, cached
 * thresholds, then the two Float32 rings — so an event touches a few adjacent cache lines. The
 * rings behave exactly like BucketRing (a property test pins the equivalence).
 */

import { RateBaseline, type RateBaselineState } from '../baseline/rate-baseline.ts';
import { windowThreshold } from '../baseline/thresholds.ts';
import type { VolumeThresholds } from '../config.ts';
import { copyOut, ownSlot, type TrackerSlab } from './tracker-slab.ts';

export interface WindowLayout {
  fineBucketMs: number;
  fineLength: number;
  shortBuckets: number;
  /** Minutes in each of the short, medium and long windows. */
  windowMinutes: [number, number, number];
  coarseLength: number;
}

export function windowLayout(windows: { short: number; medium: number; long: number }): WindowLayout {
  const fineBucketMs = Math.max(1_000, Math.floor(windows.short / 6));
  const shortBuckets = Math.max(1, Math.round(windows.short / fineBucketMs));
  const fineLength = Math.max(shortBuckets, Math.round(windows.medium / fineBucketMs));
  const coarseLength = Math.max(1, Math.round(windows.long / 60_000));
  return {
    fineBucketMs,
    fineLength,
    shortBuckets,
    windowMinutes: [windows.short / 60_000, windows.medium / 60_000, windows.long / 60_000],
    coarseLength,
  };
}

export const SHORT = 0;
export const MEDIUM = 1;
export const LONG = 2;

export interface RateTrackerState {
  fine: { head: number; counts: number[] };
  coarse: { head: number; counts: number[] };
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
const THRESHOLD = 8;
const EXPECTED = 11;
const SD = 14;
const SCALAR_WORDS = 17;
const MINUTE_MS = 60_000;

/** Slot size in words for trackers of this layout and seasonality. */
export function trackerWords(layout: WindowLayout, seasonalitySlots: number): number {
  return (
    RateBaseline.words(seasonalitySlots) +
    SCALAR_WORDS +
    Math.ceil(layout.fineLength / 2) +
    Math.ceil(layout.coarseLength / 2)
  );
}

/** Where things sit in a slot, shared by every tracker of one configuration. */
interface TrackerShape {
  layout: WindowLayout;
  /** Word offset of the tracker scalars from the slot base (the baseline comes first). */
  scalars: number;
  /** Float32 offsets of the fine and the coarse ring from the scalars' word index × 2. */
  fine: number;
  coarse: number;
  words: number;
}

const shapes = new WeakMap<WindowLayout, Map<number, TrackerShape>>();

function shapeFor(layout: WindowLayout, seasonalitySlots: number): TrackerShape {
  let bySlots = shapes.get(layout);
  if (bySlots === undefined) {
    bySlots = new Map();
    shapes.set(layout, bySlots);
  }
  let shape = bySlots.get(seasonalitySlots);
  if (shape === undefined) {
    const fine = 2 * SCALAR_WORDS;
    shape = {
      layout,
      scalars: RateBaseline.words(seasonalitySlots),
      fine,
      coarse: fine + 2 * Math.ceil(layout.fineLength / 2),
      words: trackerWords(layout, seasonalitySlots),
    };
    bySlots.set(seasonalitySlots, shape);
  }
  return shape;
}

export class RateTracker {
  readonly baseline: RateBaseline;
  readonly #shape: TrackerShape;
  readonly #f64: Float64Array;
  readonly #f32: Float32Array;
  /** Word index of the scalars. */
  readonly #s: number;
  /** The slab and slot id to release to; null for a standalone tracker. */
  readonly #slab: TrackerSlab | null;
  readonly #slotId: number;

  /** With a slab, the tracker takes one of its slots; `release()` gives it back. */
  constructor(
    layout: WindowLayout,
    halfLifeMinutes: number,
    seasonalitySlots: 0 | 24 | 168,
    slab?: TrackerSlab,
  ) {
    const shape = shapeFor(layout, seasonalitySlots);
    this.#shape = shape;
    if (slab && slab.stride < shape.words)
      throw new RangeError(`slab stride ${slab.stride} < ${shape.words} words`);
    const slot = slab ? slab.allocate() : ownSlot(shape.words);
    this.#slab = slab ?? null;
    this.#slotId = slot.id;
    this.#f64 = slot.f64;
    this.#f32 = slot.f32;
    this.baseline = new RateBaseline(halfLifeMinutes, seasonalitySlots, slot.f64, slot.f32, slot.base);
    this.#s = slot.base + shape.scalars;
    this.#f64[this.#s + FINE_HEAD] = -1;
    this.#f64[this.#s + COARSE_HEAD] = -1;
    this.#f64[this.#s + THRESHOLD_MINUTE] = -1;
  }

  /** Returns the slot to the slab; the tracker must not be used afterwards. */
  release(): void {
    this.#slab?.release(this.#f64, this.#slotId);
  }

  get #fine(): number {
    return 2 * this.#s + this.#shape.fine;
  }

  get #coarse(): number {
    return 2 * this.#s + this.#shape.coarse;
  }

  get #fineLength(): number {
    return this.#shape.layout.fineLength;
  }

  get #coarseLength(): number {
    return this.#shape.layout.coarseLength;
  }

  get #shortBuckets(): number {
    return this.#shape.layout.shortBuckets;
  }

  get #fineBucketMs(): number {
    return this.#shape.layout.fineBucketMs;
  }

  /** Counts one event; false when it is older than the windows keep. */
  add(timeMs: number, amount = 1): boolean {
    const f = this.#f64;
    const s = this.#s;
    const minute = Math.floor(timeMs / MINUTE_MS);
    if (minute > (f[s + COARSE_HEAD] as number)) this.#advanceCoarse(minute);
    // Fine ring (two windows: short, and the whole ring).
    const bucket = Math.floor(timeMs / this.#fineBucketMs);
    if (bucket > (f[s + FINE_HEAD] as number)) this.#advanceFine(bucket);
    const fineAge = (f[s + FINE_HEAD] as number) - bucket;
    let inFine = false;
    if (fineAge < this.#fineLength) {
      const at = this.#fine + ringSlot(bucket, this.#fineLength);
      this.#f32[at] = (this.#f32[at] as number) + amount;
      if (fineAge < this.#shortBuckets) f[s + FINE_SUM0] = (f[s + FINE_SUM0] as number) + amount;
      if (fineAge < this.#fineLength) f[s + FINE_SUM1] = (f[s + FINE_SUM1] as number) + amount;
      inFine = true;
    }
    // Coarse ring (one window: the whole ring); its head is already at `minute` or later.
    const coarseAge = (f[s + COARSE_HEAD] as number) - minute;
    if (coarseAge >= this.#coarseLength) return inFine;
    const at = this.#coarse + ringSlot(minute, this.#coarseLength);
    this.#f32[at] = (this.#f32[at] as number) + amount;
    f[s + COARSE_SUM] = (f[s + COARSE_SUM] as number) + amount;
    return true;
  }

  /** BucketRing.advance of the fine ring, which reports closed buckets to no one. */
  #advanceFine(bucket: number): void {
    const f = this.#f64;
    const s = this.#s;
    const head = f[s + FINE_HEAD] as number;
    if (head < 0) {
      f[s + FINE_HEAD] = bucket;
      return;
    }
    const length = this.#fineLength;
    if (bucket - head > length) {
      this.#f32.fill(0, this.#fine, this.#fine + length);
      f[s + FINE_SUM0] = 0;
      f[s + FINE_SUM1] = 0;
      f[s + FINE_HEAD] = bucket;
      return;
    }
    let sum0 = f[s + FINE_SUM0] as number;
    let sum1 = f[s + FINE_SUM1] as number;
    for (let next = head + 1; next <= bucket; next++) {
      sum0 -= this.#f32[this.#fine + ringSlot(next - this.#shortBuckets, length)] as number;
      sum1 -= this.#f32[this.#fine + ringSlot(next - length, length)] as number;
      this.#f32[this.#fine + ringSlot(next, length)] = 0;
    }
    f[s + FINE_SUM0] = sum0;
    f[s + FINE_SUM1] = sum1;
    f[s + FINE_HEAD] = bucket;
  }

  /**
   * BucketRing.advance of the minute ring, feeding every closed minute to the baseline exactly as
   * BucketRing reports it (after a gap longer than the ring: the ring's minutes, then the zeros).
   */
  #advanceCoarse(minute: number): void {
    const f = this.#f64;
    const s = this.#s;
    const head = f[s + COARSE_HEAD] as number;
    if (head < 0) {
      f[s + COARSE_HEAD] = minute;
      return;
    }
    const length = this.#coarseLength;
    const gap = minute - head;
    if (gap > length) {
      for (let b = head - length + 1; b <= head; b++) {
        if (b < 0) continue;
        this.baseline.observeMinute(
          b * MINUTE_MS,
          this.#f32[this.#coarse + ringSlot(b, length)] as number,
          0,
        );
      }
      this.baseline.observeMinute((head + length) * MINUTE_MS, 0, gap - length - 1);
      this.#f32.fill(0, this.#coarse, this.#coarse + length);
      f[s + COARSE_SUM] = 0;
      f[s + COARSE_HEAD] = minute;
      return;
    }
    for (let next = head + 1; next <= minute; next++) {
      this.baseline.observeMinute(
        (next - 1) * MINUTE_MS,
        this.#f32[this.#coarse + ringSlot(next - 1, length)] as number,
        0,
      );
      f[s + COARSE_SUM] =
        (f[s + COARSE_SUM] as number) - (this.#f32[this.#coarse + ringSlot(next - length, length)] as number);
      this.#f32[this.#coarse + ringSlot(next, length)] = 0;
      f[s + COARSE_HEAD] = next;
    }
  }

  /**
   * Event times of the key the tracker belongs to, kept here so the per-event path reads and
   * writes them on a cache line it touches anyway (as object fields they are boxed doubles). Not
   * part of toJSON: the owner snapshots them.
   */
  get ownerFirstSeenMs(): number {
    return this.#f64[this.#s + OWNER_FIRST_SEEN] as number;
  }

  set ownerFirstSeenMs(timeMs: number) {
    this.#f64[this.#s + OWNER_FIRST_SEEN] = timeMs;
  }

  get ownerLastSeenMs(): number {
    return this.#f64[this.#s + OWNER_LAST_SEEN] as number;
  }

  set ownerLastSeenMs(timeMs: number) {
    this.#f64[this.#s + OWNER_LAST_SEEN] = timeMs;
  }

  /** Count of `window` ending at `timeMs` (advancing through idle minutes, which the baseline learns). */
  countAt(window: number, timeMs: number): number {
    this.add(timeMs, 0);
    return this.count(window);
  }

  count(window: number): number {
    const f = this.#f64;
    if (window === LONG) return f[this.#s + COARSE_SUM] as number;
    return (window === SHORT ? f[this.#s + FINE_SUM0] : f[this.#s + FINE_SUM1]) as number;
  }

  /** Cached threshold of `window` for the current minute (see refreshThresholds). */
  thresholdOf(window: number): number {
    return this.#f64[this.#s + THRESHOLD + window] as number;
  }

  expectedOf(window: number): number {
    return this.#f64[this.#s + EXPECTED + window] as number;
  }

  sdOf(window: number): number {
    return this.#f64[this.#s + SD + window] as number;
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
    const minute = Math.floor(timeMs / MINUTE_MS);
    const f = this.#f64;
    if (minute === f[this.#s + THRESHOLD_MINUTE]) return;
    f[this.#s + THRESHOLD_MINUTE] = minute;
    const expectation = this.baseline.expectationAt(timeMs);
    if (!expectation.mature && prior !== undefined && prior > expectation.perMinute) {
      // A young key borrows its peers' typical rate so its first minutes are not all "spikes".
      expectation.perMinute = prior;
      expectation.sdPerMinute = Math.sqrt(Math.max(expectation.sdPerMinute ** 2, prior));
    }
    for (let w = 0; w < 3; w++) {
      const result = windowThreshold(
        expectation,
        this.#shape.layout.windowMinutes[w] as number,
        w === SHORT ? volume.minCount1m : w === MEDIUM ? volume.minCount5m : volume.minCount1h,
        volume,
        w === SHORT ? volume.minRatio1m : volume.minRatio,
      );
      f[this.#s + THRESHOLD + w] = result.threshold;
      f[this.#s + EXPECTED + w] = result.expected;
      f[this.#s + SD + w] = result.sd;
    }
  }

  /** Invalidate cached thresholds (after a config change or restore). */
  invalidate(): void {
    this.#f64[this.#s + THRESHOLD_MINUTE] = -1;
  }

  /** Count of the fine bucket `age` buckets before the newest (0 = newest). */
  fineCountAt(age: number): number {
    const head = this.#f64[this.#s + FINE_HEAD] as number;
    if (age < 0 || age >= this.#fineLength || head < 0) return 0;
    return this.#f32[this.#fine + ringSlot(head - age, this.#fineLength)] as number;
  }

  /**
   * Messages in the contiguous run of elevated fine buckets ending now, and when it started: the
   * anomaly's start as far as the windows can see.
   */
  elevatedRun(): { messages: number; startMs: number } {
    const perBucket = this.expectedOf(SHORT) / this.#shortBuckets;
    const bar = Math.max(1, perBucket * 2);
    let messages = 0;
    let age = 0;
    for (; age < this.#fineLength; age++) {
      const count = this.fineCountAt(age);
      if (count <= bar) break;
      messages += count;
    }
    const startBucket = (this.#f64[this.#s + FINE_HEAD] as number) - Math.max(0, age - 1);
    return { messages, startMs: startBucket * this.#fineBucketMs };
  }

  toJSON(): RateTrackerState {
    return {
      fine: {
        head: this.#f64[this.#s + FINE_HEAD] as number,
        counts: copyOut(this.#f32, this.#fine, this.#fineLength),
      },
      coarse: {
        head: this.#f64[this.#s + COARSE_HEAD] as number,
        counts: copyOut(this.#f32, this.#coarse, this.#coarseLength),
      },
      baseline: this.baseline.toJSON(),
    };
  }

  restore(state: RateTrackerState): void {
    const f = this.#f64;
    const s = this.#s;
    f[s + FINE_HEAD] = state.fine.head;
    this.#f32.set(state.fine.counts.slice(0, this.#fineLength), this.#fine);
    f[s + COARSE_HEAD] = state.coarse.head;
    this.#f32.set(state.coarse.counts.slice(0, this.#coarseLength), this.#coarse);
    // Sums are recomputed from the buckets, as BucketRing.restore does.
    let sum0 = 0;
    let sum1 = 0;
    let coarseSum = 0;
    if (state.fine.head >= 0) {
      for (let age = 0; age < this.#shortBuckets; age++) sum0 += this.fineCountAt(age);
      for (let age = 0; age < this.#fineLength; age++) sum1 += this.fineCountAt(age);
    }
    if (state.coarse.head >= 0) {
      for (let age = 0; age < this.#coarseLength; age++)
        coarseSum += this.#f32[
          this.#coarse + ringSlot(state.coarse.head - age, this.#coarseLength)
        ] as number;
    }
    f[s + FINE_SUM0] = sum0;
    f[s + FINE_SUM1] = sum1;
    f[s + COARSE_SUM] = coarseSum;
    this.baseline.restore(state.baseline);
    this.invalidate();
  }
}

function ringSlot(bucket: number, length: number): number {
  const s = bucket % length;
  return s < 0 ? s + length : s;
}
