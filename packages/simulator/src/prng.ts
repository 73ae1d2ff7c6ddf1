/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32) and the distributions the
 * simulator draws from. Invariant: the same seed yields the same sequence on every platform, and a
 * forked stream depends only on its parent's seed and label, never on how much the parent was used.
 */
import { hashString, mix32 } from './hash.ts';

const TWO_POW_32 = 4294967296;
/** Below this mean, Poisson draws invert the CDF exactly; above it the normal approximation is close. */
const POISSON_INVERSION_LIMIT = 30;

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

export class Prng {
  readonly seed: number;
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  /** Box-Muller yields normals in pairs; the spare is kept so every second draw is free. */
  #spareNormal = Number.NaN;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    // splitmix32 spreads even tiny or similar seeds over the whole state; all-zero state is impossible
    // because splitmix outputs are a bijection of distinct inputs.
    let x = this.seed;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      return mix32(x);
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** An independent stream named by `label`: stable however many numbers this one has produced. */
  fork(label: string | number): Prng {
    const labelHash = typeof label === 'number' ? mix32(label | 0) : hashString(label);
    return new Prng(mix32(this.seed ^ mix32(labelHash + 0x632be5ab)));
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const s1 = this.#s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [min, maxInclusive]. */
  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick needs at least one item');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Index drawn with probability proportional to its weight (linear scan: meant for short lists). */
  weightedIndex(weights: readonly number[]): number {
    let total = 0;
    for (const weight of weights) total += weight;
    let target = this.next() * total;
    for (let index = 0; index < weights.length; index++) {
      target -= weights[index] as number;
      if (target < 0) return index;
    }
    return weights.length - 1;
  }

  weightedPick<T>(items: readonly T[], weights: readonly number[]): T {
    if (items.length === 0 || items.length !== weights.length) {
      throw new RangeError('weightedPick needs as many weights as items, and at least one');
    }
    return items[this.weightedIndex(weights)] as T;
  }

  /** Index into cumulative weights (ascending, last = total) by binary search: for long or hot lists. */
  cumulativeIndex(cumulative: Float64Array | readonly number[]): number {
    const total = cumulative[cumulative.length - 1] as number;
    const target = this.next() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  normal(mean = 0, standardDeviation = 1): number {
    if (!Number.isNaN(this.#spareNormal)) {
      const spare = this.#spareNormal;
      this.#spareNormal = Number.NaN;
      return mean + standardDeviation * spare;
    }
    // 1 - next() is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.#spareNormal = radius * Math.sin(angle);
    return mean + standardDeviation * radius * Math.cos(angle);
  }

  /** Log-normal with the given median and log-space standard deviation. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Exponential with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Poisson count with mean `lambda`: exact inversion for small means, normal approximation above. */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < POISSON_INVERSION_LIMIT) {
      let probability = Math.exp(-lambda);
      let cumulative = probability;
      const target = this.next();
      let count = 0;
      // The cap guards against floating-point underflow of the tail never reaching `target`.
      while (target > cumulative && count < 1000) {
        count++;
        probability *= lambda / count;
        cumulative += probability;
      }
      return count;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
  }
}
