/**
 * Fixed-size slots of numeric state carved out of large shared pages, so a key's rate tracker is
 * one contiguous run of memory (a few cache lines) instead of a graph of small objects and typed
 * arrays. Each page is one ArrayBuffer seen as Float64 (scalars) and Float32 (bucket counts).
 * Released slots go on a free list and are reused, so evicting idle keys caps memory at the peak
 * live set. A slot is zero-filled when handed out; its owner initialises the rest. Pages are also
 * seen as Uint32 for slots of small integers (a country's recent recipient numbers).
 */

/** Slots per page: large enough that pages are few, small enough that the last one wastes little. */
const SLOTS_PER_PAGE = 1024;

/** One page's views (shared by its slots: a tracker keeps one reference, not four). */
export interface SlabPage {
  readonly f64: Float64Array;
  readonly f32: Float32Array;
  readonly u32: Uint32Array;
  readonly u16: Uint16Array;
}

/**
 * Where one slot lives: `page.f64[base .. base + stride)`, the same bytes as `page.f32[2 * base ..)`,
 * `page.u32[2 * base ..)` and `page.u16[4 * base ..)`.
 */
export interface SlabSlot {
  readonly page: SlabPage;
  readonly base: number;
  /** Page index × SLOTS_PER_PAGE + slot index; -1 for a standalone slot. */
  readonly id: number;
}

export class TrackerSlab {
  /** Slot size in 8-byte words. */
  readonly stride: number;
  readonly #pages: SlabPage[] = [];
  /** Free slots as (page index × SLOTS_PER_PAGE + slot index); reused last-freed first. */
  readonly #free: number[] = [];
  /** 1 for each slot handed out: a double release would hand one slot to two trackers. */
  #inUse = new Uint8Array(0);
  /** Page index of each page's buffer, for releasing a slot known by its views and base. */
  readonly #pageOf = new Map<ArrayBufferLike, number>();
  #live = 0;

  constructor(stride: number) {
    if (!Number.isInteger(stride) || stride < 1)
      throw new RangeError(`slot stride must be ≥ 1, got ${stride}`);
    this.stride = stride;
  }

  /** Slots handed out and not yet released. */
  get live(): number {
    return this.#live;
  }

  /** Bytes of page memory reserved (live and free slots). */
  get reservedBytes(): number {
    return this.#pages.length * SLOTS_PER_PAGE * this.stride * 8;
  }

  allocate(): SlabSlot {
    if (this.#free.length === 0) this.#addPage();
    const id = this.#free.pop() as number;
    const page = this.#pages[Math.floor(id / SLOTS_PER_PAGE)] as SlabPage;
    const base = (id % SLOTS_PER_PAGE) * this.stride;
    page.f64.fill(0, base, base + this.stride);
    this.#inUse[id] = 1;
    this.#live++;
    return { page, base, id };
  }

  /** Returns the slot starting at word `base` of the page `view` (any of its views) covers. */
  releaseAt(view: Float64Array | Uint32Array, base: number): void {
    const page = this.#pageOf.get(view.buffer);
    if (page === undefined) throw new RangeError('slot does not belong to this slab');
    this.release(view, page * SLOTS_PER_PAGE + base / this.stride);
  }

  /** Returns a slot (given by any view of its page and its id); the caller must not touch it afterwards. */
  release(view: Float64Array | Uint32Array, id: number): void {
    if (this.#pages[Math.floor(id / SLOTS_PER_PAGE)]?.f64.buffer !== view.buffer)
      throw new RangeError('slot does not belong to this slab');
    if (this.#inUse[id] !== 1) throw new RangeError(`slot ${id} released twice`);
    this.#inUse[id] = 0;
    this.#free.push(id);
    this.#live--;
  }

  #addPage(): void {
    const buffer = new ArrayBuffer(SLOTS_PER_PAGE * this.stride * 8);
    const pageIndex = this.#pages.length;
    if (this.#inUse.length < (pageIndex + 1) * SLOTS_PER_PAGE) {
      // Doubling: growing by one page at a time copied (and freed) a million flags per page of a
      // large state, churn that fragments the allocator's heap around the long-lived pages.
      const inUse = new Uint8Array(Math.max(1, 2 * pageIndex) * SLOTS_PER_PAGE);
      inUse.set(this.#inUse);
      this.#inUse = inUse;
    }
    this.#pageOf.set(buffer, pageIndex);
    this.#pages.push({
      f64: new Float64Array(buffer),
      f32: new Float32Array(buffer),
      u32: new Uint32Array(buffer),
      u16: new Uint16Array(buffer),
    });
    // Push in reverse so slots are handed out in address order.
    for (let s = SLOTS_PER_PAGE - 1; s >= 0; s--) this.#free.push(pageIndex * SLOTS_PER_PAGE + s);
  }
}

/** A standalone slot (own buffer), for trackers and baselines used outside an engine. */
export function ownSlot(stride: number): SlabSlot {
  const buffer = new ArrayBuffer(stride * 8);
  const page: SlabPage = {
    f64: new Float64Array(buffer),
    f32: new Float32Array(buffer),
    u32: new Uint32Array(buffer),
    u16: new Uint16Array(buffer),
  };
  return { page, base: 0, id: -1 };
}

/**
 * `values[start .. start + length)` as a plain array. A counted loop: `Array.from(typed.subarray())`
 * goes through the iterator protocol and made snapshots of large states several times slower.
 */
export function copyOut(
  values: Float32Array | Float64Array | Uint32Array | Uint16Array,
  start: number,
  length: number,
): number[] {
  const out = new Array<number>(length);
  for (let i = 0; i < length; i++) out[i] = values[start + i] as number;
  return out;
}
