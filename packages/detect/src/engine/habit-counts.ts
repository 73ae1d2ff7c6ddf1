/**
 * How often a key used each value of a habit (source network, user agent), keeping at most `max`
 * values: a new value evicts the least used. The per-event case is "the same value as last time",
 * so repeats of the last value are counted aside and folded into the map only before anything
 * reads counts (a new value's eviction, iteration): same counts, no map write per event.
 */

import { intern } from './intern.ts';

/** Counts `value` in `map`, evicting the least used value (first of equals) past `max`. */
export function rememberIn(map: Map<string, number>, value: string, max: number): void {
  if (!value) return;
  const seen = map.get(value);
  if (seen !== undefined) {
    map.set(value, seen + 1);
    return;
  }
  if (map.size >= max) {
    // Forget the least used, so one-off values do not crowd out the key's real habits.
    let rarest = '';
    let rarestCount = Infinity;
    for (const [k, c] of map) {
      if (c < rarestCount) {
        rarest = k;
        rarestCount = c;
      }
    }
    map.delete(rarest);
  }
  map.set(value, 1);
}

/** `folded` is TypeScript-private, not `#`: a `#` method costs every instance a brand field (see RateBaseline). */
export class HabitCounts {
  /**
   * Created when a second distinct value arrives: most keys keep one network and one user agent
   * for life, and an empty Map with its table costs ~150 bytes per habit per key.
   */
  #counts: Map<string, number> | null = null;
  readonly #max: number;
  /**
   * The value last remembered and its uncounted repeats. While there is no map, `#last` is the only
   * value and `#lastRepeats` its whole count; with a map, `#last` is in it and `#lastRepeats` waits
   * to be added.
   */
  #last = '';
  #lastRepeats = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#counts ? this.#counts.size : this.#last ? 1 : 0;
  }

  has(value: string): boolean {
    return (value === this.#last && value !== '') || (this.#counts?.has(value) ?? false);
  }

  remember(event: string): void {
    if (!event) return;
    if (event === this.#last) {
      this.#lastRepeats++;
      return;
    }
    // A changed value is kept: keep the shared copy, not the event's.
    const value = intern(event);
    if (this.#counts === null && this.#last === '') {
      this.#last = value;
      this.#lastRepeats = 1;
      return;
    }
    const counts = this.folded();
    rememberIn(counts, value, this.#max);
    this.#last = value;
  }

  /** Sets a count directly (restore): a single value stays inline, as it was before the snapshot. */
  set(value: string, count: number): void {
    const shared = intern(value);
    if (this.#counts === null && (this.#last === '' || this.#last === shared)) {
      this.#last = shared;
      this.#lastRepeats = count;
      return;
    }
    const counts = this.folded();
    this.#last = '';
    counts.set(shared, count);
  }

  /** Values with their counts; reading does not create the map (snapshots iterate every key). */
  *[Symbol.iterator](): IterableIterator<[string, number]> {
    if (this.#counts === null) {
      if (this.#last) yield [this.#last, this.#lastRepeats];
      return;
    }
    yield* this.folded().entries();
  }

  /** The map with every count folded in (created on first need). */
  private folded(): Map<string, number> {
    if (this.#counts === null) {
      this.#counts = new Map();
      if (this.#last) this.#counts.set(this.#last, this.#lastRepeats);
      this.#lastRepeats = 0;
      return this.#counts;
    }
    if (this.#lastRepeats > 0) {
      this.#counts.set(this.#last, (this.#counts.get(this.#last) as number) + this.#lastRepeats);
      this.#lastRepeats = 0;
    }
    return this.#counts;
  }
}
