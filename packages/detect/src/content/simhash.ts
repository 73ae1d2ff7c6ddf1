/**
 * 64-bit SimHash of a body template: near-duplicate templates get fingerprints a few bits apart.
 * Features are word shingles (3 tokens by default); texts too short for one shingle use single
 * tokens plus character 4-grams. Hashing is pure 32-bit integer math, so fingerprints are stable
 * across runs and platforms and may be stored. Not reentrant (module scratch), which JS never needs.
 */
import { flagsOfCodePoint, PUNCTUATION, unitAt, WHITESPACE, WORD } from './char-classes.ts';
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

const NO_MATCH = -1;
const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;
const COLON = 0x3a;
const LOWER_A = 0x61;
const LOWER_Z = 0x7a;

// Per-token hashes, grown on demand: no allocation per call once warm.
let tokenHashHi = new Uint32Array(256);
let tokenHashLo = new Uint32Array(256);

// Votes are counted as set bits per fingerprint bit (a bit is set when more than half the features
// set it). Byte k of laneCounts[j] counts bit 8k + j of the low half (j < 8) or of the high half
// (j ≥ 8), so one feature costs 16 masked adds rather than 64 branches; every 255 features the
// bytes, about to overflow, are drained into setBitCounts.
const LANE_MASK = 0x01010101;
const MAX_LANE_COUNT = 255;
const laneCounts = new Uint32Array(16);
const setBitCounts = new Int32Array(64);
let featureCount = 0;
let featuresInLanes = 0;

export function simhash64(template: string, options?: SimhashOptions): Fingerprint64 {
  const shingleSize = Math.max(1, Math.floor(options?.shingleSize ?? DEFAULT_SHINGLE_SIZE));
  resetVotes();
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
  return fingerprintOfVotes();
}

/**
 * Hashes every token of `template` into the scratch arrays; returns the token count. Tokens, the
 * first that matches at a position (/u): a placeholder `<[a-z]+(?::[^<>\s]+)?>`, a word
 * `[\p{L}\p{N}\p{M}_]+`, or any single other character but whitespace and punctuation, so "held."
 * and "held" shingle alike while emoji and currency symbols, which campaigns reuse, count.
 */
function hashTokens(template: string): number {
  let count = 0;
  let position = 0;
  while (position < template.length) {
    const start = position;
    let end = placeholderEnd(template, start);
    if (end === NO_MATCH) {
      const codePoint = template.codePointAt(start)!;
      const flags = flagsOfCodePoint(codePoint);
      end = start + (codePoint > 0xffff ? 2 : 1);
      if (flags & WORD) {
        end = wordEnd(template, end);
      } else if (flags & (WHITESPACE | PUNCTUATION)) {
        position = end;
        continue;
      }
    }
    if (count === tokenHashHi.length) growTokenScratch();
    // hash32 with both seeds in one pass over the token.
    let hi = HASH_SEED_HI | 0;
    let lo = HASH_SEED_LO | 0;
    for (let i = start; i < end; i++) {
      const unit = template.charCodeAt(i);
      hi = mixRound(hi, unit);
      lo = mixRound(lo, unit);
    }
    tokenHashHi[count] = avalanche(hi ^ (end - start));
    tokenHashLo[count] = avalanche(lo ^ (end - start));
    count++;
    position = end;
  }
  return count;
}

/** End of a `<[a-z]+(?::[^<>\s]+)?>` placeholder at `start`, or NO_MATCH. */
function placeholderEnd(template: string, start: number): number {
  if (unitAt(template, start) !== LESS_THAN) return NO_MATCH;
  let end = start + 1;
  while (isLowerAsciiLetter(unitAt(template, end))) end++;
  if (end === start + 1) return NO_MATCH;
  if (unitAt(template, end) === COLON) {
    // No ':' argument that ends in '>' means no match: the colon itself cannot be the '>'.
    const argumentStart = end + 1;
    end = argumentStart;
    while (end < template.length && isPlaceholderArgumentUnit(unitAt(template, end))) end++;
    if (end === argumentStart) return NO_MATCH;
  }
  return unitAt(template, end) === GREATER_THAN ? end + 1 : NO_MATCH;
}

/** `[^<>\s]`, one UTF-16 unit at a time: every `\s` character is a single unit. */
function isPlaceholderArgumentUnit(unit: number): boolean {
  return unit !== LESS_THAN && unit !== GREATER_THAN && (flagsOfCodePoint(unit) & WHITESPACE) === 0;
}

function isLowerAsciiLetter(unit: number): boolean {
  return unit >= LOWER_A && unit <= LOWER_Z;
}

/** End of the run of word characters starting at `start`. */
function wordEnd(template: string, start: number): number {
  let end = start;
  while (end < template.length) {
    const codePoint = template.codePointAt(end)!;
    if ((flagsOfCodePoint(codePoint) & WORD) === 0) break;
    end += codePoint > 0xffff ? 2 : 1;
  }
  return end;
}

function growTokenScratch(): void {
  const hi = new Uint32Array(tokenHashHi.length * 2);
  const lo = new Uint32Array(tokenHashLo.length * 2);
  hi.set(tokenHashHi);
  lo.set(tokenHashLo);
  tokenHashHi = hi;
  tokenHashLo = lo;
}

function resetVotes(): void {
  laneCounts.fill(0);
  setBitCounts.fill(0);
  featureCount = 0;
  featuresInLanes = 0;
}

function vote(hi: number, lo: number): void {
  for (let shift = 0; shift < 8; shift++) {
    laneCounts[shift]! += (lo >>> shift) & LANE_MASK;
    laneCounts[shift + 8]! += (hi >>> shift) & LANE_MASK;
  }
  featureCount++;
  featuresInLanes++;
  if (featuresInLanes === MAX_LANE_COUNT) drainLanes();
}

function drainLanes(): void {
  for (let bit = 0; bit < 64; bit++) {
    const bitInHalf = bit & 31;
    const lanes = laneCounts[(bit >>> 5) * 8 + (bitInHalf & 7)]!;
    setBitCounts[bit]! += (lanes >>> ((bitInHalf >>> 3) * 8)) & 0xff;
  }
  laneCounts.fill(0);
  featuresInLanes = 0;
}

/** Sets each bit that more than half of the features set, as a sum of ±1 votes above zero would. */
function fingerprintOfVotes(): Fingerprint64 {
  drainLanes();
  let hi = 0;
  let lo = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (2 * setBitCounts[bit]! > featureCount) lo |= 1 << bit;
    if (2 * setBitCounts[bit + 32]! > featureCount) hi |= 1 << bit;
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
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
