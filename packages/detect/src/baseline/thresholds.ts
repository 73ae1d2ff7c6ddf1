/**
 * Turns an expectation into the count a window must reach to be anomalous: the largest of a
 * volume floor, a ratio over expected, and a statistical bound (Poisson tail for small expected
 * counts, a z-score with an over-dispersion term otherwise). Computed when a minute closes, not per
 * event.
 */
import type { VolumeThresholds } from '../config.ts';
import { poissonSurprise, poissonUpperQuantile } from './poisson.ts';
import type { Expectation } from './rate-baseline.ts';

/** Relative spread of a window sum beyond Poisson noise: traffic drifts within an hour. */
const OVERDISPERSION = 0.25;

/** Expected count of a window of `windowMinutes` and its spread: Poisson-like noise plus drift. */
export function windowExpectation(
  expectation: Pick<Expectation, 'perMinute' | 'sdPerMinute'>,
  windowMinutes: number,
): { expected: number; sd: number } {
  const expected = expectation.perMinute * windowMinutes;
  const sd = Math.sqrt(windowMinutes * expectation.sdPerMinute ** 2 + (OVERDISPERSION * expected) ** 2);
  return { expected, sd };
}

export function windowThreshold(
  expectation: Expectation,
  windowMinutes: number,
  minCount: number,
  thresholds: Pick<VolumeThresholds, 'minRatio' | 'zScore' | 'poissonTail'>,
  minRatio = thresholds.minRatio,
): { threshold: number; expected: number; sd: number } {
  const { expected, sd } = windowExpectation(expectation, windowMinutes);
  const statistical =
    expected < 100
      ? poissonUpperQuantile(Math.max(expected, 0.01), thresholds.poissonTail)
      : expected + thresholds.zScore * sd;
  const ratio = expectation.mature ? minRatio : minRatio * 2;
  return { threshold: Math.max(minCount, ratio * expected, statistical), expected, sd };
}

/** A comparable score: z for large counts, a Poisson surprise (in z-like units) for small ones. */
export function anomalyScore(observed: number, expected: number, sd: number): number {
  if (expected < 100) return Math.sqrt(2 * Math.LN10 * poissonSurprise(observed, Math.max(expected, 0.01)));
  return (observed - expected) / Math.max(sd, 1);
}
