/**
 * Near-duplicate lookup over 64-bit fingerprints by LSH banding. The 64 bits are cut into
 * maxDistance + 1 disjoint bands, so by pigeonhole two fingerprints within maxDistance bits agree
 * on at least one whole band: lookup probes one bucket per band, then verifies exact Hamming
 * distance. No false negatives within maxDistance; memory is bounded by evicting the least
 * recently added-or-assigned entry once `capacity` is exceeded.
 */
import { LruMap } from '../bounded-map.ts';
import { type Fingerprint64, hammingDistance } from './simhash.ts';

export interface NearDuplicateIndexOptions {
  /** Largest Hamming distance that counts as a near duplicate, 0..31; default 3. */
  maxDistance?: number;
  /** Most entries kept; adding beyond it evicts the least recently added-or-assigned one. */
  capacity: number;
}

export interface NearestMatch<T> {
  id: T;
  fp: Fingerprint64;
  distance: number;
}

export interface ClusterAssignment<T> {
  clusterId: T;
  /** The representative: the first fingerprint of the cluster, never moved by later members. */
  clusterFp: Fingerprint64;
  isNew: boolean;
}

interface Band {
  /** Lowest bit of the band, 0..63 (bits 0..31 live in `lo`). */
  start: number;
  width: number;
}

interface Entry<T> {
  id: T;
  fp: Fingerprint64;
  /** Insertion order, so equally near candidates resolve to the oldest one deterministically. */
  sequence: number;
}

/**
 * One band bucket. The halves of every member's fingerprint sit in flat number arrays beside the
 * entries, so a probe scans contiguous numbers instead of chasing two objects per candidate (near-
 * duplicate templates crowd a few buckets with thousands of members).
 */
interface Bucket<T> {
  entries: Entry<T>[];
  hi: number[];
  lo: number[];
}

const MAX_SUPPORTED_DISTANCE = 31;
const DEFAULT_MAX_DISTANCE = 3;
const TWO_TO_32 = 4294967296;

export class NearDuplicateIndex<T> {
  readonly maxDistance: number;
  readonly capacity: number;
  readonly #bands: readonly Band[];
  readonly #buckets: Map<number, Bucket<T>>[];
  /** In recency order: the least recently added-or-assigned entry is the next to evict. */
  readonly #entries = new LruMap<T, Entry<T>>();
  #nextSequence = 0;

