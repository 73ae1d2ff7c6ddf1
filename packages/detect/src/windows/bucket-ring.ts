/**
 * Event-time counts in fixed sub-buckets on a preallocated ring, with running sums for a few window
 * lengths, so adding an event and reading any window are O(1) (amortised: advancing over idle
 * buckets touches each bucket once). Buckets are absolute (floor(timeMs / bucketMs)): UTC, no DST.
 * Events older than the ring are rejected; the caller decides whether that is "late".
 */
export class BucketRing {
  readonly bucketMs: number;
  readonly length: number;
  /** Window lengths in buckets, each ≤ length. */
  readonly windowBuckets: Int32Array;
  readonly counts: Float32Array;
  readonly sums: Float64Array;
  /** Absolute index of the newest bucket; -1 before the first event. */
  head = -1;

  constructor(bucketMs: number, length: number, windowBuckets: readonly number[]) {
    this.bucketMs = bucketMs;
    this.length = length;
    this.windowBuckets = Int32Array.from(windowBuckets);
    for (const w of windowBuckets) {
      if (w < 1 || w > length)
        throw new RangeError(`window of ${w} buckets does not fit a ring of ${length}`);
    }
    this.counts = new Float32Array(length);
    this.sums = new Float64Array(windowBuckets.length);
  }

  bucketOf(timeMs: number): number {
    return Math.floor(timeMs / this.bucketMs);
  }

  /**
   * Moves the head to `bucket`, dropping buckets that leave each window. `onClose` sees every bucket
   * that stops being the newest, in order, with its count (idle stretches report zeros, up to a
   * ring's worth; the caller is told how many more zero buckets were skipped).
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
      // Everything in the ring leaves every window: report what is there, then reset.
      if (onClose) {
        for (let b = this.head - this.length + 1; b <= this.head; b++) {
          if (b < 0) continue;
          onClose(b, this.counts[this.slot(b)] as number, 0);
        }
        onClose(this.head + this.length, 0, gap - this.length - 1);
      }
      this.counts.fill(0);
      this.sums.fill(0);
      this.head = bucket;
      return;
    }
    for (let next = this.head + 1; next <= bucket; next++) {
      if (onClose) onClose(next - 1, this.counts[this.slot(next - 1)] as number, 0);
      for (let w = 0; w < this.windowBuckets.length; w++) {
        const leaving = next - (this.windowBuckets[w] as number);
        this.sums[w] = (this.sums[w] as number) - (this.counts[this.slot(leaving)] as number);
      }
      this.counts[this.slot(next)] = 0;
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
    const slot = this.slot(bucket);
    this.counts[slot] = (this.counts[slot] as number) + amount;
    for (let w = 0; w < this.windowBuckets.length; w++) {
      if (age < (this.windowBuckets[w] as number)) this.sums[w] = (this.sums[w] as number) + amount;
    }
    return true;
  }

  /** Sum of window `w` ending at the head bucket. */
  sum(w: number): number {
    return this.sums[w] as number;
  }

  /** Count of the bucket `age` buckets before the head (0 = newest). */
  countAt(age: number): number {
    if (age < 0 || age >= this.length || this.head < 0) return 0;
    return this.counts[this.slot(this.head - age)] as number;
  }

  slot(bucket: number): number {
    const s = bucket % this.length;
    return s < 0 ? s + this.length : s;
  }

  toJSON(): { head: number; counts: number[] } {
    return { head: this.head, counts: Array.from(this.counts) };
  }

  restore(state: { head: number; counts: number[] }): void {
    this.head = state.head;
    this.counts.set(state.counts);
    this.sums.fill(0);
    if (this.head < 0) return;
    for (let w = 0; w < this.windowBuckets.length; w++) {
      let sum = 0;
      for (let age = 0; age < (this.windowBuckets[w] as number); age++) sum += this.countAt(age);
      this.sums[w] = sum;
    }
  }
}
