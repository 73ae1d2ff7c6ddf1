import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateBaseline } from '../baseline/rate-baseline.ts';
import { BucketRing } from '../windows/bucket-ring.ts';
import {
  coarseBucketMinutes,
  float32AtLeast,
  LONG,
  MEDIUM,
  RateTracker,
  SHORT,
  trackerWords,
  windowLayout,
} from './rate-tracker.ts';
import { TrackerSlab } from './tracker-slab.ts';

const layout = windowLayout({ short: 60_000, medium: 5 * 60_000, long: 60 * 60_000 });
const T0 = Date.UTC(2026, 10, 2);

/** The tracker as it was before slabs: two BucketRings feeding a baseline, the reference to match. */
class ReferenceTracker {
  readonly fine = new BucketRing(layout.fineBucketMs, layout.fineLength, [
    layout.shortBuckets,
    layout.fineLength,
  ]);
  readonly coarse = new BucketRing(layout.coarseBucketMs, layout.coarseLength, [layout.coarseLength]);
  /** The open minute: a one-bucket ring whose closed buckets the baseline learns. */
  readonly minute = new BucketRing(60_000, 1, [1]);
  readonly baseline = new RateBaseline(360, 24);

  add(timeMs: number, amount: number): boolean {
    this.minute.add(timeMs, amount, (m, count, zeros) =>
      this.baseline.observeMinute(m * 60_000, count, zeros),
    );
    const inFine = this.fine.add(timeMs, amount);
    const inCoarse = this.coarse.add(timeMs, amount);
    return inFine || inCoarse;
  }
}

/** Steps of event time: mostly small, some back in time (late events), some long idle gaps. */
const step = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: -400_000, max: 0 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 6 * 3_600_000 }) },
);

