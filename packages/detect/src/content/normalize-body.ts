/**
 * Message body → campaign template: NFKC, invisible characters removed, whitespace collapsed, then
 * variable fields (links, emails, amounts, codes, tokens, greeted names) replaced by placeholders.
 * `template` (lower-case, homoglyph-folded) is the clustering key; `maskedBody` keeps case and link
 * domains but never an OTP, amount, email, name or link path, so it is safe to store and show.
 * Hot path (every message): one hand-written linear scan per pass, each matcher documenting the
 * pattern it implements; pure-ASCII bodies skip NFKC and folding, which cannot change them. NFKC
 * can grow text up to 18× ("ﷺ"), so normalized text is cut at MAX_NORMALIZED_LENGTH.
 */
import {
  BASE64,
  BASE64_OR_PADDING,
  CAPITAL,
  CURRENCY_SYMBOL,
  codePointLength,
  DIGIT,
  EMAIL_LOCAL,
  flagsAt,
  flagsBefore,
  flagsOfCodePoint,
  JOINS_AMOUNT,
  JOINS_HOST,
  JOINS_NUMBER,
  LABEL,
  LETTER,
  SPAN_DIGIT,
  SPAN_LETTER,
  unitAt,
  WORD,
} from './char-classes.ts';
import { lowerAndFold, removeInvisibleChars } from './fold-text.ts';
import { linkRegistrableDomain, listedRegistrableDomain } from './link-domains.ts';

export interface BodyTemplate {
  /** Lower-case, homoglyph-folded, placeholders such as `<url:usps-track.co.uk>`, `<num>`. */
  template: string;
  /** Original case; links shown as `https://usps-track.co.uk/<path>`, other fields as in `template`. */
  maskedBody: string;
  /** Distinct registrable domains of the links, lower-case, in order of first appearance. */
  linkDomains: string[];
}

const PLACEHOLDER_NUM = '<num>';
const PLACEHOLDER_TOKEN = '<tok>';
const PLACEHOLDER_AMOUNT = '<amount>';
const PLACEHOLDER_EMAIL = '<email>';
const PLACEHOLDER_NAME = '<name>';
const PLACEHOLDER_URL = '<url>';
const PLACEHOLDER_PATH = '/<path>';

const WHITESPACE_RUN = /\s+/gu;
const HOST_IDEOGRAPHIC_DOT = /(?<=[A-Za-z0-9])\u3002(?=[A-Za-z0-9])/g;
/** The body size limit (64 KiB); only text grown past it by normalization is cut. */
const MAX_NORMALIZED_LENGTH = 65_536;
const NO_MATCH = -1;
const NOT_FOUND = -1;

const SPACE = 0x20;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const PLUS = 0x2b;
const COMMA = 0x2c;
const HYPHEN = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const LESS_THAN = 0x3c;
const EQUALS = 0x3d;
const GREATER_THAN = 0x3e;
const QUESTION_MARK = 0x3f;
const HASH = 0x23;
const AT = 0x40;
const UNDERSCORE = 0x5f;
const RIGHT_SINGLE_QUOTE = 0x2019;
const LAST_ASCII = 0x7f;
const NOT_ASCII = 0;
const TIDY_ASCII = 1;
const UNTIDY_ASCII = 2;
const LOWER_F = 0x66;
const LOWER_H = 0x68;

// ISO codes that are not also everyday words ("try", "php" are left out on purpose).
const CURRENCY_CODES = [
  'usd',
  'eur',
  'gbp',
  'cad',
  'aud',
  'nzd',
  'inr',
  'jpy',
  'cny',
  'chf',
  'mxn',
  'brl',
  'zar',
  'ngn',
  'kes',
  'sgd',
  'hkd',
  'aed',
  'pkr',
  'rs',
  'rp',
] as const;
/** Letters written before a currency symbol: US$, AU$, R$, C$… */
const CURRENCY_SYMBOL_PREFIXES = ['us', 'au', 'ca', 'nz', 'hk', 'sg', 'r', 'c', 'a'] as const;
/** Words that make a number an amount when they follow it. */
const CURRENCY_WORDS = [...CURRENCY_CODES, 'dollars', 'dollar', 'euros', 'euro'] as const;
const SCHEMES = ['http', 'https', 'ftp'] as const;
const MAX_SCHEME_LENGTH = Math.max(...SCHEMES.map((scheme) => scheme.length));
/** Every span starts with one of these: the email class holds all letters, digits and label characters. */
const MAY_START_SPAN = EMAIL_LOCAL | CURRENCY_SYMBOL;
/** Currency codes and symbol prefixes are at most this long. */
const MAX_CURRENCY_CODE_LENGTH = Math.max(
  ...[...CURRENCY_CODES, ...CURRENCY_SYMBOL_PREFIXES].map((word) => word.length),
);
/** The longest word looked up by `asciiWordKey`; keys stay below 2^53. */
const MAX_KEYED_WORD_LENGTH = 10;
const NO_KEY = -1;
const CURRENCY_CODE_KEYS = asciiWordKeys(CURRENCY_CODES);
const CURRENCY_SYMBOL_PREFIX_KEYS = asciiWordKeys(CURRENCY_SYMBOL_PREFIXES);
const CURRENCY_WORD_KEYS = asciiWordKeys(CURRENCY_WORDS);
const SCHEME_KEYS = asciiWordKeys(SCHEMES);

const LONG_TOKEN_LENGTH = 16;
const MAX_BASE64_PADDING = 2;
/** "Dear John Smith": the greeting masks at most a first and a last name. */
const NAME_WORDS_AFTER_GREETING = 2;

