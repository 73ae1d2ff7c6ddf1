import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HyperLogLog } from './hyperloglog.ts';

function counterOf(values: Iterable<string>, precision?: number): HyperLogLog {
  const counter = new HyperLogLog(precision);
  for (const value of values) counter.addString(value);
  return counter;
}

function* recipients(count: number, prefix = '+4479'): Generator<string> {
  for (let i = 0; i < count; i++) yield `${prefix}${String(i).padStart(8, '0')}`;
}

const relativeError = (estimate: number, truth: number): number => Math.abs(estimate - truth) / truth;

describe('HyperLogLog', () => {
  it.each([10_000, 100_000])('estimates %i distinct recipients within five percent', (distinct) => {
    const estimate = counterOf(recipients(distinct)).count();
    expect(relativeError(estimate, distinct), `estimate ${estimate.toFixed(0)}`).toBeLessThan(0.05);
  });

  it('is close to exact for small counts (linear counting range)', () => {
    expect(new HyperLogLog().count()).toBe(0);
    expect(Math.round(counterOf(recipients(1)).count())).toBe(1);
    expect(Math.abs(counterOf(recipients(100)).count() - 100)).toBeLessThanOrEqual(3);
  });

  it('does not count duplicates', () => {
    const once = counterOf(recipients(5_000));
    const repeated = new HyperLogLog();
    for (let round = 0; round < 5; round++) for (const r of recipients(5_000)) repeated.addString(r);
    expect(repeated.count()).toBe(once.count());
  });

  it('merges to exactly the counter of the union', () => {
    const left = counterOf(recipients(3_000, 'a'));
    const right = counterOf(recipients(3_000, 'b'));
    const union = counterOf([...recipients(3_000, 'a'), ...recipients(3_000, 'b')]);
    left.merge(right);
    expect(left.toBytes()).toEqual(union.toBytes());
  });

  it('refuses to merge counters of different precision', () => {
    expect(() => new HyperLogLog(11).merge(new HyperLogLog(12))).toThrow(RangeError);
  });

  it('clears back to zero', () => {
    const counter = counterOf(recipients(1_000));
    counter.clear();
    expect(counter.count()).toBe(0);
  });

  it('restores an identical counter from a snapshot', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 16 }),
        fc.array(fc.string(), { maxLength: 200 }),
        (precision, values) => {
          const original = counterOf(values, precision);
          const restored = HyperLogLog.fromBytes(original.toBytes());
          expect(restored.precision).toBe(precision);
          expect(restored.count()).toBe(original.count());
          expect(restored.toBytes()).toEqual(original.toBytes());
        },
      ),
    );
  });

  it('rejects malformed snapshots with a RangeError', () => {
    const good = counterOf(recipients(10)).toBytes();
    const badVersion = good.slice();
    badVersion[0] = 9;
    const badRegister = good.slice();
    badRegister[5] = 200;
    for (const bad of [new Uint8Array(0), badVersion, good.subarray(0, 100), badRegister]) {
      expect(() => HyperLogLog.fromBytes(bad)).toThrow(RangeError);
    }
  });

  it('accepts raw 64-bit hash halves, signed or unsigned, with the same result', () => {
    const signed = new HyperLogLog();
    const unsigned = new HyperLogLog();
    signed.add(-1, -123);
    unsigned.add(0xffffffff, -123 >>> 0);
    expect(signed.toBytes()).toEqual(unsigned.toBytes());
    expect(signed.count()).toBeGreaterThan(0);
  });

  it('rejects an unsupported precision', () => {
    expect(() => new HyperLogLog(3)).toThrow(RangeError);
    expect(() => new HyperLogLog(17)).toThrow(RangeError);
  });
});
