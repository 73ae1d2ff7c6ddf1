import { describe, expect, it } from 'vitest';
import { robustBand } from './baseline.ts';

describe('robustBand', () => {
  it('has no band until enough history, then median ± 3 scaled MAD of the trailing window', () => {
    const values = [10, 12, 9, 11, 10, 30, 10, 11];
    const band = robustBand(values, 6);
    expect(band.mid.slice(0, 3)).toEqual([null, null, null]);
    // Index 6: trailing [10,12,9,11,10,30] → median 10.5, MAD 1 → ±4.45 (more than √10.5).
    expect(band.mid[6]).toBe(10.5);
    expect(band.low[6]).toBeCloseTo(10.5 - 3 * 1.4826, 2);
    expect(band.high[6]).toBeCloseTo(10.5 + 3 * 1.4826, 2);
  });

  it('is not dragged up by one spike in the history (robust, unlike mean ± sd)', () => {
    const values = [...Array.from({ length: 59 }, () => 20), 2_000, 20];
    const band = robustBand(values, 60);
    expect(band.mid[60]).toBe(20);
    expect(band.high[60]).toBeLessThan(40);
  });

  it('holds its value from the anomaly on, so an attack does not become normal', () => {
    const quiet = Array.from({ length: 30 }, (_, i) => 10 + (i % 3));
    const attack = Array.from({ length: 30 }, () => 500);
    const band = robustBand([...quiet, ...attack], 20, 30);
    for (let i = 30; i < 60; i++) expect(band.high[i]).toBe(band.high[30]);
    expect(band.high[59]).toBeLessThan(20);
    const unheld = robustBand([...quiet, ...attack], 20);
    expect(unheld.mid[59]).toBe(500);
  });

  it('keeps a visible width on a flat history (√count, the Poisson noise) and never goes below 0', () => {
    const band = robustBand(
      Array.from({ length: 10 }, () => 16),
      6,
    );
    expect(band.high[9]).toBe(20);
    expect(band.low[9]).toBe(12);
    const zero = robustBand(
      Array.from({ length: 10 }, () => 0),
      6,
    );
    expect(zero.low[9]).toBe(0);
  });
});
