/**
 * A string-keyed map for an account's sub-keys (API keys, destination countries). Most accounts
 * send with one key to one country, and a Map with its hash table costs ~200 bytes even for one
 * entry, so the first entry is held inline and a Map is created only when a second key arrives.
 * The inline pair then caches the last key looked up: the per-event lookup is usually a string
 * comparison. Iteration is in insertion order, as a Map's, and deleting while iterating is safe.
 */
export class SmallMap<V> implements Iterable<[string, V]> {
  /** Without a map: the only entry (undefined when empty). With one: the last key looked up. */
  #key: string | undefined = undefined;
  #value: V | undefined = undefined;
  #map: Map<string, V> | null = null;

  get size(): number {
    if (this.#map !== null) return this.#map.size;
    return this.#key === undefined ? 0 : 1;
  }

  get(key: string): V | undefined {
    if (key === this.#key) return this.#value;
    if (this.#map === null) return undefined;
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#key = key;
      this.#value = value;
    }
    return value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): this {
    if (this.#map === null && this.#key !== undefined && this.#key !== key) {
      this.#map = new Map([[this.#key, this.#value as V]]);
    }
    this.#map?.set(key, value);
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
    return this.#map === null ? cached : this.#map.delete(key);
  }

  /** The entry inserted first (the eviction candidate), or undefined when empty. */
  oldest(): [string, V] | undefined {
    if (this.#map !== null) return this.#map.entries().next().value;
    return this.#key === undefined ? undefined : [this.#key, this.#value as V];
  }

  *entries(): IterableIterator<[string, V]> {
    if (this.#map !== null) yield* this.#map.entries();
    else if (this.#key !== undefined) yield [this.#key, this.#value as V];
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
