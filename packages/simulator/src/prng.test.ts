import { describe, expect, it } from 'vitest';
import { Prng } from './prng.ts';

function draws(seed: number, count: number): number[] {
  const rng = new Prng(seed);
  return Array.from({ length: count }, () => rng.nextUint32());
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

describe('Prng', () => {
  it('repeats the same sequence for the same seed and a different one for another seed', () => {
    expect(draws(42, 100), 'same seed must give the same numbers').toEqual(draws(42, 100));
    const other = draws(43, 100);
    const same = draws(42, 100).filter((value, index) => value === other[index]).length;
    expect(same, 'neighbouring seeds must not share their sequences').toBeLessThan(3);
  });

  it('forks streams that depend only on the parent seed and label', () => {
    const parent = new Prng(7);
    const early = parent.fork('benign').nextUint32();
    for (let index = 0; index < 50; index++) parent.next();
    expect(parent.fork('benign').nextUint32(), 'a fork must not depend on parent consumption').toBe(early);
    expect(parent.fork('console').nextUint32(), 'different labels must give different streams').not.toBe(
      early,
    );
  });

  it('keeps uniform draws in range with the expected mean', () => {
    const rng = new Prng(1);
    const values = Array.from({ length: 20_000 }, () => rng.next());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(mean(values), 'uniform [0,1) mean').toBeCloseTo(0.5, 1);
    const ints = Array.from({ length: 5000 }, () => rng.int(3, 5));
    expect(new Set(ints), 'int(3,5) must produce exactly 3, 4 and 5').toEqual(new Set([3, 4, 5]));
  });

  it('draws Poisson counts with the right mean by inversion and by the normal approximation', () => {
    const rng = new Prng(2);
    for (const lambda of [0.02, 0.7, 4, 25, 200, 5000]) {
      const counts = Array.from({ length: 20_000 }, () => rng.poisson(lambda));
      const tolerance = 4 * Math.sqrt(lambda / counts.length) + 1e-3;
      expect(Math.abs(mean(counts) - lambda), `Poisson(${lambda}) sample mean ${mean(counts)}`).toBeLessThan(
        tolerance,
      );
      expect(
        counts.every((count) => Number.isInteger(count) && count >= 0),
        'counts are non-negative integers',
      ).toBe(true);
    }
    expect(rng.poisson(0), 'a zero rate yields nothing').toBe(0);
  });

  it('draws normal, log-normal and exponential values with their parameters', () => {
    const rng = new Prng(3);
    const normals = Array.from({ length: 20_000 }, () => rng.normal(10, 2));
    const normalMean = mean(normals);
    const normalSd = Math.sqrt(mean(normals.map((value) => (value - normalMean) ** 2)));
    expect(normalMean, 'normal mean').toBeCloseTo(10, 1);
    expect(normalSd, 'normal standard deviation').toBeCloseTo(2, 1);
    const logNormals = Array.from({ length: 20_001 }, () => rng.logNormal(5, 0.8)).sort((a, b) => a - b);
    expect(logNormals[10_000], 'log-normal median').toBeGreaterThan(4.7);
    expect(logNormals[10_000], 'log-normal median').toBeLessThan(5.3);
    expect(mean(Array.from({ length: 20_000 }, () => rng.exponential(3))), 'exponential mean').toBeCloseTo(
      3,
      0,
    );
  });

  it('picks by weight, by cumulative weight, and uniformly', () => {
    const rng = new Prng(4);
    const counts = [0, 0, 0];
    for (let index = 0; index < 30_000; index++) counts[rng.weightedIndex([1, 2, 7])]!++;
    expect(counts[2]! / 30_000, 'weight 7 of 10').toBeCloseTo(0.7, 1);
    expect(counts[0]! / 30_000, 'weight 1 of 10').toBeCloseTo(0.1, 1);
    const cumulativeCounts = [0, 0, 0];
    for (let index = 0; index < 30_000; index++) cumulativeCounts[rng.cumulativeIndex([1, 3, 10])]!++;
    expect(cumulativeCounts[2]! / 30_000, 'cumulative [1,3,10]: last has 70 %').toBeCloseTo(0.7, 1);
    expect(cumulativeCounts[1]! / 30_000, 'cumulative [1,3,10]: middle has 20 %').toBeCloseTo(0.2, 1);
    expect(() => rng.pick([]), 'picking from nothing is an error').toThrow(RangeError);
    expect(new Set(Array.from({ length: 200 }, () => rng.pick(['a', 'b'])))).toEqual(new Set(['a', 'b']));
  });
});
