import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BucketRing, ringGroup } from './bucket-ring.ts';

describe('BucketRing', () => {
  it('sums each window over the newest buckets', () => {
    const ring = new BucketRing(10_000, 30, [6, 30]);
    for (let t = 0; t < 300_000; t += 1_000) ring.add(t);
    // 300 events, one per second; the 1-minute window holds the last 60, the 5-minute one all.
    expect(ring.sum(0)).toBe(60);
    expect(ring.sum(1)).toBe(300);
  });

  it('drops buckets that leave the window when time advances, including across idle gaps', () => {
    const ring = new BucketRing(10_000, 30, [6, 30]);
    ring.add(0, 5);
    ring.add(55_000, 1);
    expect(ring.sum(0)).toBe(6);
    ring.add(60_000, 1);
    expect(ring.sum(0), 'bucket 0 is out of the 1-minute window at t=60s').toBe(2);
    ring.add(10_000_000, 1);
    expect(ring.sum(1), 'a long gap clears the ring').toBe(1);
  });

  it('counts an out-of-order event in its own bucket while it is in the ring, and rejects older ones', () => {
    const ring = new BucketRing(10_000, 30, [6, 30]);
    ring.add(200_000);
    expect(ring.add(195_000)).toBe(true);
    expect(ring.add(130_000), 'older than the 1-minute window but inside the ring').toBe(true);
    expect(ring.sum(0)).toBe(2);
    expect(ring.sum(1)).toBe(3);
    expect(ring.add(200_000 - 300_000)).toBe(false);
  });

  it('reports closed buckets in order, with skipped zero buckets after a long gap', () => {
    const ring = new BucketRing(60_000, 4, [4]);
    const closed: Array<[number, number, number]> = [];
    const onClose = (b: number, c: number, skipped: number) => closed.push([b, c, skipped]);
    ring.add(0, 3, onClose);
    ring.add(60_000, 2, onClose);
    ring.add(180_000, 1, onClose);
    expect(closed).toEqual([
      [0, 3, 0],
      [1, 2, 0],
      [2, 0, 0],
    ]);
    closed.length = 0;
    ring.add(60_000 * 20, 1, onClose);
    // Bucket 3 (count 1) closes, then 16 idle buckets (4..19): every bucket from 3 to 19 exactly once.
    expect(closed).toEqual([[3, 1, 16]]);
  });

  it('agrees with a brute-force count for any event sequence (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2_000_000 }), { minLength: 1, maxLength: 300 }),
        (times) => {
          const ring = new BucketRing(10_000, 30, [6, 30]);
          const accepted: number[] = [];
          for (const t of times) if (ring.add(t)) accepted.push(Math.floor(t / 10_000));
          const head = ring.head;
          for (const [w, span] of [
            [0, 6],
            [1, 30],
          ] as const) {
            const expected = accepted.filter((b) => head - b < span && b <= head).length;
            if (ring.sum(w) !== expected) return false;
          }
          return true;
        },
      ),
    );
  });

  it('restores to the same sums from its JSON form', () => {
    const ring = new BucketRing(10_000, 30, [6, 30]);
    for (let t = 0; t < 400_000; t += 7_000) ring.add(t, 2);
    const copy = new BucketRing(10_000, 30, [6, 30]);
    copy.restore(JSON.parse(JSON.stringify(ring.toJSON())));
    expect([copy.sum(0), copy.sum(1), copy.head]).toEqual([ring.sum(0), ring.sum(1), ring.head]);
  });

  it('regrids a state of another bucket size onto its own buckets', () => {
    // The same events in minute buckets (version 1's hourly rings) and in 5-minute buckets.
    const minutes = new BucketRing(60_000, 60, [60]);
    const fiveMinutes = new BucketRing(300_000, 12, [12]);
    for (let t = 0; t < 7_200_000; t += 45_000) {
      minutes.add(t, 1 + (t % 3));
      fiveMinutes.add(t, 1 + (t % 3));
    }
    const restored = new BucketRing(300_000, 12, [12]);
    restored.restore({ ...minutes.toJSON(), bucketMs: 60_000 });
    expect(restored.head).toBe(fiveMinutes.head);
    expect(restored.toJSON()).toEqual(fiveMinutes.toJSON());
    expect(restored.sum(0)).toBe(fiveMinutes.sum(0));
  });

  it('rings of a group share one array and behave exactly as rings of their own', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ring: fc.integer({ min: 0, max: 2 }),
            // Mostly small steps, sometimes a gap longer than the ring or a step back.
            stepMs: fc.oneof(
              fc.integer({ min: -40_000, max: 30_000 }),
              fc.integer({ min: 300_000, max: 900_000 }),
            ),
            amount: fc.integer({ min: 1, max: 5 }),
          }),
          { maxLength: 200 },
        ),
        (steps) => {
          const grouped = ringGroup(3, 10_000, 30, [6, 30]);
          const own = [0, 1, 2].map(() => new BucketRing(10_000, 30, [6, 30]));
          let t = 1_000_000;
          for (const { ring, stepMs, amount } of steps) {
            t = Math.max(0, t + stepMs);
            expect(grouped[ring]?.add(t, amount)).toBe(own[ring]?.add(t, amount));
            for (let r = 0; r < 3; r++) {
              expect(grouped[r]?.toJSON()).toEqual(own[r]?.toJSON());
              expect([grouped[r]?.sum(0), grouped[r]?.sum(1)]).toEqual([own[r]?.sum(0), own[r]?.sum(1)]);
              expect(grouped[r]?.sumAt(1, t)).toBe(own[r]?.sumAt(1, t));
            }
          }
          // A restored state lands in its own part of the shared array.
          const restored = ringGroup(3, 10_000, 30, [6, 30]);
          for (let r = 0; r < 3; r++)
            restored[r]?.restore(own[r]?.toJSON() as { head: number; counts: number[] });
          for (let r = 0; r < 3; r++) expect(restored[r]?.toJSON()).toEqual(own[r]?.toJSON());
        },
      ),
    );
    expect(() => new BucketRing(10_000, 30, [6], { counts: new Float32Array(40), offset: 20 })).toThrow(
      /does not fit/,
    );
    expect(() => new BucketRing(10_000, 30, [6], { counts: new Float32Array(90), offset: 0.5 })).toThrow(
      /does not fit/,
    );
    expect(() => ringGroup(0, 10_000, 30, [6])).toThrow(/at least one ring/);
  });
  it('leaves its sums at zero once everything added has left the windows (no Float32 drift)', () => {
    const ring = new BucketRing(10_000, 30, [6, 30]);
    const t0 = Date.UTC(2026, 0, 1);
    // 100,000 adds of 0.1 in one bucket, and one bucket past 2^24, where Float32 rounds.
    for (let i = 0; i < 100_000; i++) ring.add(t0, 0.1);
    ring.add(t0 + 10_000, 2 ** 24);
    ring.add(t0 + 10_000, 1);
    expect(ring.sum(1)).toBeGreaterThan(2 ** 24);
    // 31 buckets later, one at a time (each leaving bucket subtracted from the sums).
    for (let b = 2; b <= 32; b++) ring.sumAt(0, t0 + b * 10_000);
    expect([ring.sum(0), ring.sum(1)]).toEqual([0, 0]);
  });
});
