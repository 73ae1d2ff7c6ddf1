/**
 * Poisson tail quantiles for small expected counts, where a normal approximation under-states how
 * unlikely a burst is. Computed by summing the pmf (stable for the λ ≤ a few hundred used here).
 */

/** Smallest k with P(X ≥ k) ≤ tail for X ~ Poisson(lambda). */
export function poissonUpperQuantile(lambda: number, tail: number): number {
  if (lambda <= 0) return 1;
  if (lambda > 500) {
    // Normal approximation with continuity correction; exact summing would underflow e^-λ.
    const z = normalUpperQuantile(tail);
    return Math.ceil(lambda + z * Math.sqrt(lambda) + 0.5);
  }
  let pmf = Math.exp(-lambda);
  let cdf = pmf;
  let k = 0;
  // P(X ≥ k+1) = 1 − cdf(k)
  while (1 - cdf > tail && k < 10_000) {
    k++;
    pmf *= lambda / k;
    cdf += pmf;
  }
  return k + 1;
}

/** -log10 P(X ≥ observed) for X ~ Poisson(lambda): a score that stays meaningful for tiny counts. */
export function poissonSurprise(observed: number, lambda: number): number {
  if (observed <= lambda) return 0;
  if (lambda <= 0) return 16;
  if (lambda > 500) {
    const z = (observed - lambda) / Math.sqrt(lambda);
    return Math.min(16, (z * z) / (2 * Math.LN10));
  }
  // Chernoff-style log tail: k·ln(k/λ) − k + λ, tight enough for ranking and reporting.
  const logTail = observed * Math.log(observed / lambda) - observed + lambda;
  return Math.min(300, logTail / Math.LN10);
}

/** Upper-tail standard normal quantile (Acklam-style rational approximation, |error| < 1e-4). */
export function normalUpperQuantile(tail: number): number {
  const p = 1 - tail;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  if (p <= 1 - pl) {
    const q = p - 0.5;
    const r = q * q;
    return (
      ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
      (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
    );
  }
  const q = Math.sqrt(-2 * Math.log(1 - p));
  return (
    -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
  );
}
