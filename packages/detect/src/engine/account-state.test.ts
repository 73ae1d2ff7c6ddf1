import { describe, expect, it } from 'vitest';
import { BucketRing, ringGroup } from '../windows/bucket-ring.ts';
import { CountryState, countryWords, SEQUENTIAL_MEMORY, type TrackerFactory } from './account-state.ts';
import { RateTracker, trackerWords, windowLayout } from './rate-tracker.ts';
import { TrackerSlab } from './tracker-slab.ts';

function factory(): TrackerFactory {
  const layout = windowLayout({ short: 60_000, medium: 300_000, long: 3_600_000 });
  const slab = new TrackerSlab(trackerWords(layout, 24));
  return {
    layout,
    halfLifeMinutes: 360,
    seasonalitySlots: 24,
    slab,
    countrySlab: new TrackerSlab(countryWords(layout, 24)),
    fine: () =>
      new BucketRing(layout.fineBucketMs, layout.fineLength, [layout.shortBuckets, layout.fineLength]),
    fineGroup: (n) =>
      ringGroup(n, layout.fineBucketMs, layout.fineLength, [layout.shortBuckets, layout.fineLength]),
    coarse: () => new BucketRing(layout.coarseBucketMs, layout.coarseLength, [layout.coarseLength]),
  };
}

describe('CountryState recent recipient numbers', () => {
  it('counts earlier recipients within the span, not the same number, over the last SEQUENTIAL_MEMORY only', () => {
    const country = new CountryState(factory(), 0);
    expect(country.recentNeighbours(14155550100, 200)).toBe(0);
    expect(country.recentNeighbours(14155550100, 200)).toBe(0); // the same recipient again
    expect(country.recentNeighbours(14155550150, 200)).toBe(2);
    expect(country.recentNeighbours(14155560000, 200)).toBe(0);
    for (let i = 0; i < SEQUENTIAL_MEMORY; i++) country.recentNeighbours(449_000_000_000 + i * 10_000, 200);
    // 14155550100 has left the ring.
    expect(country.recentNeighbours(14155550120, 200)).toBe(0);
  });

  it('compares across a 2^32 boundary of the low bits as the full numbers would', () => {
    const country = new CountryState(factory(), 0);
    const below = 3 * 2 ** 32 - 5;
    country.recentNeighbours(below, 200);
    expect(country.recentNeighbours(below + 10, 200)).toBe(1);
    expect(country.recentNeighbours(below - 195, 200)).toBe(1); // 195 from one, 205 from the other
  });

  it('snapshots the ring and restores it, cutting full numbers of older snapshots to their low bits', () => {
    const f = factory();
    const country = new CountryState(f, 0);
    for (const n of [14155550100, 14155550101, 447700900123]) country.recentNeighbours(n, 200);
    const copy = new CountryState(f, 0);
    copy.restoreRecentNumbers([14155550100, 14155550101, 447700900123], 3);
    expect(copy.recentNumbers()).toEqual(country.recentNumbers());
    expect(copy.recentNeighbours(14155550102, 200)).toBe(country.recentNeighbours(14155550102, 200));
    country.release();
    copy.release();
    expect(f.countrySlab.live).toBe(0);
  });

  it('keeps the numbers beside the tracker in one slot: neither overwrites the other, nor a neighbour', () => {
    const f = factory();
    const country = new CountryState(f, 0);
    const neighbour = new CountryState(f, 0);
    const reference = new RateTracker(f.layout, f.halfLifeMinutes, f.seasonalitySlots);
    const untouched = new RateTracker(f.layout, f.halfLifeMinutes, f.seasonalitySlots);
    const t0 = Date.UTC(2026, 10, 2);
    for (let i = 0; i < 400; i++) {
      const timeMs = t0 + i * 7_000;
      country.rate.add(timeMs);
      reference.add(timeMs);
      country.recentNeighbours(0xffffffff - i, 200);
    }
    expect(country.rate.toJSON()).toEqual(reference.toJSON());
    expect(country.recentNumbers().sort()).toEqual(
      Array.from({ length: SEQUENTIAL_MEMORY }, (_, i) => 0xffffffff - 399 + i).sort(),
    );
    expect(neighbour.rate.toJSON()).toEqual(untouched.toJSON());
    expect(neighbour.recentNumbers()).toEqual(new Array(SEQUENTIAL_MEMORY).fill(0));
  });

  it('refuses a country slab too small for the tracker and the numbers', () => {
    const f = factory();
    const small = { ...f, countrySlab: new TrackerSlab(trackerWords(f.layout, 24)) };
    expect(() => new CountryState(small, 0)).toThrow(RangeError);
  });
});