const GREETINGS: ReadonlySet<string> = new Set([
  'hi',
  'hello',
  'hey',
  'dear',
  'hola',
  'estimado',
  'estimada',
  'bonjour',
  'cher',
  'chère',
]);
// Folding never changes the length of a word that folds to a greeting, so longer or shorter words
// skip building their folded form.
const MIN_GREETING_LENGTH = Math.min(...Array.from(GREETINGS, (greeting) => greeting.length));
const MAX_GREETING_LENGTH = Math.max(...Array.from(GREETINGS, (greeting) => greeting.length));
/** Bit (c - 'a') is set for each ASCII letter c that starts a greeting. */
const GREETING_INITIALS = Array.from(GREETINGS).reduce(
  (mask, greeting) => mask | initialBit(greeting.charCodeAt(0)),
  0,
);
/**
 * Words after which a word of letters alone is a code — a one-time code, PIN or promo code
 * ("Your code: XKQMPZ", "PIN ABCD"): masked like a code with digits, or every message of a
 * letter-code OTP would be its own template, and its sample would show the code.
 */
const CODE_WORDS: ReadonlySet<string> = new Set([
  'code',
  'pin',
  'otp',
  'passcode',
  'password',
  'token',
  'código',
  'codigo',
]);
/** Words that may stand between a code word and its code: "code is …". */
const CODE_LINKS: ReadonlySet<string> = new Set(['is', 'was', 'es', 'est', 'ist']);
// Looked up by key, which costs no string per word (keys of non-ASCII letters are consistent too).
const CODE_WORD_KEYS = asciiWordKeys([...CODE_WORDS]);
const MIN_CODE_WORD_LENGTH = Math.min(...Array.from(CODE_WORDS, (word) => word.length));
const MAX_CODE_WORD_LENGTH = Math.max(...Array.from(CODE_WORDS, (word) => word.length));
const CODE_WORD_INITIALS = Array.from(CODE_WORDS).reduce(
  (mask, word) => mask | initialBit(word.charCodeAt(0)),
  0,
);
const CODE_LINK_KEYS = asciiWordKeys([...CODE_LINKS]);
const LOWER_CASE_LETTER = /\p{Ll}/u;
/** What may end the clause a code of letters alone ends: "Your code: XKQMPZ." */
const CLAUSE_END = new Set([0x2e, 0x2c, 0x3b, 0x3a, 0x21, 0x3f, 0x29, 0x5d, 0x22, 0x27]);
/** Letters a code of letters alone has: shorter is a word ("PIN ON"), longer is text. */
const MIN_LETTER_CODE = 4;
const MAX_LETTER_CODE = 12;
const TITLES: ReadonlySet<string> = new Set(['mr', 'mrs', 'ms', 'miss', 'dr', 'sr', 'sra', 'mme', 'mlle']);
// Capitalised words that commonly follow a greeting and are not names.
const NOT_NAMES: ReadonlySet<string> = new Set([
  'there',
  'all',
  'everyone',
  'everybody',
  'team',
  'friend',
  'friends',
  'customer',
  'customers',
  'client',
  'sir',
  'madam',
  'user',
  'member',
  'valued',
  'again',
  'guys',
  'folks',
  'you',
  'your',
]);

// Closing punctuation that ends a sentence rather than a link ("see https://x.co/a.").
const TRAILING_NON_URL = '.,;:!?\'")]}>*“”‘’«»';

/**
 * Accumulates both outputs. Text between replaced fields is kept as a pending verbatim run and
 * appended with one slice per run instead of one per word.
 */
class TemplateWriter {
  readonly text: string;
  template = '';
  maskedBody = '';
  readonly linkDomains: string[] = [];
  /** How many more capitalised words are masked as names (set by a greeting, cleared by anything else). */
  namesPending = 0;
  /** The word before (or before "is") was a code word: a code of letters alone may follow. */
  codePending = false;
  #shouting: boolean | undefined;
  previousWasTitle = false;
  /**
   * `text` lower-cased and homoglyph-folded, position for position; undefined when lower-casing
   * depends on context or changes length, and each word and gap must then be folded on its own.
   */
  readonly #foldedText: string | undefined;
  #verbatimStart = 0;
  /** Start of the plain text after the last span: plain-text look-behinds see nothing before it. */
  segmentStart = 0;
  /** Plain text before this index is written. */
  plainEnd = 0;
  /** End of the last plain-text token: the gap before the next token starts here. */
  gapStart = 0;

  constructor(text: string, isAscii: boolean) {
    this.text = text;
    this.#foldedText = isAscii ? text.toLowerCase() : foldedTextOf(text);
  }

