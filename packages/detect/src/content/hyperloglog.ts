/**
 * HyperLogLog distinct counter (e.g. recipients per window) over 64-bit hashes: 2^precision
 * one-byte registers, standard error ≈ 1.04 / √(2^precision) (2.3 % at the default 11).
 * Registers only ever grow, so adding a value twice, or merging, never inflates the count.
 * Snapshot format: [version, precision, ...registers].
 */
import { HASH_SEED_HI, HASH_SEED_LO, hash32 } from './string-hash.ts';

const MIN_PRECISION = 4;
const MAX_PRECISION = 16;
const DEFAULT_PRECISION = 11;
const SNAPSHOT_VERSION = 1;
const SNAPSHOT_HEADER_BYTES = 2;

/** 2^-rank for every possible register value (a rank is at most 64 - 4 + 1). */
const INVERSE_POWERS_OF_TWO = Float64Array.from({ length: 65 }, (_, rank) => 2 ** -rank);

export class HyperLogLog {
  readonly precision: number;
  readonly #registers: Uint8Array;

  constructor(precision = DEFAULT_PRECISION) {
    if (!Number.isInteger(precision) || precision < MIN_PRECISION || precision > MAX_PRECISION) {
      throw new RangeError(
        `precision must be an integer ${MIN_PRECISION}..${MAX_PRECISION}, got ${precision}`,
      );
    }
    this.precision = precision;
    this.#registers = new Uint8Array(1 << precision);
  }

  /** Restores a counter from `toBytes()`; throws a RangeError on anything else. */
  static fromBytes(bytes: Uint8Array): HyperLogLog {
    const version = bytes[0];
    const precision = bytes[1];
    if (version !== SNAPSHOT_VERSION || precision === undefined) {
      throw new RangeError(`Not a HyperLogLog snapshot (version ${version}, expected ${SNAPSHOT_VERSION})`);
    }
    const counter = new HyperLogLog(precision);
    const registerCount = 1 << precision;
    if (bytes.length !== SNAPSHOT_HEADER_BYTES + registerCount) {
      throw new RangeError(
        `HyperLogLog snapshot of precision ${precision} must be ${registerCount + 2} bytes`,
      );
    }
    const maxRank = 64 - precision + 1;
    const registers = bytes.subarray(SNAPSHOT_HEADER_BYTES);
    for (let i = 0; i < registerCount; i++) {
      if (registers[i]! > maxRank) throw new RangeError(`HyperLogLog register ${i} exceeds ${maxRank}`);
    }
    counter.#registers.set(registers);
    return counter;
  }

  /** Adds a value by its 64-bit hash, given as two 32-bit halves (signed or unsigned). */
  add(hashHi: number, hashLo: number): void {
    const p = this.precision;
    const index = hashHi >>> (32 - p);
    // Rank = position of the first 1 in the 64 - p bits after the index bits.
    const rest = (hashHi << p) >>> 0;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - p + Math.clz32(hashLo) + 1;
    if (rank > this.#registers[index]!) this.#registers[index] = rank;
  }

  addString(value: string): void {
    this.add(hash32(value, HASH_SEED_HI), hash32(value, HASH_SEED_LO));
  }

  /** Estimated number of distinct values added. */
  count(): number {
    const registerCount = this.#registers.length;
    let inverseSum = 0;
    let emptyRegisters = 0;
    for (let i = 0; i < registerCount; i++) {
      const rank = this.#registers[i]!;
      inverseSum += INVERSE_POWERS_OF_TWO[rank]!;
      if (rank === 0) emptyRegisters++;
    }
    const raw = (alphaFor(registerCount) * registerCount * registerCount) / inverseSum;
    // Small range: the raw estimate is biased while registers are still empty; linear counting
    // on the empty ones is accurate there. 64-bit hashes make a large-range correction unnecessary.
    if (raw <= 2.5 * registerCount && emptyRegisters > 0) {
      return registerCount * Math.log(registerCount / emptyRegisters);
    }
    return raw;
  }

  /** Folds `other` into this counter (union of the two sets); precisions must match. */
  merge(other: HyperLogLog): void {
    if (other.precision !== this.precision) {
      throw new RangeError(`Cannot merge HyperLogLog precision ${other.precision} into ${this.precision}`);
    }
    const mine = this.#registers;
    const theirs = other.#registers;
    for (let i = 0; i < mine.length; i++) {
      if (theirs[i]! > mine[i]!) mine[i] = theirs[i]!;
    }
  }

  clear(): void {
    this.#registers.fill(0);
  }

  toBytes(): Uint8Array {
    const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES + this.#registers.length);
    bytes[0] = SNAPSHOT_VERSION;
    bytes[1] = this.precision;
    bytes.set(this.#registers, SNAPSHOT_HEADER_BYTES);
    return bytes;
  }
}

/** Bias constant of the HyperLogLog estimator (Flajolet et al. 2007). */
function alphaFor(registerCount: number): number {
  if (registerCount === 16) return 0.673;
  if (registerCount === 32) return 0.697;
  if (registerCount === 64) return 0.709;
  return 0.7213 / (1 + 1.079 / registerCount);
}
