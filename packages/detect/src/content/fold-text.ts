/**
 * Character-level folding shared by templating and reply classification: strips invisible
 * characters that senders insert to break keyword and URL matching, and maps common look-alike
 * letters onto Latin. Both functions are total (never throw) and allocate only when they change text.
 */

// Zero-width spaces/joiners, bidi controls, soft hyphen, word joiner and the Hangul fillers that
// render as blanks: none carries meaning in an SMS, all are used to split "ST\u200bOP" or "bit\u200b.ly".
// U+034F (combining grapheme joiner) sits outside the class because it is a combining mark.
const INVISIBLE_CHARS =
  /\u034F|[\u00AD\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u3164\uFEFF\uFFA0]/gu;

// Lower-case sources: lowerAndFold lower-cases first, so most upper-case look-alikes (Cyrillic 'В',
// 'Н', Greek 'Κ') arrive as their lower-case forms and are folded to the Latin letter they resemble;
// the few whose two forms look like different letters are folded as capitals (UPPER_HOMOGLYPHS).
// Exported for the tests, which check the folding against this table character by character.
export const HOMOGLYPHS: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  һ: 'h',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'l',
  // Greek
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ϲ: 'c',
  ϳ: 'j',
  // Latin variants that NFKC leaves alone
  ı: 'i',
  ɡ: 'g',
};

/**
 * Capitals that look like a Latin capital while their lower-case form looks like another letter
 * (Greek Ν looks like N, ν like v; Υ like Y, υ like u) or like none (Η, Μ, Ζ): beside a Latin
 * letter (a spoof such as "ΝEW" or "UΝSUBSCRIBE") folded before lower-casing, onto the letter the
 * capital shows. Among Greek letters they are Greek, and lower-case like the rest of the word, so
 * Greek written in capitals folds as it does in lower case.
 */
export const UPPER_HOMOGLYPHS: Readonly<Record<string, string>> = {
  Η: 'h',
  Μ: 'm',
  Ν: 'n',
  Υ: 'y',
  Ζ: 'z',
};

const HOMOGLYPH_CHARS = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`, 'gu');
const UPPER_CLASS = `[${Object.keys(UPPER_HOMOGLYPHS).join('')}]`;
const UPPER_HOMOGLYPH_CHARS = new RegExp(`(?<=[A-Za-z])${UPPER_CLASS}|${UPPER_CLASS}(?=[A-Za-z])`, 'gu');

function latinForUpper(char: string): string {
  return UPPER_HOMOGLYPHS[char] ?? char;
}

function latinFor(char: string): string {
  return HOMOGLYPHS[char] ?? char;
}

export function removeInvisibleChars(text: string): string {
  return text.replace(INVISIBLE_CHARS, '');
}

/** Folds look-alike letters of already lower-cased text onto Latin; other characters pass through. */
export function foldHomoglyphs(lowerCaseText: string): string {
  return lowerCaseText.replace(HOMOGLYPH_CHARS, latinFor);
}

/** Lower-cases `text` and folds its look-alikes onto Latin, capitals beside Latin letters by what they look like. */
export function lowerAndFold(text: string): string {
  return foldHomoglyphs(text.replace(UPPER_HOMOGLYPH_CHARS, latinForUpper).toLowerCase());
}