  /** Ends a verbatim piece where lower-casing must not see across (see `#foldedText`). */
  pieceBoundary(index: number): void {
    if (this.#foldedText === undefined) this.#flushVerbatim(index);
  }

  /** A cheap filter before building the folded word to look up among the greetings. */
  mayBeGreeting(start: number, end: number): boolean {
    const length = end - start;
    if (length < MIN_GREETING_LENGTH || length > MAX_GREETING_LENGTH) return false;
    return (
      this.#foldedText === undefined ||
      (GREETING_INITIALS & initialBit(this.#foldedText.charCodeAt(start))) !== 0
    );
  }

  /**
   * Whether the text has no lower-case letter: in a message written in capitals a capitalised word
   * after "code" is a word ("YOUR PASSWORD WAS RESET"), not a code. Worked out on first use.
   */
  isShouting(): boolean {
    this.#shouting ??= !LOWER_CASE_LETTER.test(this.text);
    return this.#shouting;
  }

  /** Folded form of `text[start, end)`, as a word would be looked up in the word sets. */
  foldedSlice(start: number, end: number): string {
    return this.#foldedText === undefined
      ? lowerAndFold(this.text.slice(start, end))
      : this.#foldedText.slice(start, end);
  }

  /** Writes the plain text before a span at `text[start, end)`, then the span's replacements. */
  span(start: number, end: number, templated: string, masked: string): void {
    writePlain(this, start);
    this.replace(start, end, templated, masked);
    this.namesPending = 0;
    this.codePending = false;
    this.segmentStart = end;
    this.plainEnd = end;
    this.gapStart = end;
  }

  /**
   * Writes ASCII letters that follow a space (or start the plain text) and precede a space or the
   * end: the plain-text pass would take them as one word, so the span scan hands them over directly
   * and that pass never scans them again.
   */
  loneWord(start: number, end: number): void {
    writePlain(this, start);
    writeWord(this, this.gapStart, start, end, LETTER);
    this.plainEnd = end;
    this.gapStart = end;
  }

  /** Replaces `text[start, end)` in both outputs. */
  replace(start: number, end: number, templated: string, masked: string): void {
    this.#flushVerbatim(start);
    this.template += templated;
    this.maskedBody += masked;
    this.#verbatimStart = end;
  }

  addLinkDomain(domain: string): void {
    if (!this.linkDomains.includes(domain)) this.linkDomains.push(domain);
  }

  finish(): BodyTemplate {
    writePlain(this, this.text.length);
    this.#flushVerbatim(this.text.length);
    return { template: this.template, maskedBody: this.maskedBody, linkDomains: this.linkDomains };
  }

  #flushVerbatim(end: number): void {
    const start = this.#verbatimStart;
    if (end <= start) return;
    this.template +=
      this.#foldedText === undefined
        ? lowerAndFold(this.text.slice(start, end))
        : this.#foldedText.slice(start, end);
    this.maskedBody += this.text.slice(start, end);
    this.#verbatimStart = end;
  }
}

export function templateOf(body: string): BodyTemplate {
  const shape = asciiShapeOf(body);
  const isAscii = shape !== NOT_ASCII;
  let normalized = body;
  if (!isAscii) {
    normalized = collapseWhitespace(removeInvisibleChars(body.normalize('NFKC')));
    // An ideographic full stop between ASCII letters or digits is a host's dot to a browser
    // ("paypal。com"); NFKC has already turned the full-width and half-width ones into it or '.'.
    if (normalized.includes('\u3002')) normalized = normalized.replace(HOST_IDEOGRAPHIC_DOT, '.');
  } else if (shape === UNTIDY_ASCII) {
    normalized = body.replace(WHITESPACE_RUN, ' ').trim();
  }
  const text =
    normalized.length > MAX_NORMALIZED_LENGTH ? normalized.slice(0, MAX_NORMALIZED_LENGTH) : normalized;
  const writer = new TemplateWriter(text, isAscii);
  const lookahead = new SpanLookahead(text);
  let position = 0;
  let before = 0; // class flags of the code point before `position`; none at the start
  while (position < text.length) {
    const codePoint = text.codePointAt(position)!;
    const here = flagsOfCodePoint(codePoint);
    // After a letter or digit only a glued link ("CLICKhttps://…") or a currency symbol can start a
    // span: every other alternative needs a boundary before it.
    if (here & MAY_START_SPAN && (!(before & JOINS_AMOUNT) || mayStartGluedSpan(codePoint, here))) {
      const lettersEnd = isAsciiLetter(codePoint) ? asciiLettersEnd(text, position) : position;
      const spanEnd = writeSpanAt(writer, lookahead, position, lettersEnd, here, before);
      if (spanEnd !== NO_MATCH) {
        position = spanEnd;
        before = flagsBefore(text, position, 0);
        continue;
      }
      if (
        lettersEnd > position &&
        (lettersEnd === text.length || unitAt(text, lettersEnd) === SPACE) &&
        (position === writer.segmentStart || unitAt(text, position - 1) === SPACE)
      ) {
        writer.loneWord(position, lettersEnd);
        position = lettersEnd;
        before = flagsAt(text, position - 1);
        continue;
      }
      // Inside a run of letters only a glued link could start, and only with '://' right after it.
      if (lettersEnd > position + 1 && unitAt(text, lettersEnd) !== COLON) {
        position = lettersEnd;
        before = flagsAt(text, position - 1);
        continue;
      }
    }
    position += codePoint > 0xffff ? 2 : 1;
    before = here;
  }
  return writer.finish();
}

/**
 * One scan of the body: NOT_ASCII, or ASCII and already tidy (no whitespace but single inner
 * spaces), or ASCII with whitespace to collapse. NFKC, invisible characters and homoglyph folding
 * cannot change ASCII text, so ASCII bodies skip them.
 */
function asciiShapeOf(body: string): number {
  let shape = TIDY_ASCII;
  let previousWasSpace = true; // so that a leading space is untidy
  for (let i = 0; i < body.length; i++) {
    const unit = body.charCodeAt(i);
    if (unit > LAST_ASCII) return NOT_ASCII;
    if (unit === SPACE) {
      if (previousWasSpace) shape = UNTIDY_ASCII;
      previousWasSpace = true;
    } else {
      // \t \n \v \f \r: the other ASCII whitespace.
      if (unit >= 0x09 && unit <= 0x0d) shape = UNTIDY_ASCII;
      previousWasSpace = false;
    }
  }
  return previousWasSpace && body.length > 0 ? UNTIDY_ASCII : shape;
}

/**
 * `text.replace(/\s+/gu, ' ').trim()`: whitespace runs collapsed to one space, none at the ends.
 * Text that is already so (most bodies) is returned after one scan instead of a regex replace.
 */
export function collapseWhitespace(text: string): string {
  let previousWasSpace = true; // so that a leading space is untidy
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === SPACE) {
      if (previousWasSpace) return text.replace(WHITESPACE_RUN, ' ').trim();
      previousWasSpace = true;
    } else if (isOtherWhitespace(unit)) {
      return text.replace(WHITESPACE_RUN, ' ').trim();
    } else previousWasSpace = false;
  }
  return previousWasSpace && text.length > 0 ? text.replace(WHITESPACE_RUN, ' ').trim() : text;
}

