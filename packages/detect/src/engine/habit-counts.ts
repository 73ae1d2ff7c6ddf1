/**
 * How often a key used each value of a habit (source network, user agent), keeping at most `max`
 * values: a new value evicts the least used. The per-event case is "the same value as last time",
 * so repeats of the last value are counted aside and folded into the map only before anything
 * reads counts (a new value's eviction, iteration): same counts, no map write per event.
 */

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

export class HabitCounts {
  readonly #counts = new Map<string, number>();
  readonly #max: number;
  /** The value last remembered (always in the map while set) and its uncounted repeats. */
  #last = '';
  #lastRepeats = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#counts.size;
  }

  has(value: string): boolean {
    return (value === this.#last && value !== '') || this.#counts.has(value);
  }

  remember(value: string): void {
    if (!value) return;
    if (value === this.#last) {
      this.#lastRepeats++;
      return;
    }
    this.#flush();
    rememberIn(this.#counts, value, this.#max);
    this.#last = value;
  }

  /** Sets a count directly (restore). */
  set(value: string, count: number): void {
    this.#flush();
    this.#last = '';
    this.#counts.set(value, count);
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    this.#flush();
    return this.#counts.entries();
  }

  #flush(): void {
    if (this.#lastRepeats === 0) return;
    this.#counts.set(this.#last, (this.#counts.get(this.#last) as number) + this.#lastRepeats);
    this.#lastRepeats = 0;
  }
}
