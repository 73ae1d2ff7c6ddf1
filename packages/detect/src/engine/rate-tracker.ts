/**
 * Sliding-window counts for one key (short and medium windows on 10 s sub-buckets, the long window
 * on minute buckets) plus its learned baseline. Each closed minute feeds the baseline and refreshes
 * the cached thresholds, so the per-event path is: add, compare three sums with three numbers.
 */

import { RateBaseline, type RateBaselineState } from '../baseline/rate-baseline.ts';
import { windowThreshold } from '../baseline/thresholds.ts';
import type { VolumeThresholds } from '../config.ts';
import { BucketRing } from '../windows/bucket-ring.ts';

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

export class RateTracker {
  readonly fine: BucketRing;
  readonly coarse: BucketRing;
  readonly baseline: RateBaseline;
  /** Cached per window (short, medium, long): threshold, expected, sd — plain arrays of 3 numbers. */
  readonly threshold: number[] = [0, 0, 0];
  readonly expected: number[] = [0, 0, 0];
  readonly sd: number[] = [0, 0, 0];
  #thresholdMinute = -1;
  readonly #layout: WindowLayout;

  constructor(layout: WindowLayout, halfLifeMinutes: number, seasonalitySlots: 0 | 24 | 168) {
    this.#layout = layout;
    this.fine = new BucketRing(layout.fineBucketMs, layout.fineLength, [
      layout.shortBuckets,
      layout.fineLength,
    ]);
    this.coarse = new BucketRing(60_000, layout.coarseLength, [layout.coarseLength]);
    this.baseline = new RateBaseline(halfLifeMinutes, seasonalitySlots);
  }

  /** Counts one event; false when it is older than the windows keep. */
  add(timeMs: number, amount = 1): boolean {
    const minute = Math.floor(timeMs / 60_000);
    if (minute > this.coarse.head) {
      this.coarse.advance(minute, (closedMinute, count, zeros) =>
        this.baseline.observeMinute(closedMinute * 60_000, count, zeros),
      );
    }
    const inFine = this.fine.add(timeMs, amount);
    const inCoarse = this.coarse.add(timeMs, amount);
    return inFine || inCoarse;
  }

  /** Count of `window` ending at `timeMs` (advancing through idle minutes, which the baseline learns). */
  countAt(window: number, timeMs: number): number {
    this.add(timeMs, 0);
    return this.count(window);
  }

  count(window: number): number {
    return window === LONG ? this.coarse.sum(0) : this.fine.sum(window);
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
    const minute = Math.floor(timeMs / 60_000);
    if (minute === this.#thresholdMinute) return;
    this.#thresholdMinute = minute;
    const expectation = this.baseline.expectationAt(timeMs);
    if (!expectation.mature && prior !== undefined && prior > expectation.perMinute) {
      // A young key borrows its peers' typical rate so its first minutes are not all "spikes".
      expectation.perMinute = prior;
      expectation.sdPerMinute = Math.sqrt(Math.max(expectation.sdPerMinute ** 2, prior));
    }
    const floors = [volume.minCount1m, volume.minCount5m, volume.minCount1h];
    for (let w = 0; w < 3; w++) {
      const result = windowThreshold(
        expectation,
        this.#layout.windowMinutes[w] as number,
        floors[w] as number,
        volume,
        w === SHORT ? volume.minRatio1m : volume.minRatio,
      );
      this.threshold[w] = result.threshold;
      this.expected[w] = result.expected;
      this.sd[w] = result.sd;
    }
  }

  /** Invalidate cached thresholds (after a config change or restore). */
  invalidate(): void {
    this.#thresholdMinute = -1;
  }

  /**
   * Messages in the contiguous run of elevated fine buckets ending now, and when it started: the
   * anomaly's start as far as the windows can see.
   */
  elevatedRun(): { messages: number; startMs: number } {
    const perBucket = (this.expected[SHORT] as number) / this.#layout.shortBuckets;
    const bar = Math.max(1, perBucket * 2);
    let messages = 0;
    let age = 0;
    for (; age < this.fine.length; age++) {
      const count = this.fine.countAt(age);
      if (count <= bar) break;
      messages += count;
    }
    const startBucket = this.fine.head - Math.max(0, age - 1);
    return { messages, startMs: startBucket * this.fine.bucketMs };
  }

  toJSON(): RateTrackerState {
    return { fine: this.fine.toJSON(), coarse: this.coarse.toJSON(), baseline: this.baseline.toJSON() };
  }

  restore(state: RateTrackerState): void {
    this.fine.restore(state.fine);
    this.coarse.restore(state.coarse);
    this.baseline.restore(state.baseline);
    this.invalidate();
  }
}
