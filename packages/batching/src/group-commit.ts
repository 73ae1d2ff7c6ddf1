/**
 * Group commit: callers submit items to a sink whose every write has a fixed cost (an INSERT makes
 * a ClickHouse part, a produce request is a broker round trip), so at most one write is in flight
 * and the items that arrive meanwhile go out together in the next one. When idle, a write starts at
 * the end of the current turn of the event loop, so items submitted in the same turn (the batches
 * of one Kafka fetch, handed out together) share it; under load the writes grow by themselves.
 *
 * Each item's promise settles with the write that carried it: resolved when it succeeded, rejected
 * with its error otherwise, so a caller's own retry loop simply joins the next write.
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
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T> {
  readonly #write: (items: readonly T[]) => Promise<void>;
  readonly #sizeOf: (item: T) => number;
  readonly #maxSize: number;
  readonly #lane: WriteLane | undefined;
  readonly #waiting: Waiting<T>[] = [];
  /** A write is running, or scheduled to start at the end of this turn. */
  #inFlight = false;

  constructor(options: GroupCommitOptions<T>) {
    this.#write = options.write;
    this.#sizeOf = options.sizeOf ?? (() => 1);
    this.#maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
    this.#lane = options.lane;
  }

  /** Items waiting for the next write. */
  get waiting(): number {
    return this.#waiting.length;
  }

  submit(item: T): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
    });
    if (!this.#inFlight) {
      this.#inFlight = true;
      setImmediate(() => void this.#flush());
    }
    return done;
  }

  async #flush(): Promise<void> {
    const release = await this.#lane?.acquire();
    try {
      await this.#writeGroup();
    } finally {
      release?.();
    }
    // Whatever arrived during the write goes next, at once; otherwise the next submit schedules.
    if (this.#waiting.length > 0) void this.#flush();
    else this.#inFlight = false;
  }

  async #writeGroup(): Promise<void> {
    const group: Waiting<T>[] = [];
    let size = 0;
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0] as Waiting<T>;
      const nextSize = this.#sizeOf(next.item);
      if (group.length > 0 && size + nextSize > this.#maxSize) break;
      group.push(next);
      size += nextSize;
      this.#waiting.shift();
    }
    if (group.length === 0) return;
    try {
      await this.#write(group.map((w) => w.item));
      for (const w of group) w.resolve();
    } catch (error) {
      for (const w of group) w.reject(error);
    }
  }
}