describe('RateTracker', () => {
  it('counts, learns and snapshots exactly like the BucketRing composition it replaced, slab or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(step, fc.constantFrom(0, 1, 1, 1, 3), fc.boolean()), { maxLength: 400 }),
        (events) => {
          const slab = new TrackerSlab(trackerWords(layout, 24));
          // Two trackers interleaved in one slab, and a released slot reused: neighbours must not leak.
          const scratch = new RateTracker(layout, 360, 24, slab);
          const slabbed = new RateTracker(layout, 360, 24, slab);
          scratch.add(T0 + 123_456, 9);
          scratch.release();
          const reused = new RateTracker(layout, 360, 24, slab);
          const standalone = new RateTracker(layout, 360, 24);
          const reference = new ReferenceTracker();
          let timeMs = T0;
          for (const [delta, amount, toReused] of events) {
            timeMs += delta;
            const expected = reference.add(timeMs, amount);
            expect(slabbed.add(timeMs, amount)).toBe(expected);
            expect(standalone.add(timeMs, amount)).toBe(expected);
            if (toReused) reused.add(timeMs + 1_000, 2);
            expect([slabbed.count(SHORT), slabbed.count(MEDIUM), slabbed.count(LONG)]).toEqual([
              reference.fine.sum(0),
              reference.fine.sum(1),
              reference.coarse.sum(0),
            ]);
          }
          const want = {
            fine: { ...reference.fine.toJSON(), bucketMs: layout.fineBucketMs },
            coarse: { ...reference.coarse.toJSON(), bucketMs: layout.coarseBucketMs },
            minute: { head: reference.minute.head, count: reference.minute.sum(0) },
            baseline: reference.baseline.baselineState(),
          };
          expect(slabbed.toJSON()).toEqual(want);
          expect(standalone.toJSON()).toEqual(want);
          const restored = new RateTracker(layout, 360, 24, slab);
          restored.restore(JSON.parse(JSON.stringify(slabbed.toJSON())));
          expect(restored.toJSON()).toEqual(want);
          expect([restored.count(SHORT), restored.count(MEDIUM), restored.count(LONG)]).toEqual([
            slabbed.count(SHORT),
            slabbed.count(MEDIUM),
            slabbed.count(LONG),
          ]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps exact counts past 65,535 in one 10-second bucket (Uint16 ring moved aside), through snapshots and slot reuse', () => {
    const slab = new TrackerSlab(trackerWords(layout, 24));
    const tracker = new RateTracker(layout, 360, 24, slab);
    const reference = new ReferenceTracker();
    let timeMs = T0;
    // A key at ~7,000 events/s, then fractional amounts (the API allows them), then quiet again.
    const steps: Array<[number, number]> = [
      [0, 60_000],
      [1_000, 10_000],
      [2_000, 0.5],
      [9_000, 65_535],
      [10_000, 3],
      [40_000, 1],
      [400_000, 2],
    ];
    for (const [delta, amount] of steps) {
      timeMs += delta;
      expect(tracker.add(timeMs, amount)).toBe(reference.add(timeMs, amount));
      expect([tracker.count(SHORT), tracker.count(MEDIUM), tracker.count(LONG)]).toEqual([
        reference.fine.sum(0),
        reference.fine.sum(1),
        reference.coarse.sum(0),
      ]);
    }
    expect(tracker.toJSON().fine).toEqual({ ...reference.fine.toJSON(), bucketMs: layout.fineBucketMs });
    expect(Math.max(...tracker.toJSON().fine.counts)).toBeLessThan(65_536); // the burst has left the ring
    // A state holding a wide bucket restores exactly.
    const burst = new RateTracker(layout, 360, 24, slab);
    burst.add(T0, 100_000);
    const restored = new RateTracker(layout, 360, 24, slab);
    restored.restore(JSON.parse(JSON.stringify(burst.toJSON())));
    expect(restored.toJSON()).toEqual(burst.toJSON());
    expect(restored.fineCountAt(0)).toBe(100_000);
    // A 5-minute bucket past 65,535 while every 10-second bucket stays far below it (300 events/s).
    const steady = new RateTracker(layout, 360, 24, slab);
    const steadyReference = new ReferenceTracker();
    const start = Math.ceil(T0 / layout.coarseBucketMs) * layout.coarseBucketMs;
    for (let i = 0; i < 28; i++) {
      const at = start + i * 10_000;
      expect(steady.add(at, 3_000)).toBe(steadyReference.add(at, 3_000));
      expect([steady.count(SHORT), steady.count(MEDIUM), steady.count(LONG)]).toEqual([
        steadyReference.fine.sum(0),
        steadyReference.fine.sum(1),
        steadyReference.coarse.sum(0),
      ]);
    }
    expect(steady.count(LONG)).toBe(84_000);
    expect(steady.toJSON().coarse.counts).toEqual(steadyReference.coarse.toJSON().counts);
    // A released wide tracker's slot serves a new tracker with a narrow, empty ring.
    burst.release();
    const next = new RateTracker(layout, 360, 24, slab);
    next.add(T0 + 5_000, 7);
    expect([next.count(SHORT), next.fineCountAt(0)]).toEqual([7, 7]);
  });

  it('restores a version 1 state (long window on minute buckets) onto the coarser buckets', () => {
    // The same events into a version 1 minute ring and into the current reference.
    const minuteRing = new BucketRing(60_000, 60, [60]);
    const reference = new ReferenceTracker();
    let timeMs = T0 + 17_000;
    for (let i = 0; i < 900; i++) {
      timeMs += 7_000;
      const amount = 1 + (i % 3);
      minuteRing.add(timeMs, amount);
      reference.add(timeMs, amount);
    }
    const legacy = {
      fine: reference.fine.toJSON(),
      coarse: minuteRing.toJSON(),
      baseline: reference.baseline.baselineState(),
    };
    const restored = new RateTracker(layout, 360, 24);
    restored.restore(JSON.parse(JSON.stringify(legacy)));
    expect(restored.count(LONG)).toBe(reference.coarse.sum(0));
    expect(restored.toJSON().coarse.counts).toEqual(reference.coarse.toJSON().counts);
    expect(restored.toJSON().minute).toEqual({ head: reference.minute.head, count: reference.minute.sum(0) });
    // The open minute closes into the baseline as it would have without the restore.
    restored.add(timeMs + 60_000, 1);
    reference.add(timeMs + 60_000, 1);
    expect(restored.toJSON().baseline).toEqual(reference.baseline.baselineState());
  });

  it('restores under other window settings by regridding both rings (the short window of a snapshot included)', () => {
    const before = windowLayout({ short: 60_000, medium: 300_000, long: 3_600_000 });
    const after = windowLayout({ short: 120_000, medium: 300_000, long: 3_600_000 });
    const old = new RateTracker(before, 360, 24);
    const fresh = new RateTracker(after, 360, 24);
    const start = Date.UTC(2026, 0, 1, 12);
    for (let i = 0; i < 120; i++) {
      old.add(start + i * 1_000);
      fresh.add(start + i * 1_000);
    }
    const restored = new RateTracker(after, 360, 24);
    restored.restore(JSON.parse(JSON.stringify(old.toJSON())));
    for (let i = 120; i < 150; i++) {
      restored.add(start + i * 1_000);
      fresh.add(start + i * 1_000);
    }
    // 20-second buckets hold two 10-second ones exactly: as if it had run under them all along.
    // (The fine ring's head was read in the new units: a bucket in 2082, counts frozen at 60/120.)
    expect([SHORT, MEDIUM, LONG].map((w) => restored.count(w))).toEqual(
      [SHORT, MEDIUM, LONG].map((w) => fresh.count(w)),
    );
    expect(restored.count(MEDIUM)).toBe(150);
  });

  it('cuts the long window into whole-minute buckets, at least twelve', () => {
    expect(coarseBucketMinutes(60 * 60_000)).toBe(5);
    expect(coarseBucketMinutes(120 * 60_000)).toBe(10);
    expect(coarseBucketMinutes(90 * 60_000)).toBe(6);
    expect(coarseBucketMinutes(20 * 60_000)).toBe(1);
    expect(coarseBucketMinutes(61 * 60_000)).toBe(1);
    expect(coarseBucketMinutes(90_000)).toBe(1);
  });

  it('stores thresholds as the smallest Float32 not below them (property)', () => {
    const below = (f: number) => {
      const view = new Float32Array([f]);
      const bits = new Uint32Array(view.buffer);
      bits[0] = (bits[0] as number) + (f > 0 ? -1 : 1);
      return view[0] as number;
    };
    fc.assert(
      fc.property(fc.double({ min: 1e-30, max: 1e30, noNaN: true }), (x) => {
        const stored = float32AtLeast(x);
        expect(Math.fround(stored)).toBe(stored);
        expect(stored).toBeGreaterThanOrEqual(x);
        if (stored !== x) expect(below(stored)).toBeLessThan(x);
      }),
    );
    expect(float32AtLeast(30)).toBe(30);
    expect(float32AtLeast(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });
});
