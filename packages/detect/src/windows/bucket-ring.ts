/**
 * Event-time counts in fixed sub-buckets on a preallocated ring, with running sums for a few window
 * lengths, so adding an event and reading any window are O(1) (amortised: advancing over idle
 * buckets touches each bucket once). Buckets are absolute (floor(timeMs / bucketMs)): UTC, no DST.
 * Events older than the ring are rejected; the caller decides whether that is "late".
 */
import { copyOut } from '../engine/tracker-slab.ts';

export class BucketRing {
  readonly bucketMs: number;
  readonly length: number;
  /** Up to two window lengths in buckets, each ≤ length (plain fields, not another array). */
  readonly #window0: number;
  readonly #window1: number;
  /** The buckets: `#counts[#offset .. #offset + length)`, an array the ring may share (see ringGroup). */
  readonly #counts: Float32Array;
  readonly #offset: number;
  #sum0 = 0;
  #sum1 = 0;
  /** Absolute index of the newest bucket; -1 before the first event. */
  head = -1;

  constructor(
    bucketMs: number,
    length: number,
    windowBuckets: readonly number[],
    storage?: { counts: Float32Array; offset: number },
  ) {
    this.bucketMs = bucketMs;
    this.length = length;
    if (windowBuckets.length < 1 || windowBuckets.length > 2)
      throw new RangeError('a ring serves one or two windows');
    for (const w of windowBuckets) {
      if (w < 1 || w > length)
        throw new RangeError(`window of ${w} buckets does not fit a ring of ${length}`);
    }
    this.#window0 = windowBuckets[0] as number;
    this.#window1 = windowBuckets[1] ?? 0;
    if (
      storage &&
      (!Number.isInteger(storage.offset) ||
        storage.offset < 0 ||
        storage.offset + length > storage.counts.length)
    )
      throw new RangeError(`a ring of ${length} buckets does not fit its storage at ${storage.offset}`);
    this.#counts = storage?.counts ?? new Float32Array(length);
    this.#offset = storage?.offset ?? 0;
  }

  bucketOf(timeMs: number): number {
    return Math.floor(timeMs / this.bucketMs);
  }

  /** Start time of the head bucket: where another ring on the same grid is read to match this one. */
  get headMs(): number {
    return this.head * this.bucketMs;
  }

