/**
 * Message body → campaign template: NFKC, invisible characters removed, whitespace collapsed, then
 * variable fields (links, emails, amounts, codes, tokens, greeted names) replaced by placeholders.
 * `template` (lower-case, homoglyph-folded) is the clustering key; `maskedBody` keeps case and link
 * domains but never an OTP, amount, email, name or link path, so it is safe to store and show.
 * Linear time on any input: every variable-length pattern is anchored by a look-behind at the start
 * of its run, so a failed attempt is never retried from inside the same run. NFKC can grow text
 * up to 18× ("ﷺ"), so normalized text is cut at MAX_NORMALIZED_LENGTH to bound cost and output.
 */
import { foldHomoglyphs, removeInvisibleChars } from './fold-text.ts';
import { listedRegistrableDomain, registrableDomain } from './link-domains.ts';

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
/** The body size limit (64 KiB); only text grown past it by normalization is cut. */
const MAX_NORMALIZED_LENGTH = 65_536;

const LABEL = '[\\p{L}\\p{N}\\p{M}-]';
const AMOUNT_NUMBER = '\\p{Nd}+(?:[.,]\\p{Nd}+)*';
const CURRENCY_SYMBOL = '[$£€¥₹₩₽₺₦₱¢₫₪฿]';
// ISO codes that are not also everyday words ("try", "php" are left out on purpose).
const CURRENCY_CODE = '(?:usd|eur|gbp|cad|aud|nzd|inr|jpy|cny|chf|mxn|brl|zar|ngn|kes|sgd|hkd|aed|pkr|rs|rp)';

/**
 * Structural spans, leftmost first; at one position the first alternative wins.
 * 1: URL with scheme · 2: email · 3: amount · 4: bare host, 5: its port/path.
 */
const SPAN = new RegExp(
  [
    // No look-behind: "CLICKhttps://…" must still be a link; the literal prefix fails in O(1).
    `((?:https?|ftp)://[^\\s<>"]+)`,
    `(?<![\\p{L}\\p{N}\\p{M}._%+-])([\\p{L}\\p{N}\\p{M}._%+-]+@${LABEL}+(?:\\.${LABEL}+)+)`,
    `(` +
      `(?:(?<![\\p{L}\\p{N}])(?:us|au|ca|nz|hk|sg|r|c|a))?${CURRENCY_SYMBOL} ?${AMOUNT_NUMBER}` +
      `|(?<![\\p{L}\\p{N}])${CURRENCY_CODE}\\.? ?${AMOUNT_NUMBER}` +
      `|(?<![\\p{L}\\p{N}.,])${AMOUNT_NUMBER} ?(?:${CURRENCY_SYMBOL}|(?:${CURRENCY_CODE}|dollars?|euros?)(?!\\p{L}))` +
      `)`,
    `(?<![\\p{L}\\p{N}\\p{M}.@/-])(${LABEL}+(?:\\.${LABEL}+)+)((?::\\p{Nd}{1,5})?(?:[/?#][^\\s<>"]*)?)`,
  ].join('|'),
  'giu',
);

/**
 * Word-level fields inside plain text. 1: long token mixing ASCII letters and digits (hex, base64,
 * tracking ids) · 2: digit groups with separators (12.50, 10:30, 1/2) · 3: a word, hyphen- or
 * apostrophe-joined; a word containing any digit is a code.
 */
