/**
 * Bounding a Map's size without V8's slow paths. V8 leaves a deleted entry's slot in place (in the
 * insertion order and in its key's hash chain) until the table is rebuilt, which happens only when
 * its slots run out, so two usual ways of bounding a large Map cost O(size) per operation:
 * - evicting the oldest entry with `map.keys().next()`: each new iterator starts at the first slot
 *   and skips every deleted one before the oldest live entry (measured on Node 24: 187 µs per
 *   eviction at 200,000 entries, 16 µs at 20,000);
 * - keeping recency order with `map.delete(key); map.set(key, value)`: each re-insertion of a key
 *   leaves one more dead slot in its hash chain, which every later lookup of it walks (one hot key in
 *   a 200,000-entry Map: 2.4 µs per touch after 1,000 touches, 153 µs after 50,000).
 * `deleteOldest` keeps one iterator per Map, so each slot is passed once (`forgetCursor` drops it when
 * something else deletes from the map); `LruMap` keeps recency in a
 * linked list and never re-inserts a key to move it. The engine's capped maps evict through them;
 * SmallMap (an account's ≤ 256 API keys or countries) still finds its oldest with `entries().next()`,
 * which at that size passes a few hundred slots at most.
 */

const cursors = new WeakMap<Map<unknown, unknown>, Iterator<[unknown, unknown]>>();

/**
 * Drops `map`'s iterator. Whoever deletes from a map that evicts through `deleteOldest` (a sweep)
 * calls this: an iterator that is not moved on keeps alive every table V8 rebuilds the map into
 * after it, with the entries each held when rebuilt, so a map that stopped evicting here — kept
 * under its cap by the sweeps — kept every entry it ever dropped (measured: ~335 B per evicted
 * account, 320 MiB after 1 M; a review's repro). The next `deleteOldest` starts a new iterator.
 */
export function forgetCursor(map: Map<unknown, unknown>): void {
  cursors.delete(map);
}

/**
 * Deletes the first entry of `map` in insertion order and returns it (undefined when empty), in
 * amortised O(1): the iterator of the previous call goes on from where it stopped. It stays correct
 * whatever else is done to the map: every entry it passed was deleted here, entries set later come
 * after it (as a Map's iterator sees them), and entries deleted elsewhere are skipped.
 */
export function deleteOldest<K, V>(map: Map<K, V>): [K, V] | undefined {
  const cursor = cursors.get(map) as Iterator<[K, V]> | undefined;
  let next = cursor?.next();
  if (next === undefined || next.done === true) {
    // A finished iterator stays finished, even when entries are added after it: start a new one.
    const fresh = map.entries();
    cursors.set(map, fresh);
    next = fresh.next();
    if (next.done === true) return undefined;
  }
  map.delete(next.value[0]);
  return next.value;
}

interface LruNode<K, V> {
  readonly key: K;
  value: V;
  older: LruNode<K, V> | null;
  newer: LruNode<K, V> | null;
}

/**
 * A Map in least-recently-used order: `set` and `touch` make an entry the newest, `get` does not.
 * Iteration runs from the least to the most recently used entry, as a Map's own iteration does when
 * recency is kept by deleting and re-setting keys, so it can replace such a Map without changing what
 * is iterated, snapshotted or evicted. Every operation is O(1).
 */
export class LruMap<K, V> implements Iterable<[K, V]> {
  readonly #nodes = new Map<K, LruNode<K, V>>();
  #oldest: LruNode<K, V> | null = null;
  #newest: LruNode<K, V> | null = null;

  get size(): number {
    return this.#nodes.size;
  }

  get(key: K): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  has(key: K): boolean {
    return this.#nodes.has(key);
  }

  /** Sets `key` to `value` and makes it the most recently used entry. */
  set(key: K, value: V): void {
    const node = this.#nodes.get(key);
    if (node === undefined) {
      const added: LruNode<K, V> = { key, value, older: null, newer: null };
      this.#nodes.set(key, added);
      this.#append(added);
    } else {
      node.value = value;
      this.#moveToNewest(node);
    }
  }

  /** Makes `key` the most recently used entry; false when it is absent. */
  touch(key: K): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#moveToNewest(node);
    return true;
  }

  delete(key: K): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#nodes.delete(key);
    this.#unlink(node);
    return true;
  }

  /** The least recently used key, or undefined when empty. */
  oldestKey(): K | undefined {
    return this.#oldest?.key;
  }

  /** Deletes the least recently used entry and returns it (undefined when empty). */
  deleteOldest(): [K, V] | undefined {
    const node = this.#oldest;
    if (node === null) return undefined;
    this.#nodes.delete(node.key);
    this.#unlink(node);
    return [node.key, node.value];
  }

  clear(): void {
    this.#nodes.clear();
    this.#oldest = null;
    this.#newest = null;
  }

  /** Entries from the least to the most recently used. Do not change the map while iterating. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (let node = this.#oldest; node !== null; node = node.newer) yield [node.key, node.value];
  }

  entries(): IterableIterator<[K, V]> {
    return this[Symbol.iterator]();
  }

  #moveToNewest(node: LruNode<K, V>): void {
    if (node === this.#newest) return;
    this.#unlink(node);
    this.#append(node);
  }

  #append(node: LruNode<K, V>): void {
    node.older = this.#newest;
    node.newer = null;
    if (this.#newest === null) this.#oldest = node;
    else this.#newest.newer = node;
    this.#newest = node;
  }

  #unlink(node: LruNode<K, V>): void {
    if (node.older === null) this.#oldest = node.newer;
    else node.older.newer = node.newer;
    if (node.newer === null) this.#newest = node.older;
    else node.newer.older = node.older;
    node.older = null;
    node.newer = null;
  }
}