  constructor(options: NearDuplicateIndexOptions) {
    const maxDistance = options.maxDistance ?? DEFAULT_MAX_DISTANCE;
    if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > MAX_SUPPORTED_DISTANCE) {
      throw new RangeError(`maxDistance must be an integer 0..${MAX_SUPPORTED_DISTANCE}, got ${maxDistance}`);
    }
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${options.capacity}`);
    }
    this.maxDistance = maxDistance;
    this.capacity = options.capacity;
    this.#bands = bandsFor(maxDistance + 1);
    this.#buckets = this.#bands.map(() => new Map<number, Bucket<T>>());
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The nearest stored fingerprint within maxDistance (ties: the oldest), or undefined. */
  findNearest(fp: Fingerprint64): NearestMatch<T> | undefined {
    const best = this.#nearestEntry(fp);
    return best === undefined
      ? undefined
      : { id: best.id, fp: best.fp, distance: hammingDistance(fp, best.fp) };
  }

  /** Stores `fp` under `id`, replacing any fingerprint `id` had; evicts beyond capacity. */
  add(fp: Fingerprint64, id: T): void {
    this.#insert(fp, id, this.#nextSequence++);
  }

  /**
   * Each entry's id and insertion sequence, least recently added-or-assigned first: with each id's
   * fingerprint and `nextSequence`, what `restoreEntry` needs to rebuild an index that answers every
   * later lookup, tie and eviction as this one would.
   */
  recencyOrder(): Array<[T, number]> {
    const order: Array<[T, number]> = [];
    for (const [id, entry] of this.#entries) order.push([id, entry.sequence]);
    return order;
  }

  /** Adds one entry of a `recencyOrder()` (call in its order), then `restoreSequence` once. */
  restoreEntry(fp: Fingerprint64, id: T, sequence: number): void {
    this.#insert(fp, id, sequence);
  }

  /** The insertion sequence the next new entry gets (see `recencyOrder`). */
  get nextSequence(): number {
    return this.#nextSequence;
  }

  restoreSequence(nextSequence: number): void {
    this.#nextSequence = Math.max(this.#nextSequence, nextSequence);
  }

  #insert(fp: Fingerprint64, id: T, sequence: number): void {
    this.delete(id);
    const entry: Entry<T> = { id, fp: { hi: fp.hi >>> 0, lo: fp.lo >>> 0 }, sequence };
    this.#entries.set(id, entry);
    for (let b = 0; b < this.#bands.length; b++) {
      const key = bandKey(entry.fp, this.#bands[b]!);
      const bucketsOfBand = this.#buckets[b]!;
      const bucket = bucketsOfBand.get(key);
      if (bucket === undefined) {
        bucketsOfBand.set(key, { entries: [entry], hi: [entry.fp.hi], lo: [entry.fp.lo] });
      } else {
        bucket.entries.push(entry);
        bucket.hi.push(entry.fp.hi);
        bucket.lo.push(entry.fp.lo);
      }
    }
    while (this.#entries.size > this.capacity) this.delete(this.#entries.oldestKey() as T);
  }

  /** Removes `id`; returns whether it was present. */
  delete(id: T): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#entries.delete(id);
    for (let b = 0; b < this.#bands.length; b++) {
      const key = bandKey(entry.fp, this.#bands[b]!);
      const bucketsOfBand = this.#buckets[b]!;
      const bucket = bucketsOfBand.get(key);
      if (bucket === undefined) continue;
      const at = bucket.entries.indexOf(entry);
      if (at >= 0) {
        const last = bucket.entries.length - 1;
        bucket.entries[at] = bucket.entries[last]!;
        bucket.hi[at] = bucket.hi[last]!;
        bucket.lo[at] = bucket.lo[last]!;
        bucket.entries.pop();
        bucket.hi.pop();
        bucket.lo.pop();
      }
      if (bucket.entries.length === 0) bucketsOfBand.delete(key);
    }
    return true;
  }

  clear(): void {
    this.#entries.clear();
    for (const bucketsOfBand of this.#buckets) bucketsOfBand.clear();
  }

  /**
   * The cluster `fp` belongs to: the nearest representative within maxDistance (which then counts
   * as recently used, so a long-running campaign keeps its cluster), else `fp` itself registered
   * as a new cluster under `newClusterId`.
   */
  assignCluster(fp: Fingerprint64, newClusterId: T): ClusterAssignment<T> {
    const existing = this.#nearestEntry(fp);
    if (existing !== undefined) {
      this.#entries.touch(existing.id);
      return { clusterId: existing.id, clusterFp: existing.fp, isNew: false };
    }
    this.add(fp, newClusterId);
    const registered = this.#entries.get(newClusterId)!;
    return { clusterId: newClusterId, clusterFp: registered.fp, isNew: true };
  }

  #nearestEntry(fp: Fingerprint64): Entry<T> | undefined {
    // The best is the minimum of (distance, sequence) over all candidates: independent of the
    // order buckets and their members are scanned in.
    let best: Entry<T> | undefined;
    let bestDistance = this.maxDistance + 1;
    const fpHi = fp.hi >>> 0;
    const fpLo = fp.lo >>> 0;
    for (let b = 0; b < this.#bands.length; b++) {
      const bucket = this.#buckets[b]!.get(bandKey(fp, this.#bands[b]!));
      if (bucket === undefined) continue;
      const { hi, lo } = bucket;
      for (let i = 0; i < hi.length; i++) {
        const distance = popcount32((hi[i]! ^ fpHi) >>> 0) + popcount32((lo[i]! ^ fpLo) >>> 0);
        if (distance > bestDistance) continue;
        const candidate = bucket.entries[i]!;
        if (
          distance < bestDistance ||
          (distance === bestDistance && best !== undefined && candidate.sequence < best.sequence)
        ) {
          best = candidate;
          bestDistance = distance;
        }
      }
    }
    return best;
  }
}

function popcount32(value: number): number {
  let x = value - ((value >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** `count` contiguous bands covering bits 0..63, widths differing by at most one. */
function bandsFor(count: number): Band[] {
  const bands: Band[] = [];
  const baseWidth = Math.floor(64 / count);
  const widerBands = 64 % count;
  let start = 0;
  for (let b = 0; b < count; b++) {
    const width = baseWidth + (b < widerBands ? 1 : 0);
    bands.push({ start, width });
    start += width;
  }
  return bands;
}

/** The band's bits as a non-negative number (exact for widths ≤ 32). */
function bandKey(fp: Fingerprint64, band: Band): number {
  const { start, width } = band;
  if (width > 32) {
    // Only the single 64-bit band of maxDistance 0: the key may round above 2^53, which can only
    // merge buckets, and candidates are verified by exact distance anyway.
    return fp.hi * TWO_TO_32 + fp.lo;
  }
  const end = start + width;
  if (end <= 32) return takeBits(fp.lo, start, width);
  if (start >= 32) return takeBits(fp.hi, start - 32, width);
  const lowWidth = 32 - start;
  return takeBits(fp.lo, start, lowWidth) + takeBits(fp.hi, 0, width - lowWidth) * 2 ** lowWidth;
}

function takeBits(value: number, shift: number, width: number): number {
  const shifted = value >>> shift;
  return width >= 32 ? shifted : shifted & ((1 << width) - 1);
}
