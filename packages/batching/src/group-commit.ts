/**
 * Group commit: callers submit items to a sink whose every write has a fixed cost (an INSERT makes
 * a ClickHouse part, a produce request is a broker round trip), so at most one write is in flight
 * and the items that arrive meanwhile go out together in the next one. When idle, a write starts at
 * the end of the current turn of the event loop, so items submitted in the same turn (the batches
 * of one Kafka fetch, handed out together) share it; under load the writes grow by themselves.
 *
 * Each item's promise settles with the write that carried it: resolved when it succeeded, rejected
 * with its error otherwise, so a caller's own retry loop simply joins the next write. With
 * `retryDelayMs`, a failed write is instead retried as it was — the same items, so the same
 * deduplication token for an INSERT — until it succeeds or the policy gives up.
 *
 * With `lingerMs`, a write waits until its oldest item has waited that long (or `flushSize` is
 * reached), as a Kafka producer's linger.ms does: fewer, larger writes when the items trickle in,
 * for callers that do not wait on each write (ingest, whose offsets follow its INSERTs).
 */

export interface GroupCommitOptions<T> {
  /** Writes the items as one unit. */
  write: (items: readonly T[]) => Promise<void>;
  /** Size of an item (rows, records); a write holds at most `maxSize` unless one item alone is larger. */
  sizeOf?: (item: T) => number;
  maxSize?: number;
  /**
   * A slot shared with other groups (see WriteLane): each write holds one. The group is formed once
   * the slot is held, so the items that arrive while it waits go out in the same write.
   */
  lane?: WriteLane | undefined;
  /** How long the oldest item may wait for others to join its write (default 0: the end of the turn). */
  lingerMs?: number;
  /** Waiting size that starts a write without lingering (default `maxSize`). */
  flushSize?: number;
  /**
   * After a failed write: how long to wait before writing the same items again (the lane is
   * released meanwhile, and items submitted meanwhile wait for the write after it), or null to
   * give up and reject them. Unset: reject at once.
   */
  retryDelayMs?: (attempt: number, error: unknown) => number | null;
}

/**
 * At most `slots` writes at once across the groups that share it, granted in request order: for a
 * sink that runs one write at a time anyway (the embedded engine), so that one caller's writes do
 * not queue ahead of everyone else's inside it.
 */
export class WriteLane {
  readonly #queue: (() => void)[] = [];
  #free: number;

  constructor(slots = 1) {
    this.#free = slots;
  }

  /** Resolves with the release function once a slot is held. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          const next = this.#queue.shift();
          if (next) next();
          else this.#free++;
        });
      };
      if (this.#free > 0) {
        this.#free--;
        grant();
      } else this.#queue.push(grant);
    });
  }
}

interface Waiting<T> {
  item: T;
  size: number;
  /** performance.now() when it was submitted. */
  at: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T> {
  readonly #write: (items: readonly T[]) => Promise<void>;
  readonly #sizeOf: (item: T) => number;
  readonly #maxSize: number;
  readonly #lane: WriteLane | undefined;
  #lingerMs: number;
  readonly #flushSize: number;
  readonly #retryDelayMs: GroupCommitOptions<T>['retryDelayMs'];
  readonly #waiting: Waiting<T>[] = [];
  #waitingSize = 0;
  /** A write is running, or scheduled (at the end of this turn, or when the linger ends). */
  #inFlight = false;
  /** The linger's timer, while the next write waits on it. */
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: GroupCommitOptions<T>) {
    this.#write = options.write;
    this.#sizeOf = options.sizeOf ?? (() => 1);
    this.#maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
    this.#lane = options.lane;
    this.#lingerMs = options.lingerMs ?? 0;
    this.#flushSize = options.flushSize ?? this.#maxSize;
    this.#retryDelayMs = options.retryDelayMs;
  }

  /** Items waiting for the next write. */
  get waiting(): number {
    return this.#waiting.length;
  }

  submit(item: T): Promise<void> {
    const size = this.#sizeOf(item);
    const done = new Promise<void>((resolve, reject) => {
      this.#waiting.push({ item, size, at: performance.now(), resolve, reject });
    });
    this.#waitingSize += size;
    if (!this.#inFlight) {
      this.#inFlight = true;
      if (this.#lingers()) this.#linger();
      else setImmediate(() => void this.#flush());
    } else if (!this.#lingers()) this.flush();
    return done;
  }

  /** Stops lingering for good, starting the write that lingers now (before a stop). */
  stopLingering(): void {
    this.#lingerMs = 0;
    this.flush();
  }

  /** Starts the write the waiting items linger for now, if they do. */
  flush(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#flush();
  }

  /** Whether the waiting items should wait for more: a linger is set and they are not enough yet. */
  #lingers(): boolean {
    return this.#lingerMs > 0 && this.#waitingSize < this.#flushSize;
  }

  /** Schedules the next write for when the oldest waiting item has lingered its time. */
  #linger(): void {
    const oldest = this.#waiting[0] as Waiting<T>;
    const delayMs = this.#lingerMs - (performance.now() - oldest.at);
    if (delayMs <= 0) {
      void this.#flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delayMs);
  }

  async #flush(): Promise<void> {
    await this.#writeGroup();
    // Whatever arrived during the write goes next: at once, or when its linger ends; otherwise the
    // next submit schedules.
    if (this.#waiting.length === 0) this.#inFlight = false;
    else if (this.#lingers()) this.#linger();
    else void this.#flush();
  }

  async #writeGroup(): Promise<void> {
    // The group is formed once the lane is held, so the items that arrive while it waits join it.
    let release = await this.#lane?.acquire();
    const group: Waiting<T>[] = [];
    let size = 0;
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0] as Waiting<T>;
      if (group.length > 0 && size + next.size > this.#maxSize) break;
      group.push(next);
      size += next.size;
      this.#waiting.shift();
    }
    this.#waitingSize -= size;
    const items = group.map((w) => w.item);
    try {
      if (group.length === 0) return;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.#write(items);
          for (const w of group) w.resolve();
          return;
        } catch (error) {
          const delayMs = this.#retryDelayMs?.(attempt, error) ?? null;
          if (delayMs === null) {
            for (const w of group) w.reject(error);
            return;
          }
          release?.();
          // Unreferenced: a retry alone does not keep a stopping process alive.
          await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
          release = await this.#lane?.acquire();
        }
      }
    } finally {
      release?.();
    }
  }
}
