import { describe, expect, it } from 'vitest';
import { poissonSurprise, poissonUpperQuantile } from './poisson.ts';
import { RateBaseline } from './rate-baseline.ts';
import { anomalyScore, windowThreshold } from './thresholds.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const volume = { minRatio: 4, zScore: 6, poissonTail: 1e-7 };

describe('RateBaseline', () => {
  it('learns a steady rate and is mature after an hour of minutes', () => {
    const baseline = new RateBaseline(360, 0);
    for (let m = 0; m < 120; m++) baseline.observeMinute(m * MIN, 10);
    const e = baseline.expectationAt(120 * MIN);
    expect(e.perMinute).toBeCloseTo(10, 5);
    expect(e.mature).toBe(true);
  });

  it('is barely moved by a one-off spike (winsorised)', () => {
    const baseline = new RateBaseline(360, 0);
    for (let m = 0; m < 600; m++) baseline.observeMinute(m * MIN, 5);
    baseline.observeMinute(600 * MIN, 5_000);
    expect(baseline.mean, 'a 1000x minute must not teach the baseline').toBeLessThan(6);
    expect(baseline.peakPerMinute).toBeLessThan(10);
  });

  it('learns a diurnal shape: the expectation at the daily peak is above the one at night', () => {
    const baseline = new RateBaseline(360, 24);
    for (let m = 0; m < 4 * 24 * 60; m++) {
      const hour = Math.floor(m / 60) % 24;
      baseline.observeMinute(m * MIN, hour >= 9 && hour < 18 ? 30 : 3);
    }
    const day = baseline.expectationAt(4 * 24 * HOUR + 12 * HOUR).perMinute;
    const night = baseline.expectationAt(4 * 24 * HOUR + 3 * HOUR).perMinute;
    expect(day / night, `day ${day} vs night ${night}`).toBeGreaterThan(3);
  });

  it('decays after a long idle stretch without looping over every idle minute', () => {
    const baseline = new RateBaseline(60, 0);
    for (let m = 0; m < 120; m++) baseline.observeMinute(m * MIN, 20);
    baseline.observeMinute(120 * MIN, 0, 10 * 24 * 60);
    expect(baseline.mean).toBeLessThan(1);
  });

  it('round-trips through its JSON state', () => {
    const baseline = new RateBaseline(360, 24);
    for (let m = 0; m < 3000; m++) baseline.observeMinute(m * MIN, m % 7);
    const copy = new RateBaseline(360, 24);
    copy.restoreBaseline(JSON.parse(JSON.stringify(baseline.baselineState())));
    expect(copy.expectationAt(3000 * MIN)).toEqual(baseline.expectationAt(3000 * MIN));
  });
});

describe('thresholds', () => {
  it('never fires on a handful of messages, whatever the baseline', () => {
    const { threshold } = windowThreshold({ perMinute: 0, sdPerMinute: 0, mature: true }, 1, 30, volume);
    expect(threshold).toBeGreaterThanOrEqual(30);
  });

  it('uses the Poisson tail for small expectations', () => {
    expect(poissonUpperQuantile(2, 1e-7)).toBeGreaterThan(12);
    expect(poissonUpperQuantile(2, 1e-7)).toBeLessThan(20);
    expect(poissonSurprise(40, 2)).toBeGreaterThan(20);
    expect(poissonSurprise(2, 2)).toBe(0);
  });

  it('scales with the expected volume for large keys', () => {
    const { threshold, expected } = windowThreshold(
      { perMinute: 1000, sdPerMinute: 40, mature: true },
      5,
      60,
      volume,
    );
    expect(expected).toBe(5000);
    expect(threshold).toBe(20_000);
    expect(anomalyScore(25_000, expected, 1300)).toBeGreaterThan(10);
  });
});