const PLAIN_TOKEN =
  /(?<![A-Za-z0-9+/=_-])(?=[A-Za-z+/=_-]*[0-9])(?=[0-9+/=_-]*[A-Za-z])([A-Za-z0-9+/_-]{16,}={0,2})(?![A-Za-z0-9+/=_-])|(\p{Nd}+(?:[.,:/]\p{Nd}+)+)|([\p{L}\p{N}\p{M}_]+(?:[-'’][\p{L}\p{N}\p{M}_]+)*)/gu;

const HAS_DIGIT = /\p{Nd}/u;
const HAS_LETTER = /\p{L}/u;
const STARTS_UPPER_CASE = /^[\p{Lu}\p{Lt}]/u;
const SEPARATOR_AFTER_GREETING = /^,? ?$/;
const SEPARATOR_AFTER_TITLE = /^\.? ?$/;
const LONG_TOKEN_LENGTH = 16;
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

interface TemplateBuilder {
  template: string;
  maskedBody: string;
  linkDomains: string[];
  /** How many more capitalised words are masked as names (set by a greeting, cleared by anything else). */
  namesPending: number;
  previousWasTitle: boolean;
}

export function templateOf(body: string): BodyTemplate {
  const normalized = removeInvisibleChars(body.normalize('NFKC')).replace(WHITESPACE_RUN, ' ').trim();
  const text =
    normalized.length > MAX_NORMALIZED_LENGTH ? normalized.slice(0, MAX_NORMALIZED_LENGTH) : normalized;
  const builder: TemplateBuilder = {
    template: '',
    maskedBody: '',
    linkDomains: [],
    namesPending: 0,
    previousWasTitle: false,
  };
  let plainStart = 0;
  SPAN.lastIndex = 0;
  for (let match = SPAN.exec(text); match !== null; match = SPAN.exec(text)) {
    const start = match.index;
    let end = start + match[0].length;
    let masked: string;
    let templated: string;
    if (match[1] !== undefined) {
      end = trimTrailingPunctuation(text, start, end);
      const url = text.slice(start, end);
      const domain = registrableDomain(url);
      const schemeEnd = url.indexOf('://');
      if (domain === undefined) {
        masked = PLACEHOLDER_URL;
        templated = PLACEHOLDER_URL;
      } else {
        const authorityStart = schemeEnd + 3;
        masked =
          url.slice(0, authorityStart) +
          domain +
          pathMask(url, authorityEnd(url, authorityStart), url.length);
        templated = urlPlaceholder(domain);
        addLinkDomain(builder, domain);
      }
    } else if (match[2] !== undefined) {
      masked = PLACEHOLDER_EMAIL;
      templated = PLACEHOLDER_EMAIL;
    } else if (match[3] !== undefined) {
      masked = PLACEHOLDER_AMOUNT;
      templated = PLACEHOLDER_AMOUNT;
    } else {
      const host = match[4] ?? '';
      const domain = listedRegistrableDomain(host);
      if (domain === undefined) {
        // Not a link after all (v1.2, file.txt): leave it to the word pass, and look again from
        // the next character, since a real span ("x.https://…") may start inside this one.
        SPAN.lastIndex = start + 1;
        continue;
      }
      const hostEnd = start + host.length;
      end = trimTrailingPunctuation(text, hostEnd, end);
      masked = domain + pathMask(text, hostEnd, end);
      templated = urlPlaceholder(domain);
      addLinkDomain(builder, domain);
    }
    appendPlain(builder, text.slice(plainStart, start));
    builder.template += templated;
    builder.maskedBody += masked;
    builder.namesPending = 0;
    plainStart = end;
    SPAN.lastIndex = end;
  }
  appendPlain(builder, text.slice(plainStart));
  return { template: builder.template, maskedBody: builder.maskedBody, linkDomains: builder.linkDomains };
}

function urlPlaceholder(domain: string): string {
  return `<url:${domain}>`;
}

function addLinkDomain(builder: TemplateBuilder, domain: string): void {
  if (!builder.linkDomains.includes(domain)) builder.linkDomains.push(domain);
}

function trimTrailingPunctuation(text: string, start: number, end: number): number {
  let trimmed = end;
  while (trimmed > start && TRAILING_NON_URL.includes(text.charAt(trimmed - 1))) trimmed--;
  return trimmed;
}

function authorityEnd(url: string, authorityStart: number): number {
  for (let i = authorityStart; i < url.length; i++) {
    const char = url.charAt(i);
    if (char === '/' || char === '?' || char === '#') return i;
  }
  return url.length;
}

/**
 * `/<path>` when anything but a lone "/" follows the host: paths, queries and ports may identify
 * the recipient, so only their presence is shown.
 */
function pathMask(text: string, from: number, to: number): string {
  const isEmpty = to === from || (to - from === 1 && text.charAt(from) === '/');
  return isEmpty ? '' : PLACEHOLDER_PATH;
}

function appendPlain(builder: TemplateBuilder, segment: string): void {
  let cursor = 0;
  PLAIN_TOKEN.lastIndex = 0;
  for (let match = PLAIN_TOKEN.exec(segment); match !== null; match = PLAIN_TOKEN.exec(segment)) {
    const gap = segment.slice(cursor, match.index);
    appendLiteral(builder, gap);
    const token = match[0];
    cursor = match.index + token.length;
    if (match[3] === undefined) {
      appendPlaceholder(builder, match[1] !== undefined ? PLACEHOLDER_TOKEN : PLACEHOLDER_NUM);
    } else {
      appendWord(builder, token, gap);
    }
  }
  appendLiteral(builder, segment.slice(cursor));
}

function appendWord(builder: TemplateBuilder, word: string, precedingGap: string): void {
  if (HAS_DIGIT.test(word)) {
    const isLongToken = word.length >= LONG_TOKEN_LENGTH && HAS_LETTER.test(word);
    appendPlaceholder(builder, isLongToken ? PLACEHOLDER_TOKEN : PLACEHOLDER_NUM);
    return;
  }
  const folded = foldHomoglyphs(word.toLowerCase());
  if (builder.namesPending > 0) {
    const separator = builder.previousWasTitle ? SEPARATOR_AFTER_TITLE : SEPARATOR_AFTER_GREETING;
    if (separator.test(precedingGap)) {
      if (TITLES.has(folded)) {
        builder.template += folded;
        builder.maskedBody += word;
        builder.previousWasTitle = true;
        return;
      }
      if (STARTS_UPPER_CASE.test(word) && !NOT_NAMES.has(folded)) {
        builder.template += PLACEHOLDER_NAME;
        builder.maskedBody += PLACEHOLDER_NAME;
        builder.namesPending--;
        builder.previousWasTitle = false;
        return;
      }
    }
  }
  builder.template += folded;
  builder.maskedBody += word;
  builder.namesPending = GREETINGS.has(folded) ? NAME_WORDS_AFTER_GREETING : 0;
  builder.previousWasTitle = false;
}

function appendPlaceholder(builder: TemplateBuilder, placeholder: string): void {
  builder.template += placeholder;
  builder.maskedBody += placeholder;
  builder.namesPending = 0;
}

function appendLiteral(builder: TemplateBuilder, literal: string): void {
  if (literal.length === 0) return;
  builder.template += foldHomoglyphs(literal.toLowerCase());
  builder.maskedBody += literal;
}
