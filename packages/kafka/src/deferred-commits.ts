/**
 * Offsets committed after the fact, for a consumer that hands each batch's rows to a sink that
 * writes them later (ingest's lingering INSERTs) and goes on fetching meanwhile. Each batch is
 * tracked with the promise of its storage; a partition's offset is committed up to its oldest batch
 * not yet stored, so whatever a crash or a rebalance interrupts is read again, never skipped.
 *
 * A batch whose storage is given up (ingest: a stop whose drain ran out of time) blocks its
 * partition's commits until `reset()`, which the consumer calls when it (re)joins its group: kafkajs
 * then fetches every assigned partition from its committed offset, so the tracked batches of the
 * previous assignment are forgotten (rows of theirs that are stored after all are stored twice at
 * worst, which the tables' deduplication absorbs, as for a crash).
 *
 * The rows of the batches not yet stored are counted (`pendingRows`) so the consumer can stop
 * fetching while the sink is behind or down: memory stays bounded and nothing is dropped.
 */

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read: the last stored record's plus one. */
  offset: string;
}

export interface DeferredCommitsOptions {
  /** Commits the offsets (kafkajs: `consumer.commitOffsets`). */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** A commit failed; its offsets are committed with the next one (or retried after `retryMs`). */
  onCommitError?(error: unknown): void;
  retryMs?: number;
}

interface Batch {
  next: string;
  rows: number;
  state: 'pending' | 'stored' | 'failed';
}

interface Partition {
  topic: string;
  partition: number;
  /** Tracked batches in offset order, oldest first; stored ones leave from the front. */
  batches: Batch[];
}

export class DeferredCommits {
  readonly #commit: DeferredCommitsOptions['commit'];
  readonly #onCommitError: DeferredCommitsOptions['onCommitError'];
  readonly #retryMs: number;
  readonly #partitions = new Map<string, Partition>();
  /** Offsets stored but not yet committed, by partition: the newest replaces an older one. */
  readonly #due = new Map<string, TopicPartitionOffset>();
  #committing = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #pendingRows = 0;
  /** Bumped by reset(): batches tracked before it no longer count. */
  #epoch = 0;
  readonly #listeners = new Set<() => void>();

  constructor(options: DeferredCommitsOptions) {
    this.#commit = options.commit;
    this.#onCommitError = options.onCommitError;
    this.#retryMs = options.retryMs ?? 1_000;
  }

  /**
   * Changes with every reset: a consumer that reads it when a batch starts and finds it changed
   * before the batch is done knows the batch spans a rejoin, whose new assignment fetches from the
   * committed offsets; it must neither resolve nor track the batch (its rows may not be stored).
   */
  get epoch(): number {
    return this.#epoch;
  }

  /** Rows of the tracked batches whose storage has not settled yet. */
  get pendingRows(): number {
    return this.#pendingRows;
  }

  /** Tracks a batch whose records up to `nextOffset` − 1 are safe once `stored` resolves. */
  track(topic: string, partition: number, nextOffset: string, rows: number, stored: Promise<unknown>): void {
    const key = `${topic}\u0000${partition}`;
    let state = this.#partitions.get(key);
    if (state === undefined) {
      state = { topic, partition, batches: [] };
      this.#partitions.set(key, state);
    }
    const batch: Batch = { next: nextOffset, rows, state: 'pending' };
    state.batches.push(batch);
    this.#pendingRows += rows;
    const epoch = this.#epoch;
    const settle = (outcome: 'stored' | 'failed') => {
      this.#pendingRows -= rows;
      batch.state = outcome;
      if (outcome === 'stored' && epoch === this.#epoch) this.#advance(key, state);
      this.#changed();
    };
    stored.then(
      () => settle('stored'),
      () => settle('failed'),
    );
  }

  /** Forgets the tracked batches and offsets not yet committed (after a rebalance: see above). */
  reset(): void {
    this.#epoch++;
    this.#partitions.clear();
    this.#due.clear();
    this.#changed();
  }

  /** Resolves once the pending rows are at most `rows`, or after `timeoutMs` (to heartbeat). */
  async whenRowsAtMost(rows: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.#pendingRows > rows) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await this.#nextChange(left);
    }
  }

  /**
   * Waits until every tracked batch is stored and its offset committed: true when all were, false
   * when one failed or `timeoutMs` passed first (what was stored by then is committed).
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      let pending = false;
      let failed = false;
      for (const state of this.#partitions.values())
        for (const batch of state.batches) {
          if (batch.state === 'pending') pending = true;
          else if (batch.state === 'failed') failed = true;
        }
      const committing = this.#committing || this.#due.size > 0;
      if (!pending && !committing) return !failed;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await this.#nextChange(left);
    }
  }

  /** Moves the partition's offset past its oldest stored batches and commits it. */
  #advance(key: string, state: Partition): void {
    let next: string | undefined;
    while (state.batches[0]?.state === 'stored') next = (state.batches.shift() as Batch).next;
    if (next === undefined) return;
    this.#due.set(key, { topic: state.topic, partition: state.partition, offset: next });
    this.#flushDue();
  }

  /** Commits the due offsets, one commit at a time; those due meanwhile go with the next. */
  #flushDue(): void {
    if (this.#committing || this.#due.size === 0) return;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    const offsets = [...this.#due.entries()];
    this.#due.clear();
    this.#committing = true;
    const epoch = this.#epoch;
    this.#commit(offsets.map(([, offset]) => offset)).then(
      () => {
        this.#committing = false;
        this.#flushDue();
        this.#changed();
      },
      (error: unknown) => {
        this.#committing = false;
        this.#onCommitError?.(error);
        // Not after a reset, nor over a newer offset of the same partition.
        if (epoch === this.#epoch)
          for (const [key, offset] of offsets) if (!this.#due.has(key)) this.#due.set(key, offset);
        if (this.#due.size > 0) {
          this.#retry = setTimeout(() => this.#flushDue(), this.#retryMs);
          this.#retry.unref();
        }
        this.#changed();
      },
    );
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Resolves at the next change (a batch settled, a commit ended, a reset) or after `timeoutMs`. */
  #nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#listeners.add(done);
    });
  }
}
