/**
 * Seeded 32-bit string hash (MurmurHash3-style rounds over UTF-16 code units, full avalanche at the
 * end). Two calls with different seeds give the independent halves of a 64-bit hash without BigInt.
 * Pure integer arithmetic (Math.imul, >>>), so results are identical on every platform and run.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Seeds for the two halves of a 64-bit hash; arbitrary but fixed forever (fingerprints are stored). */
export const HASH_SEED_HI = 0x9747b28c;
export const HASH_SEED_LO = 0x5bd1e995;

/** One Murmur3 body round: folds a 32-bit value into the running hash. */
export function mixRound(hash: number, value: number): number {
  let k = Math.imul(value, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Murmur3 finaliser: every input bit affects every output bit. Returns an unsigned 32-bit value. */
export function avalanche(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of `text.slice(start, end)` without creating the slice. */
export function hash32(text: string, seed: number, start = 0, end = text.length): number {
  let h = seed | 0;
  for (let i = start; i < end; i++) h = mixRound(h, text.charCodeAt(i));
  return avalanche(h ^ (end - start));
}
