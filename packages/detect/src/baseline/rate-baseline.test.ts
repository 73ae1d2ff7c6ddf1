import { describe, expect, it } from 'vitest';
import { poissonSurprise, poissonUpperQuantile } from './poisson.ts';
import { decodeHourTotal, encodeHourTotal, RateBaseline } from './rate-baseline.ts';
import { anomalyScore, windowThreshold } from './thresholds.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const volume = { minRatio: 4, zScore: 6, poissonTail: 1e-7 };

describe('hourly totals in 16 bits', () => {
  it('keeps whole numbers below 4,096 exactly', () => {
    for (let n = 0; n < 4_096; n++) expect(decodeHourTotal(encodeHourTotal(n))).toBe(n);
  });

  it('keeps larger totals within 1/4,096, in order, up to the largest code', () => {
    let previous = -1;
    for (let n = 4_096; n < 4e12; n = Math.ceil(n * 1.0007) + 1) {
      const code = encodeHourTotal(n);
      const back = decodeHourTotal(code);
      expect(Math.abs(back - n) / n, `${n} came back as ${back}`).toBeLessThanOrEqual(1 / 4_096);
      expect(code, `${n} must not encode below a smaller total`).toBeGreaterThanOrEqual(previous);
      previous = code;
    }
    for (const exponentEdge of [2 ** 12 - 0.4, 2 ** 20, 2 ** 20 - 1, 2 ** 33 + 1, 2 ** 40 * 1.9999])
      expect(
        Math.abs(decodeHourTotal(encodeHourTotal(exponentEdge)) - exponentEdge) / exponentEdge,
      ).toBeLessThanOrEqual(1 / 4_096);
    expect(encodeHourTotal(1e15), 'beyond the range saturates').toBe(65_535);
    expect(encodeHourTotal(-3)).toBe(0);
    expect(encodeHourTotal(Number.NaN)).toBe(0);
  });

  it('gives the baseline the same median as the exact totals would, within the rounding', () => {
    const baseline = new RateBaseline(360, 0);
    // 10 hours at ~120,000 per hour (2,000 a minute, with a little variation).
    for (let m = 0; m < 10 * 60; m++) baseline.observeMinute(m * MIN, 2_000 + (m % 7));
    const state = baseline.baselineState();
    const exact = 60 * 2_000 + 3 * 60;
    expect(state.hours.filter((h) => h > 0).length).toBe(9);
    for (const total of state.hours.filter((h) => h > 0))
      expect(Math.abs(total - exact) / exact).toBeLessThan(0.001);
  });
});

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

describe('idle stretches', () => {
  it('learn a long idle stretch in closed form exactly as minute by minute (property, seeded)', () => {
    for (const slots of [0, 24, 168] as const) {
      for (let seed = 1; seed <= 12; seed++) {
        let state = seed * 7_919;
        const next = () => {
          state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
          return state / 2 ** 32;
        };
        const closedForm = new RateBaseline(360, slots);
        const stepByStep = new RateBaseline(360, slots);
        let minute = Math.floor(next() * 10_000);
        for (let step = 0; step < 40; step++) {
          const count = Math.floor(next() * next() * 200);
          // Short gaps, gaps just past an hour, days, and (rarely) weeks; young keys included.
          const r = next();
          const zeros =
            r < 0.4
              ? Math.floor(next() * 5)
              : r < 0.7
                ? 55 + Math.floor(next() * 20)
                : r < 0.95
                  ? Math.floor(next() * 3_000)
                  : Math.floor(next() * 30_000);
          closedForm.observeMinute(minute * MIN, count, zeros);
          stepByStep.observeMinute(minute * MIN, count);
          for (let z = 1; z <= zeros; z++) stepByStep.observeMinute((minute + z) * MIN, 0);
          minute += zeros + 1;
        }
        const a = closedForm.baselineState();
        const b = stepByStep.baselineState();
        const label = `slots ${slots}, seed ${seed}`;
        expect(a.mean, label).toBeCloseTo(b.mean, 9);
        expect(a.variance / Math.max(b.variance, 1e-12), label).toBeCloseTo(
          b.variance > 1e-12 ? 1 : a.variance / 1e-12,
          6,
        );
        expect(a.peakPerMinute, label).toBeCloseTo(b.peakPerMinute, 9);
        expect({ ...a, mean: 0, variance: 0, peakPerMinute: 0 }, label).toEqual({
          ...b,
          mean: 0,
          variance: 0,
          peakPerMinute: 0,
        });
      }
    }
  });
});
