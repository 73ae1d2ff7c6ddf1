/**
 * 64-bit SimHash of a body template: near-duplicate templates get fingerprints a few bits apart.
 * Features are word shingles (3 tokens by default); texts too short for one shingle use single
 * tokens plus character 4-grams. Hashing is pure 32-bit integer math, so fingerprints are stable
 * across runs and platforms and may be stored. Not reentrant (module scratch), which JS never needs.
 */
import { avalanche, HASH_SEED_HI, HASH_SEED_LO, hash32, mixRound } from './string-hash.ts';

/** A 64-bit value as two unsigned 32-bit halves; `hi` holds bits 63..32. */
export interface Fingerprint64 {
  readonly hi: number;
  readonly lo: number;
}

export interface SimhashOptions {
  /** Tokens per shingle; default 3. */
  shingleSize?: number;
}

const DEFAULT_SHINGLE_SIZE = 3;
const CHAR_GRAM_SIZE = 4;
const FINGERPRINT_HEX = /^[0-9a-f]{16}$/i;

// Placeholders are one token each; punctuation is ignored so "held." and "held" shingle alike;
// other symbols (emoji, currency) are tokens because campaigns reuse them.
const TEMPLATE_TOKEN = /<[a-z]+(?::[^<>\s]+)?>|[\p{L}\p{N}\p{M}_]+|[^\s\p{P}\p{L}\p{N}\p{M}]/gu;

// Per-bit votes, and per-token hashes grown on demand: no allocation per call once warm.
const bitVotes = new Int32Array(64);
let tokenHashHi = new Uint32Array(256);
let tokenHashLo = new Uint32Array(256);

export function simhash64(template: string, options?: SimhashOptions): Fingerprint64 {
  const shingleSize = Math.max(1, Math.floor(options?.shingleSize ?? DEFAULT_SHINGLE_SIZE));
  bitVotes.fill(0);
  const tokenCount = hashTokens(template);
  if (tokenCount >= shingleSize) {
    for (let first = 0; first + shingleSize <= tokenCount; first++) {
      let hi = HASH_SEED_HI;
      let lo = HASH_SEED_LO;
      for (let i = first; i < first + shingleSize; i++) {
        hi = mixRound(hi, tokenHashHi[i]!);
        lo = mixRound(lo, tokenHashLo[i]!);
      }
      vote(avalanche(hi ^ shingleSize), avalanche(lo ^ shingleSize));
    }
  } else {
    for (let i = 0; i < tokenCount; i++) vote(tokenHashHi[i]!, tokenHashLo[i]!);
    // A 4-gram window that fits nowhere still leaves the whole (short) text as one feature.
    const lastGramStart = Math.max(0, template.length - CHAR_GRAM_SIZE);
    for (let start = 0; start <= lastGramStart && template.length > 0; start++) {
      const end = Math.min(template.length, start + CHAR_GRAM_SIZE);
      vote(hash32(template, HASH_SEED_HI, start, end), hash32(template, HASH_SEED_LO, start, end));
    }
  }
  let hi = 0;
  let lo = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (bitVotes[bit]! > 0) lo |= 1 << bit;
    if (bitVotes[bit + 32]! > 0) hi |= 1 << bit;
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

/** Hashes every token of `template` into the scratch arrays; returns the token count. */
function hashTokens(template: string): number {
  let count = 0;
  TEMPLATE_TOKEN.lastIndex = 0;
  for (let match = TEMPLATE_TOKEN.exec(template); match !== null; match = TEMPLATE_TOKEN.exec(template)) {
    if (count === tokenHashHi.length) growTokenScratch();
    const end = match.index + match[0].length;
    tokenHashHi[count] = hash32(template, HASH_SEED_HI, match.index, end);
    tokenHashLo[count] = hash32(template, HASH_SEED_LO, match.index, end);
    count++;
  }
  return count;
}

function growTokenScratch(): void {
  const hi = new Uint32Array(tokenHashHi.length * 2);
  const lo = new Uint32Array(tokenHashLo.length * 2);
  hi.set(tokenHashHi);
  lo.set(tokenHashLo);
  tokenHashHi = hi;
  tokenHashLo = lo;
}

function vote(hi: number, lo: number): void {
  for (let bit = 0; bit < 32; bit++) {
    bitVotes[bit]! += ((lo >>> bit) & 1) === 1 ? 1 : -1;
    bitVotes[bit + 32]! += ((hi >>> bit) & 1) === 1 ? 1 : -1;
  }
}

function popcount32(value: number): number {
  let x = value - ((value >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of differing bits, 0..64. */
export function hammingDistance(a: Fingerprint64, b: Fingerprint64): number {
  return popcount32(a.hi ^ b.hi) + popcount32(a.lo ^ b.lo);
}

/** 16 lower-case hex digits, most significant first. */
export function fingerprintToHex(fingerprint: Fingerprint64): string {
  return (
    (fingerprint.hi >>> 0).toString(16).padStart(8, '0') +
    (fingerprint.lo >>> 0).toString(16).padStart(8, '0')
  );
}

/** Inverse of `fingerprintToHex`; throws a RangeError unless given exactly 16 hex digits. */
export function fingerprintFromHex(hex: string): Fingerprint64 {
  if (!FINGERPRINT_HEX.test(hex)) {
    throw new RangeError(`A fingerprint is 16 hex digits, got ${JSON.stringify(hex.slice(0, 40))}`);
  }
  return { hi: Number.parseInt(hex.slice(0, 8), 16), lo: Number.parseInt(hex.slice(8), 16) };
}
