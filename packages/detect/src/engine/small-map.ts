/**
 * A string-keyed map for an account's sub-keys (API keys, destination countries). Most accounts
 * send with one key to one country, and a Map with its hash table costs ~200 bytes even for one
 * entry, so the first entry is held inline; up to LIST_MAX entries live in one exact-size array of
 * alternating keys and values (~100 bytes for five, against ~250 for a Map of five), and only a
 * larger set gets a Map. The inline pair caches the last key looked up: the per-event lookup is
 * usually a string comparison. Iteration is in insertion order, as a Map's, and deleting while
 * iterating is safe (entries deleted before they are reached are skipped, as a Map's are; unlike a
 * Map's, entries added during an iteration over the list may not be visited).
 */

/** Entries kept in the flat list before a Map pays for its hash table. */
const LIST_MAX = 8;

export class SmallMap<V> implements Iterable<[string, V]> {
  /**
   * Without a list or map: the only entry (undefined when empty). With one: the last key looked up
   * (or undefined).
   */
  #key: string | undefined = undefined;
  #value: V | undefined = undefined;
  /** [key0, value0, key1, value1, …] for 2..LIST_MAX entries; replaced, never resized in place. */
  #list: unknown[] | null = null;
  #map: Map<string, V> | null = null;

  get size(): number {
    if (this.#map !== null) return this.#map.size;
    if (this.#list !== null) return this.#list.length / 2;
    return this.#key === undefined ? 0 : 1;
  }

  get(key: string): V | undefined {
    if (key === this.#key) return this.#value;
    let value: V | undefined;
    if (this.#list !== null) {
      const at = indexOf(this.#list, key);
      if (at < 0) return undefined;
      value = this.#list[at + 1] as V;
    } else if (this.#map !== null) {
      value = this.#map.get(key);
      if (value === undefined) return undefined;
    } else return undefined;
    this.#key = key;
    this.#value = value;
    return value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): this {
    if (this.#map !== null) this.#map.set(key, value);
    else if (this.#list !== null) {
      const list = this.#list;
      const at = indexOf(list, key);
      if (at >= 0) list[at + 1] = value;
      else if (list.length / 2 < LIST_MAX) this.#list = appended(list, key, value);
      else {
        const map = new Map<string, V>();
        for (let i = 0; i < list.length; i += 2) map.set(list[i] as string, list[i + 1] as V);
        map.set(key, value);
        this.#map = map;
        this.#list = null;
      }
    } else if (this.#key !== undefined && this.#key !== key) {
      this.#list = [this.#key, this.#value, key, value];
    }
    this.#key = key;
    this.#value = value;
    return this;
  }

  delete(key: string): boolean {
    const cached = key === this.#key;
    if (cached) {
      this.#key = undefined;
      this.#value = undefined;
    }
    if (this.#map !== null) return this.#map.delete(key);
    if (this.#list === null) return cached;
    const list = this.#list;
    const at = indexOf(list, key);
    if (at < 0) return false;
    // A new array, so an iteration over the old one goes on undisturbed.
    const rest = list.slice(0, at).concat(list.slice(at + 2));
    if (rest.length > 2) this.#list = rest;
    else {
      // One entry left: inline again.
      this.#list = null;
      this.#key = rest[0] as string | undefined;
      this.#value = rest[1] as V | undefined;
    }
    return true;
  }

  /** The entry inserted first (the eviction candidate), or undefined when empty. */
  oldest(): [string, V] | undefined {
    if (this.#map !== null) return this.#map.entries().next().value;
    if (this.#list !== null) return [this.#list[0] as string, this.#list[1] as V];
    return this.#key === undefined ? undefined : [this.#key, this.#value as V];
  }

  *entries(): IterableIterator<[string, V]> {
    if (this.#map !== null) {
      yield* this.#map.entries();
      return;
    }
    const list = this.#list;
    if (list === null) {
      if (this.#key !== undefined) yield [this.#key, this.#value as V];
      return;
    }
    for (let i = 0; i < list.length; i += 2) {
      const key = list[i] as string;
      if (this.#list === list) yield [key, list[i + 1] as V];
      else {
        // The list was replaced (an entry deleted) since the iteration began: skip entries deleted
        // before they are reached and read the current value, as a Map's iterator would.
        const value = this.get(key);
        if (value !== undefined) yield [key, value];
      }
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}

/**
 * `list` with one more entry, in an array of exactly its size: a spread or a push leaves the
 * array room to grow (~230 bytes for five entries instead of ~100).
 */
function appended(list: readonly unknown[], key: string, value: unknown): unknown[] {
  const next = new Array<unknown>(list.length + 2);
  for (let i = 0; i < list.length; i++) next[i] = list[i];
  next[list.length] = key;
  next[list.length + 1] = value;
  return next;
}

/** Index of `key` among the list's keys (even positions), or -1. */
function indexOf(list: unknown[], key: string): number {
  for (let i = 0; i < list.length; i += 2) if (list[i] === key) return i;
  return -1;
}