/** What `\s` matches besides the space: ECMAScript's WhiteSpace and LineTerminator code points. */
function isOtherWhitespace(unit: number): boolean {
  if (unit < 0xa0) return unit >= 0x09 && unit <= 0x0d;
  return (
    unit === 0xa0 ||
    unit === 0x1680 ||
    (unit >= 0x2000 && unit <= 0x200a) ||
    unit === 0x2028 ||
    unit === 0x2029 ||
    unit === 0x202f ||
    unit === 0x205f ||
    unit === 0x3000 ||
    unit === 0xfeff
  );
}

/**
 * Lower-cased, homoglyph-folded `text` when that equals folding it piece by piece: lower-casing is
 * per code point and length-preserving except for final sigma (Σ → ς at a word end) and İ → i̇.
 */
function foldedTextOf(text: string): string | undefined {
  const folded = lowerAndFold(text);
  if (folded.length !== text.length || text.includes('Σ')) return undefined;
  return folded;
}

// ---- Spans ---------------------------------------------------------------------------------------
// Each matcher implements the regex in its comment and returns where the match ends, or NO_MATCH;
// `here` and `before` are the class flags of the code point at and before `start`. Text holds no
// whitespace but single spaces (collapsed above), and no character that case-folds onto an ASCII
// letter but ASCII letters (NFKC has turned ſ and the Kelvin sign into s and K), so case-blind
// matching needs only ASCII.

/**
 * Where the next ':/' (or ':\\'), '@', '.' and ' ' are, found with indexOf as the scan passes them
 * (linear overall; "none left" is the text length). A scheme needs its separator within its length,
 * an email an '@' and a bare host a '.' before the next space: most words are rejected without
 * being scanned.
 */
class SpanLookahead {
  readonly #text: string;
  #schemeSeparator: number;
  #at: number;
  #dot: number;
  #space: number;

  constructor(text: string) {
    this.#text = text;
    this.#schemeSeparator = nextSchemeSeparator(text, 0);
    this.#at = nextIndexOf(text, '@', 0);
    this.#dot = nextIndexOf(text, '.', 0);
    this.#space = nextIndexOf(text, ' ', 0);
  }