  /**
   * Moves the head to `bucket`, dropping buckets that leave each window. `onClose` sees every bucket
   * that stops being the newest, once, in order, with its count; after a gap longer than the ring
   * the idle buckets are not reported one by one: the caller is told how many zero buckets follow.
   */
  advance(
    bucket: number,
    onClose?: (closedBucket: number, count: number, skippedZeros: number) => void,
  ): void {
    if (this.head < 0) {
      this.head = bucket;
      return;
    }
    if (bucket <= this.head) return;
    const gap = bucket - this.head;
    if (gap > this.length) {
      // Everything in the ring leaves every window. Only the head bucket was still open (older
      // ones were reported when they closed): report it, with the idle buckets after it as zeros.
      onClose?.(this.head, this.#counts[this.#offset + this.slot(this.head)] as number, gap - 1);
      this.#counts.fill(0, this.#offset, this.#offset + this.length);
      this.#sum0 = 0;
      this.#sum1 = 0;
      this.head = bucket;
      return;
    }
    for (let next = this.head + 1; next <= bucket; next++) {
      const counts = this.#counts;
      const offset = this.#offset;
      if (onClose) onClose(next - 1, counts[offset + this.slot(next - 1)] as number, 0);
      this.#sum0 -= counts[offset + this.slot(next - this.#window0)] as number;
      if (this.#window1 > 0) this.#sum1 -= counts[offset + this.slot(next - this.#window1)] as number;
      counts[offset + this.slot(next)] = 0;
      this.head = next;
    }
  }

  /** Adds `amount` at `timeMs`; returns false when the bucket has already left the ring. */
  add(
    timeMs: number,
    amount = 1,
    onClose?: (closedBucket: number, count: number, skippedZeros: number) => void,
  ): boolean {
    const bucket = this.bucketOf(timeMs);
    if (bucket > this.head) this.advance(bucket, onClose);
    const age = this.head - bucket;
    if (age >= this.length) return false;
    const slot = this.#offset + this.slot(bucket);
    const before = this.#counts[slot] as number;
    this.#counts[slot] = before + amount;
    // The sums take what the Float32 bucket actually gained, which is what leaves them when the
    // bucket does (adding `amount` left a drift: 100,000 adds of 0.1 gone from the windows read
    // -0.019, one bucket past 2^24 a lasting 1).
    const stored = (this.#counts[slot] as number) - before;
    if (age < this.#window0) this.#sum0 += stored;
    if (age < this.#window1) this.#sum1 += stored;
    return true;
  }

  /** Sum of window `w` ending at `timeMs`: moves the ring forward first, so idle time counts as zeros. */
  sumAt(w: number, timeMs: number): number {
    const bucket = this.bucketOf(timeMs);
    if (bucket > this.head) this.advance(bucket);
    return this.sum(w);
  }

  /** Sum of window `w` (0 or 1) ending at the head bucket. */
  sum(w: number): number {
    return w === 0 ? this.#sum0 : this.#sum1;
  }

  /** Count of the bucket `age` buckets before the head (0 = newest). */
  countAt(age: number): number {
    if (age < 0 || age >= this.length || this.head < 0) return 0;
    return this.#counts[this.#offset + this.slot(this.head - age)] as number;
  }

  slot(bucket: number): number {
    return ringSlot(bucket, this.length);
  }

  toJSON(): { head: number; counts: number[] } {
    return {
      head: this.head,
      counts: copyOut(this.#counts, this.#offset, this.length),
    };
  }

  /** A state of another bucket size (`bucketMs`, when given) or length is regridded onto this ring. */
  restore(state: { head: number; counts: number[]; bucketMs?: number }): void {
    const { head, counts } = regrid(state, state.bucketMs ?? this.bucketMs, this.bucketMs, this.length);
    this.head = head;
    this.#counts.set(counts, this.#offset);
    this.#sum0 = 0;
    this.#sum1 = 0;
    if (this.head < 0) return;
    for (let age = 0; age < this.#window0; age++) this.#sum0 += this.countAt(age);
    for (let age = 0; age < this.#window1; age++) this.#sum1 += this.countAt(age);
  }
}

/**
 * `n` rings of the same shape whose buckets share one typed array, for windows created and dropped
 * together (an account's delivery receipts: all, failed, filtered). Each typed array costs ~300 B
 * beyond its bytes outside the JS heap (its buffer, backing store and their bookkeeping): sharing
 * one took an account's receipt state from ~2.0 to ~1.4 KB of resident memory (measured).
 */
export function ringGroup(
  n: number,
  bucketMs: number,
  length: number,
  windowBuckets: readonly number[],
): BucketRing[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`a ring group needs at least one ring, got ${n}`);
  const counts = new Float32Array(n * length);
  return Array.from(
    { length: n },
    (_, i) => new BucketRing(bucketMs, length, windowBuckets, { counts, offset: i * length }),
  );
}

/** Index of `bucket` in a ring of `length` (buckets before 0 included). */
export function ringSlot(bucket: number, length: number): number {
  const s = bucket % length;
  return s < 0 ? s + length : s;
}

/**
 * A ring's counts on another bucket size (a coarser multiple, or the same): each old bucket's
 * count lands in the new bucket holding its start; what falls outside the new ring is dropped.
 */
export function regrid(
  ring: { head: number; counts: readonly number[] },
  fromBucketMs: number,
  toBucketMs: number,
  length: number,
): { head: number; counts: number[] } {
  const counts = new Array<number>(length).fill(0);
  if (ring.head < 0) return { head: -1, counts };
  if (fromBucketMs === toBucketMs && ring.counts.length === length)
    return { head: ring.head, counts: ring.counts.slice() };
  const head = Math.floor((ring.head * fromBucketMs) / toBucketMs);
  for (let age = 0; age < ring.counts.length; age++) {
    const old = ring.head - age;
    const count = ring.counts[ringSlot(old, ring.counts.length)] ?? 0;
    const bucket = Math.floor((old * fromBucketMs) / toBucketMs);
    if (count !== 0 && head - bucket < length) {
      const slot = ringSlot(bucket, length);
      counts[slot] = (counts[slot] as number) + count;
    }
  }
  return { head, counts };
}
