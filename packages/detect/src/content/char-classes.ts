/**
 * Unicode character classes of the content scanners as bit flags per code point, so a scanner pays
 * one table lookup per character instead of a regex test. Each flag is defined by the regex class it
 * stands for, with the same flags (so /iu case closure, e.g. U+0345 counting as a letter, carries over
 * exactly); non-ASCII entries are computed on first use and cached in 256-code-point blocks.
 */

// Classes used by span matching (links, emails, amounts), which ignores case (/iu).
/** `[\p{L}\p{N}\p{M}._%+-]`/iu: the local part of an email address. */
export const EMAIL_LOCAL = 1 << 0;
/** `[\p{L}\p{N}\p{M}-]`/iu: a domain label character. */
export const LABEL = 1 << 1;
/** `[\p{L}\p{N}\p{M}.@/-]`/iu: a bare host never starts right after one of these. */
export const JOINS_HOST = 1 << 2;
/** `[\p{L}\p{N}]`/iu: an amount never starts right after one of these. */
export const JOINS_AMOUNT = 1 << 3;
/** `[\p{L}\p{N}.,]`/iu: a number followed by a currency never starts right after one of these. */
export const JOINS_NUMBER = 1 << 4;
/** `\p{L}`/iu: a currency word must not run on into one of these. */
export const SPAN_LETTER = 1 << 5;
/** `\p{Nd}`/iu */
export const SPAN_DIGIT = 1 << 6;

// Classes used by word-level tokenizing of plain text and of templates (/u).
/** `[\p{L}\p{N}\p{M}_]`/u: a word character. */
export const WORD = 1 << 7;
/** `\p{L}`/u */
export const LETTER = 1 << 8;
/** `\p{Nd}`/u */
export const DIGIT = 1 << 9;
/** `[\p{Lu}\p{Lt}]`/u: starts a capitalised word. */
export const CAPITAL = 1 << 10;
/** `\s`/u */
export const WHITESPACE = 1 << 11;
/** `\p{P}`/u */
export const PUNCTUATION = 1 << 12;

// ASCII-only classes of long tokens, and the currency symbols.
/** `[A-Za-z0-9+/_-]`: a character of a long token. */
export const BASE64 = 1 << 13;
/** `[A-Za-z0-9+/=_-]`: a long token never starts after, nor ends before, one of these. */
export const BASE64_OR_PADDING = 1 << 14;
/** `[$£€¥₹₩₽₺₦₱¢₫₪฿]` */
export const CURRENCY_SYMBOL = 1 << 15;

/** Marks a cached entry as computed, so a code point in no class is not recomputed. */
const COMPUTED = 1 << 16;

const DEFINITIONS: ReadonlyArray<readonly [flag: number, pattern: RegExp]> = [
  [EMAIL_LOCAL, /^[\p{L}\p{N}\p{M}._%+-]$/iu],
  [LABEL, /^[\p{L}\p{N}\p{M}-]$/iu],
  [JOINS_HOST, /^[\p{L}\p{N}\p{M}.@/-]$/iu],
  [JOINS_AMOUNT, /^[\p{L}\p{N}]$/iu],
  [JOINS_NUMBER, /^[\p{L}\p{N}.,]$/iu],
  [SPAN_LETTER, /^\p{L}$/iu],
  [SPAN_DIGIT, /^\p{Nd}$/iu],
  [WORD, /^[\p{L}\p{N}\p{M}_]$/u],
  [LETTER, /^\p{L}$/u],
  [DIGIT, /^\p{Nd}$/u],
  [CAPITAL, /^[\p{Lu}\p{Lt}]$/u],
  [WHITESPACE, /^\s$/u],
  [PUNCTUATION, /^\p{P}$/u],
  [BASE64, /^[A-Za-z0-9+/_-]$/u],
  [BASE64_OR_PADDING, /^[A-Za-z0-9+/=_-]$/u],
  [CURRENCY_SYMBOL, /^[$£€¥₹₩₽₺₦₱¢₫₪฿]$/u],
];

const BLOCK_BITS = 8;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;
const BLOCK_COUNT = 0x110000 >>> BLOCK_BITS;
const ASCII_END = 0x80;

function computeFlags(codePoint: number): number {
  const char = String.fromCodePoint(codePoint);
  let flags = COMPUTED;
  for (const [flag, pattern] of DEFINITIONS) {
    if (pattern.test(char)) flags |= flag;
  }
  return flags;
}

const ASCII_FLAGS = Int32Array.from({ length: ASCII_END }, (_, codePoint) => computeFlags(codePoint));
// Sized up front so that V8 keeps the array dense; blocks are created on first use.
const blocks: Array<Int32Array | undefined> = Array.from({ length: BLOCK_COUNT }, () => undefined);

/** Class flags of one code point (a lone surrogate counts as a code point of its own). */
export function flagsOfCodePoint(codePoint: number): number {
  if (codePoint < ASCII_END) return ASCII_FLAGS[codePoint]!;
  const blockIndex = codePoint >>> BLOCK_BITS;
  let block = blocks[blockIndex];
  if (block === undefined) {
    block = new Int32Array(1 << BLOCK_BITS);
    blocks[blockIndex] = block;
  }
  let flags = block[codePoint & BLOCK_MASK]!;
  if (flags === 0) {
    flags = computeFlags(codePoint);
    block[codePoint & BLOCK_MASK] = flags;
  }
  return flags;
}

/**
 * `text.charCodeAt(index)`, or -1 outside `text`. Scanners read one past a run's end all the time;
 * V8 inlines charCodeAt only at call sites that have never read out of bounds (else it calls a
 * builtin each time), so all reads that may fall outside go through this check.
 */
export function unitAt(text: string, index: number): number {
  return index >= 0 && index < text.length ? text.charCodeAt(index) : -1;
}

/** Flags of the code point starting at `index`; 0 outside `text`. */
export function flagsAt(text: string, index: number): number {
  const unit = unitAt(text, index);
  if (unit < 0) return 0;
  return unit < ASCII_END ? ASCII_FLAGS[unit]! : nonAsciiFlagsAt(text, index);
}

function nonAsciiFlagsAt(text: string, index: number): number {
  return flagsOfCodePoint(text.codePointAt(index)!);
}

/**
 * Flags of the code point ending just before `index`, as a /u look-behind sees it; 0 when `index`
 * is at `floor`, the start of the text the look-behind may see.
 */
export function flagsBefore(text: string, index: number, floor: number): number {
  if (index <= floor) return 0;
  const unit = text.charCodeAt(index - 1);
  if (unit < ASCII_END) return ASCII_FLAGS[unit]!;
  if (isTrailSurrogate(unit) && index - 2 >= floor) {
    const lead = text.charCodeAt(index - 2);
    if (isLeadSurrogate(lead)) return flagsOfCodePoint(text.codePointAt(index - 2)!);
  }
  return flagsOfCodePoint(unit);
}

/** UTF-16 length of the code point starting at `index`: 2 for a surrogate pair, else 1. */
export function codePointLength(text: string, index: number): number {
  return isLeadSurrogate(unitAt(text, index)) && isTrailSurrogate(unitAt(text, index + 1)) ? 2 : 1;
}

function isLeadSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isTrailSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