  mayStartSchemeUrl(position: number): boolean {
    if (this.#schemeSeparator < position) this.#schemeSeparator = nextSchemeSeparator(this.#text, position);
    return this.#schemeSeparator - position <= MAX_SCHEME_LENGTH && this.#schemeSeparator < this.#text.length;
  }

  mayStartEmail(position: number): boolean {
    if (this.#at < position) this.#at = nextIndexOf(this.#text, '@', position);
    return this.#at < this.#spaceFrom(position);
  }

  mayStartHost(position: number): boolean {
    if (this.#dot < position) this.#dot = nextIndexOf(this.#text, '.', position);
    return this.#dot < this.#spaceFrom(position);
  }

  #spaceFrom(position: number): number {
    if (this.#space < position) this.#space = nextIndexOf(this.#text, ' ', position);
    return this.#space;
  }
}

/** The next ':' followed by '/' or '\\' from `position`, or the text length when there is none. */
function nextSchemeSeparator(text: string, position: number): number {
  for (
    let colon = nextIndexOf(text, ':', position);
    colon < text.length;
    colon = nextIndexOf(text, ':', colon + 1)
  )
    if (isSlash(unitAt(text, colon + 1))) return colon;
  return text.length;
}

function isSlash(unit: number): boolean {
  return unit === SLASH || unit === BACKSLASH;
}

/** `text.indexOf(needle, position)`, or the text length when there is none. */
function nextIndexOf(text: string, needle: string, position: number): number {
  const index = text.indexOf(needle, position);
  return index === NOT_FOUND ? text.length : index;
}

/**
 * Writes the structural span starting at `start`, if any, and returns its end. Where several could
 * start, the first alternative wins: link with a scheme, email, amount, bare host with a listed suffix.
 * `lettersEnd` ends the run of ASCII letters at `start` (`start` itself when there is none).
 */
function writeSpanAt(
  writer: TemplateWriter,
  lookahead: SpanLookahead,
  start: number,
  lettersEnd: number,
  here: number,
  before: number,
): number {
  const text = writer.text;
  // Letters then a space (the common word) can only be a currency code before a number: a link or
  // email would need ':', '@' or '.' before the space.
  const isLoneWord = lettersEnd > start && (lettersEnd === text.length || unitAt(text, lettersEnd) === SPACE);
  const urlEnd =
    !isLoneWord && lookahead.mayStartSchemeUrl(start) ? schemeUrlEnd(text, start, lettersEnd) : NO_MATCH;
  if (urlEnd !== NO_MATCH) return writeSchemeUrl(writer, start, trimTrailingPunctuation(text, start, urlEnd));
  const emailSpanEnd =
    !isLoneWord && lookahead.mayStartEmail(start) ? emailEnd(text, start, here, before) : NO_MATCH;
  if (emailSpanEnd !== NO_MATCH) {
    writer.span(start, emailSpanEnd, PLACEHOLDER_EMAIL, PLACEHOLDER_EMAIL);
    return emailSpanEnd;
  }
  const amountSpanEnd = amountEnd(text, start, lettersEnd, here, before);
  if (amountSpanEnd !== NO_MATCH) {
    writer.span(start, amountSpanEnd, PLACEHOLDER_AMOUNT, PLACEHOLDER_AMOUNT);
    return amountSpanEnd;
  }
  const hostEnd =
    !isLoneWord && lookahead.mayStartHost(start) ? bareHostEnd(text, start, here, before) : NO_MATCH;
  const domain = hostEnd === NO_MATCH ? undefined : listedDomainOfHost(text, start, hostEnd);
  if (domain === undefined) {
    // A rejected host (v1.2, file.txt) is left to the word pass; the caller looks again from the
    // next code point, since a real span ("x.https://…", "v1.c$5") may start inside it.
    return NO_MATCH;
  }
  const end = trimTrailingPunctuation(text, hostEnd, portAndPathEnd(text, hostEnd));
  writer.span(start, end, urlPlaceholder(domain), domain + pathMask(text, hostEnd, end));
  writer.addLinkDomain(domain);
  return end;
}

function mayStartGluedSpan(codePoint: number, flags: number): boolean {
  const lower = codePoint | 0x20;
  return lower === LOWER_H || lower === LOWER_F || (flags & CURRENCY_SYMBOL) !== 0;
}

/**
 * `(?:https?|ftp):[/\\]+[^\s<>"]+`/i: a link with a scheme, to the next space, <, > or ". Browsers
 * (the WHATWG URL parser) skip any run of slashes and backslashes after these schemes, so
 * "https:/evil.com/pay" and "https:\\\\evil.com" open evil.com as "https://evil.com" does.
 */
function schemeUrlEnd(text: string, start: number, lettersEnd: number): number {
  // The scheme is a whole run of letters, since ':' must follow it.
  if (
    unitAt(text, lettersEnd) !== COLON ||
    !isSlash(unitAt(text, lettersEnd + 1)) ||
    !SCHEME_KEYS.has(asciiWordKey(text, start, lettersEnd))
  ) {
    return NO_MATCH;
  }
  const authorityStart = slashesEnd(text, lettersEnd + 1);
  const end = urlCharsEnd(text, authorityStart);
  return end > authorityStart ? end : NO_MATCH;
}

/** The end of the run of slashes and backslashes at `start`. */
function slashesEnd(text: string, start: number): number {
  let end = start;
  while (isSlash(unitAt(text, end))) end++;
  return end;
}

/** `(?<![\p{L}\p{N}\p{M}._%+-])[\p{L}\p{N}\p{M}._%+-]+@` then a dotted domain (/iu). */
function emailEnd(text: string, start: number, here: number, before: number): number {
  if ((here & EMAIL_LOCAL) === 0 || (before & EMAIL_LOCAL) !== 0) return NO_MATCH;
  let end = start;
  while (isEmailLocalChar(text, end)) end += codePointLength(text, end);
  return unitAt(text, end) === AT ? dottedLabelsEnd(text, end + 1) : NO_MATCH;
}

function isEmailLocalChar(text: string, index: number): boolean {
  return (flagsAt(text, index) & EMAIL_LOCAL) !== 0;
}

/**
 * An amount, by the first of (/iu; `number` is `\p{Nd}+(?:[.,]\p{Nd}+)*`):
 * `(?:(?<![\p{L}\p{N}])(?:us|au|…|a))?<symbol> ?<number>` · `(?<![\p{L}\p{N}])<code>\.? ?<number>` ·
 * `(?<![\p{L}\p{N}.,])<number> ?(?:<symbol>|(?:<code>|dollars?|euros?)(?!\p{L}))`.
 */
function amountEnd(text: string, start: number, lettersEnd: number, here: number, before: number): number {
  if (here & CURRENCY_SYMBOL) return amountNumberEnd(text, skipSpace(text, start + 1));
  if (lettersEnd > start) {
    // A prefix or a code is a whole run of letters: a symbol, '.', ' ' or digit must follow it.
    if ((before & JOINS_AMOUNT) !== 0 || lettersEnd - start > MAX_CURRENCY_CODE_LENGTH) return NO_MATCH;
    if (flagsAt(text, lettersEnd) & CURRENCY_SYMBOL) {
      return CURRENCY_SYMBOL_PREFIX_KEYS.has(asciiWordKey(text, start, lettersEnd))
        ? amountNumberEnd(text, skipSpace(text, lettersEnd + 1))
        : NO_MATCH;
    }
    const numberStart = skipSpace(text, unitAt(text, lettersEnd) === DOT ? lettersEnd + 1 : lettersEnd);
    if ((flagsAt(text, numberStart) & SPAN_DIGIT) === 0) return NO_MATCH;
    return CURRENCY_CODE_KEYS.has(asciiWordKey(text, start, lettersEnd))
      ? amountNumberEnd(text, numberStart)
      : NO_MATCH;
  }
  if ((before & JOINS_NUMBER) !== 0) return NO_MATCH;
  const numberEnd = amountNumberEnd(text, start);
  if (numberEnd === NO_MATCH) return NO_MATCH;
  // Backtracking into the number could only leave a digit, '.' or ',' next, which no suffix takes.
  const suffixStart = skipSpace(text, numberEnd);
  if (flagsAt(text, suffixStart) & CURRENCY_SYMBOL) return suffixStart + 1;
  // A currency word must not run on into a letter, so it too is a whole run of letters.
  const suffixEnd = asciiLettersEnd(text, suffixStart);
  const isCurrencyWord =
    suffixEnd > suffixStart &&
    CURRENCY_WORD_KEYS.has(asciiWordKey(text, suffixStart, suffixEnd)) &&
    (flagsAt(text, suffixEnd) & SPAN_LETTER) === 0;
  return isCurrencyWord ? suffixEnd : NO_MATCH;
}

/** `\p{Nd}+(?:[.,]\p{Nd}+)*`/iu, longest. */
function amountNumberEnd(text: string, start: number): number {
  let end = spanDigitsEnd(text, start);
  if (end === start) return NO_MATCH;
  for (;;) {
    const separator = unitAt(text, end);
    if (separator !== DOT && separator !== COMMA) return end;
    const groupEnd = spanDigitsEnd(text, end + 1);
    if (groupEnd === end + 1) return end;
    end = groupEnd;
  }
}

function spanDigitsEnd(text: string, start: number): number {
  let end = start;
  while (flagsAt(text, end) & SPAN_DIGIT) end += codePointLength(text, end);
  return end;
}

/** `(?<![\p{L}\p{N}\p{M}.@/-])` then a dotted domain (/iu): a link without a scheme, if listed. */
function bareHostEnd(text: string, start: number, here: number, before: number): number {
  if ((here & LABEL) === 0 || (before & JOINS_HOST) !== 0) return NO_MATCH;
  return dottedLabelsEnd(text, start);
}

/** `[\p{L}\p{N}\p{M}-]+(?:\.[\p{L}\p{N}\p{M}-]+)+`/iu, longest. */
function dottedLabelsEnd(text: string, start: number): number {
  let end = labelEnd(text, start);
  if (end === start) return NO_MATCH;
  let labels = 1;
  while (unitAt(text, end) === DOT) {
    const nextEnd = labelEnd(text, end + 1);
    if (nextEnd === end + 1) break;
    end = nextEnd;
    labels++;
  }
  return labels > 1 ? end : NO_MATCH;
}

function labelEnd(text: string, start: number): number {
  let end = start;
  while (flagsAt(text, end) & LABEL) end += codePointLength(text, end);
  return end;
}

/**
 * The registrable domain of a bare host when it ends in a listed public suffix. A numeric last
 * label (12.50, 25.8.2025) is never a listed suffix, so numbers skip the PSL lookup.
 */
function listedDomainOfHost(text: string, start: number, end: number): string | undefined {
  const lastLabelStart = text.lastIndexOf('.', end - 1) + 1;
  if (spanDigitsEnd(text, lastLabelStart) === end) return undefined;
  return listedRegistrableDomain(text.slice(start, end));
}

/**
 * `\.?(?::\p{Nd}{1,5})?(?:[/\\?#][^\s<>"]*)?`/iu: what may follow a bare host — the root's dot of a
 * fully qualified name ("evil.com./a") and a backslash path ("evil.com\a", which browsers read as
 * "/a") included, so their paths are masked too.
 */
function portAndPathEnd(text: string, hostEnd: number): number {
  let end = hostEnd;
  if (unitAt(text, end) === DOT && isPortOrPathStart(unitAt(text, end + 1))) end++;
  if (unitAt(text, end) === COLON && flagsAt(text, end + 1) & SPAN_DIGIT) {
    end++;
    for (let digits = 0; digits < 5 && flagsAt(text, end) & SPAN_DIGIT; digits++) {
      end += codePointLength(text, end);
    }
  }
  const unit = unitAt(text, end);
  return unit !== COLON && isPortOrPathStart(unit) ? urlCharsEnd(text, end + 1) : end;
}

function isPortOrPathStart(unit: number): boolean {
  return unit === SLASH || unit === BACKSLASH || unit === QUESTION_MARK || unit === HASH || unit === COLON;
}

/** `[^\s<>"]*`: text holds no whitespace but spaces. */
function urlCharsEnd(text: string, start: number): number {
  let end = start;
  while (end < text.length) {
    const unit = unitAt(text, end);
    if (unit === SPACE || unit === LESS_THAN || unit === GREATER_THAN || unit === QUOTE) break;
    end++;
  }
  return end;
}

function writeSchemeUrl(writer: TemplateWriter, start: number, end: number): number {
  const url = writer.text.slice(start, end);
  const domain = linkRegistrableDomain(url);
  if (domain === undefined) {
    writer.span(start, end, PLACEHOLDER_URL, PLACEHOLDER_URL);
  } else {
    const authorityStart = slashesEnd(url, url.indexOf(':') + 1);
    const masked =
      url.slice(0, authorityStart) + domain + pathMask(url, authorityEnd(url, authorityStart), url.length);
    writer.span(start, end, urlPlaceholder(domain), masked);
    writer.addLinkDomain(domain);
  }
  return end;
}

function urlPlaceholder(domain: string): string {
  return `<url:${domain}>`;
}

function trimTrailingPunctuation(text: string, start: number, end: number): number {
  let trimmed = end;
  while (trimmed > start && TRAILING_NON_URL.includes(text.charAt(trimmed - 1))) trimmed--;
  return trimmed;
}

function authorityEnd(url: string, authorityStart: number): number {
  for (let i = authorityStart; i < url.length; i++) {
    const unit = url.charCodeAt(i);
    if (unit === SLASH || unit === BACKSLASH || unit === QUESTION_MARK || unit === HASH) return i;
  }
  return url.length;
}

/**
 * `/<path>` when anything but a lone "/" follows the host: paths, queries and ports may identify
 * the recipient, so only their presence is shown.
 */
function pathMask(text: string, from: number, to: number): string {
  const isEmpty = to === from || (to - from === 1 && unitAt(text, from) === SLASH);
  return isEmpty ? '' : PLACEHOLDER_PATH;
}

// ---- Plain text between spans --------------------------------------------------------------------
// Matchers see only `[from, to)`, the text between two spans: look-arounds stop at its edges.

/**
 * Masks codes, numbers and greeted names in the plain text from `writer.plainEnd` to `to`; everything
 * else stays verbatim. `to` is a span start, the end, or a lone word after a space, so no token
 * reaches past it.
 */
function writePlain(writer: TemplateWriter, to: number): void {
  const text = writer.text;
  const from = writer.segmentStart;
  let gapStart = writer.gapStart;
  let position = writer.plainEnd;
  while (position < to) {
    const flags = flagsAt(text, position);
    if ((flags & (WORD | BASE64)) === 0) {
      position += codePointLength(text, position);
      continue;
    }
    // Token patterns, the first that matches wins: long token, digit groups, word. The word is
    // scanned first: its extent and classes tell whether a long token can start here at all.
    const wordEnd = flags & WORD ? scanWord(text, position, to) : position;
    let end = NO_MATCH;
    let placeholder = PLACEHOLDER_TOKEN;
    if (flags & BASE64 && mayStartLongToken(text, position, wordEnd)) {
      end = longTokenEnd(text, position, from, to);
    }
    if (end === NO_MATCH && flags & DIGIT) {
      end = digitGroupsEnd(text, position, to);
      placeholder = PLACEHOLDER_NUM;
    }
    if (end !== NO_MATCH) {
      writer.replace(position, end, placeholder, placeholder);
      writer.namesPending = 0;
      writer.codePending = false;
      gapStart = position = end;
    } else if (wordEnd > position) {
      writeWord(writer, gapStart, position, wordEnd, scannedWordAnyFlags);
      gapStart = position = wordEnd;
    } else {
      position += codePointLength(text, position);
    }
  }
  writer.gapStart = gapStart;
  writer.plainEnd = to;
}

/**
 * Whether a long token could start at `start`, where a word ending at `wordEnd` (or none, when
 * equal) starts: its run of BASE64 characters reaches LONG_TOKEN_LENGTH only in a long word, or
 * past the end of a word made only of them ("ab/cd/…").
 */
function mayStartLongToken(text: string, start: number, wordEnd: number): boolean {
  if (wordEnd === start || wordEnd - start >= LONG_TOKEN_LENGTH) return true;
  return (scannedWordAllFlags & BASE64) !== 0 && (flagsAt(text, wordEnd) & BASE64) !== 0;
}

/**
 * `(?<![A-Za-z0-9+/=_-])(?=[A-Za-z+/=_-]*[0-9])(?=[0-9+/=_-]*[A-Za-z])([A-Za-z0-9+/_-]{16,}={0,2})
 * (?![A-Za-z0-9+/=_-])`: a long token mixing ASCII letters and digits (hex, base64, tracking ids).
 * `start` holds a BASE64 character.
 */
function longTokenEnd(text: string, start: number, from: number, to: number): number {
  if (start > from && flagsAt(text, start - 1) & BASE64_OR_PADDING) return NO_MATCH;
  let end = start + 1;
  while (end < to && flagsAt(text, end) & BASE64) end++;
  if (end - start < LONG_TOKEN_LENGTH) return NO_MATCH;
  if (!hasDigitBeforeOther(text, start, to) || !hasLetterBeforeOther(text, start, to)) return NO_MATCH;
  // Greedy padding: fewer '=' would leave a '=' next, which the final look-ahead rejects anyway.
  const paddingLimit = Math.min(to, end + MAX_BASE64_PADDING);
  while (end < paddingLimit && unitAt(text, end) === EQUALS) end++;
  return end < to && flagsAt(text, end) & BASE64_OR_PADDING ? NO_MATCH : end;
}

/** `(?=[A-Za-z+/=_-]*[0-9])` */
function hasDigitBeforeOther(text: string, start: number, to: number): boolean {
  let i = start;
  while (i < to && (isAsciiLetter(unitAt(text, i)) || isBase64Symbol(unitAt(text, i)))) i++;
  return i < to && isAsciiDigit(unitAt(text, i));
}

/** `(?=[0-9+/=_-]*[A-Za-z])` */
function hasLetterBeforeOther(text: string, start: number, to: number): boolean {
  let i = start;
  while (i < to && (isAsciiDigit(unitAt(text, i)) || isBase64Symbol(unitAt(text, i)))) i++;
  return i < to && isAsciiLetter(unitAt(text, i));
}

/** `\p{Nd}+(?:[.,:/]\p{Nd}+)+`/u: digit groups with separators (12.50, 10:30, 1/2). */
function digitGroupsEnd(text: string, start: number, to: number): number {
  let end = digitsEnd(text, start, to);
  if (end === start) return NO_MATCH;
  let groups = 0;
  while (end + 1 < to && isDigitGroupSeparator(unitAt(text, end))) {
    const groupEnd = digitsEnd(text, end + 1, to);
    if (groupEnd === end + 1) break;
    end = groupEnd;
    groups++;
  }
  return groups > 0 ? end : NO_MATCH;
}

function digitsEnd(text: string, start: number, to: number): number {
  let end = start;
  while (end < to && flagsAt(text, end) & DIGIT) end += codePointLength(text, end);
  return end;
}

// Set by scanWord: the classes of the word's characters, joiners included, any and all of them.
let scannedWordAnyFlags = 0;
let scannedWordAllFlags = 0;

/** `[\p{L}\p{N}\p{M}_]+(?:[-'’][\p{L}\p{N}\p{M}_]+)*`/u: a word, hyphen- or apostrophe-joined. */
function scanWord(text: string, start: number, to: number): number {
  let any = 0;
  let all = -1;
  let end = start;
  for (;;) {
    while (end < to) {
      const codePoint = text.codePointAt(end)!;
      const flags = flagsOfCodePoint(codePoint);
      if ((flags & WORD) === 0) break;
      any |= flags;
      all &= flags;
      end += codePoint > 0xffff ? 2 : 1;
    }
    if (end + 1 >= to || !isWordJoiner(unitAt(text, end)) || (flagsAt(text, end + 1) & WORD) === 0) break;
    const joinerFlags = flagsAt(text, end);
    any |= joinerFlags;
    all &= joinerFlags;
    end++;
  }
  scannedWordAnyFlags = any;
  scannedWordAllFlags = all;
  return end;
}

/**
 * Writes the word at `text[start, end)`, whose characters have the class flags `wordFlags` between
 * them. A word containing a digit is a code; after a greeting (and an optional title) capitalised
 * words are names.
 */
function writeWord(
  writer: TemplateWriter,
  gapStart: number,
  start: number,
  end: number,
  wordFlags: number,
): void {
  const text = writer.text;
  if (wordFlags & DIGIT) {
    const isLongToken = end - start >= LONG_TOKEN_LENGTH && (wordFlags & LETTER) !== 0;
    const placeholder = isLongToken ? PLACEHOLDER_TOKEN : PLACEHOLDER_NUM;
    writer.replace(start, end, placeholder, placeholder);
    writer.namesPending = 0;
    writer.codePending = false;
    return;
  }
  // Only a word that may be a code word, or that follows one, needs its key.
  const key = writer.codePending || mayBeCodeWord(text, start, end) ? asciiWordKey(text, start, end) : NO_KEY;
  if (writer.codePending) {
    if (CODE_LINK_KEYS.has(key)) {
      writer.pieceBoundary(start);
      writer.pieceBoundary(end);
      return;
    }
    writer.codePending = false;
    if (
      !CODE_WORD_KEYS.has(key) &&
      isLetterCode(text, start, end) &&
      endsClause(text, end) &&
      !writer.isShouting()
    ) {
      writer.replace(start, end, PLACEHOLDER_TOKEN, PLACEHOLDER_TOKEN);
      writer.namesPending = 0;
      return;
    }
  }
  writer.pieceBoundary(start);
  if (writer.namesPending > 0 && isNameSeparator(text, gapStart, start, writer.previousWasTitle)) {
    const folded = writer.foldedSlice(start, end);
    if (TITLES.has(folded)) {
      writer.previousWasTitle = true;
      writer.pieceBoundary(end);
      return;
    }
    if (flagsAt(text, start) & CAPITAL && !NOT_NAMES.has(folded)) {
      writer.replace(start, end, PLACEHOLDER_NAME, PLACEHOLDER_NAME);
      writer.namesPending--;
      writer.previousWasTitle = false;
      return;
    }
  }
  const isGreeting = writer.mayBeGreeting(start, end) && GREETINGS.has(writer.foldedSlice(start, end));
  writer.namesPending = isGreeting ? NAME_WORDS_AFTER_GREETING : 0;
  writer.codePending = CODE_WORD_KEYS.has(key);
  writer.previousWasTitle = false;
  writer.pieceBoundary(end);
}

/** `/^,? ?$/` after a greeting, `/^\.? ?$/` after a title, tested on `text[gapStart, wordStart)`. */
function isNameSeparator(text: string, gapStart: number, wordStart: number, afterTitle: boolean): boolean {
  const punctuation = afterTitle ? DOT : COMMA;
  switch (wordStart - gapStart) {
    case 0:
      return true;
    case 1: {
      const unit = unitAt(text, gapStart);
      return unit === punctuation || unit === SPACE;
    }
    case 2:
      return unitAt(text, gapStart) === punctuation && unitAt(text, gapStart + 1) === SPACE;
    default:
      return false;
  }
}

// ---- Character tests -------------------------------------------------------------------------------

function asciiLettersEnd(text: string, start: number): number {
  let end = start;
  while (isAsciiLetter(unitAt(text, end))) end++;
  return end;
}

/**
 * Case-blind key of the ASCII letters `text[start, end)`, 5 bits a letter, so that words are looked
 * up without building a substring; NO_KEY for runs longer than any word looked up.
 */
function asciiWordKey(text: string, start: number, end: number): number {
  if (end - start > MAX_KEYED_WORD_LENGTH) return NO_KEY;
  let key = 0;
  for (let i = start; i < end; i++) key = key * 32 + ((text.charCodeAt(i) | 0x20) - 0x60);
  return key;
}

function asciiWordKeys(words: readonly string[]): ReadonlySet<number> {
  return new Set(words.map((word) => asciiWordKey(word, 0, word.length)));
}

/**
 * Whether a code ending at `end` ends its clause (the text, or punctuation follows): a word after
 * it makes it part of a sentence ("Password RESET requested", "Use code WINTER for 20% off").
 */
function endsClause(text: string, end: number): boolean {
  return end === text.length || CLAUSE_END.has(text.charCodeAt(end));
}

/** Length and first letter of a code word (c, p, o, t): most words skip the key. */
function mayBeCodeWord(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length < MIN_CODE_WORD_LENGTH || length > MAX_CODE_WORD_LENGTH) return false;
  return (CODE_WORD_INITIALS & initialBit(text.charCodeAt(start) | 0x20)) !== 0;
}

/**
 * `[A-Za-z]{4,12}` in capitals ("XKQMPZ"), or mixed case with a capital after the first letter
 * ("xKqMpZ"): what a code of letters looks like, and a word ("Ready", "expires") does not.
 */
function isLetterCode(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length < MIN_LETTER_CODE || length > MAX_LETTER_CODE) return false;
  let capitals = 0;
  let capitalAfterFirst = false;
  for (let i = start; i < end; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x41 && unit <= 0x5a) {
      capitals++;
      if (i > start) capitalAfterFirst = true;
    } else if (unit < 0x61 || unit > 0x7a) return false;
  }
  return capitals === length || (capitalAfterFirst && capitals < length);
}

/** A bit for a lower-case ASCII letter; 0 for any other character. */
function initialBit(unit: number): number {
  return unit >= 0x61 && unit <= 0x7a ? 1 << (unit - 0x61) : 0;
}

function skipSpace(text: string, index: number): number {
  return unitAt(text, index) === SPACE ? index + 1 : index;
}

function isAsciiLetter(unit: number): boolean {
  const lower = unit | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

function isAsciiDigit(unit: number): boolean {
  return unit >= 0x30 && unit <= 0x39;
}

/** `[+/=_-]` */
function isBase64Symbol(unit: number): boolean {
  return unit === PLUS || unit === SLASH || unit === EQUALS || unit === UNDERSCORE || unit === HYPHEN;
}

/** `[.,:/]` */
function isDigitGroupSeparator(unit: number): boolean {
  return unit === DOT || unit === COMMA || unit === COLON || unit === SLASH;
}

/** `[-'’]` */
function isWordJoiner(unit: number): boolean {
  return unit === HYPHEN || unit === APOSTROPHE || unit === RIGHT_SINGLE_QUOTE;
}
