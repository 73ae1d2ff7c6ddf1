/**
 * Small non-cryptographic hashes: integer mixing for seeds and index→value mappings (recipient
 * populations), and string digests for `bodyHash`. Pure functions of their input, so they keep the
 * simulation deterministic without drawing from any random stream.
 */

/** A bijective avalanche of a 32-bit integer (the murmur3 finalizer). */
export function mix32(value: number): number {
  let x = value | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Mixes two 32-bit integers into one, order-sensitive. */
export function mix2(first: number, second: number): number {
  return mix32(mix32(first) ^ Math.imul(second | 0, 0x9e3779b1) ^ 0x5bd1e995);
}

/** FNV-1a over UTF-16 code units, then mixed: a 32-bit label hash. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return mix32(hash);
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** A 64-bit lower-case hex digest (two independent 32-bit lanes), the shape `bodyHash` requires. */
export function bodyDigest(text: string): string {
  let first = 0x811c9dc5;
  let second = 0x01000193 ^ text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    first = Math.imul(first ^ code, 0x01000193);
    second = Math.imul(second ^ code, 0x5bd1e995) ^ (second >>> 15);
  }
  return hex8(mix32(first)) + hex8(mix32(second ^ first));
}
