import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  foldHomoglyphs,
  HOMOGLYPHS,
  lowerAndFold,
  removeInvisibleChars,
  UPPER_HOMOGLYPHS,
} from './fold-text.ts';

/** Text mixing the characters these functions act on with ASCII, other scripts and astral ones. */
const mixedText = (specials: readonly string[]) =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...specials),
        fc.constantFrom('a', 'Z', ' ', '.', '1', 'é', 'ß', 'ж', 'ω', '—', '😀', '\u0301'),
        fc.string({ unit: 'binary', maxLength: 3 }),
      ),
      { maxLength: 40 },
    )
    .map((pieces) => pieces.join(''));

describe('fold-text', () => {
  it('folds exactly the listed look-alikes, character by character, and returns other text unchanged', () => {
    const lookAlikes = Object.keys(HOMOGLYPHS);
    fc.assert(
      fc.property(mixedText(lookAlikes), (text) => {
        const expected = Array.from(text, (char) => HOMOGLYPHS[char] ?? char).join('');
        expect(foldHomoglyphs(text)).toBe(expected);
      }),
      { numRuns: 500 },
    );
    expect(foldHomoglyphs('раураl'), 'Cyrillic р, а, у inside a Latin word').toBe('paypal');
  });

  it('folds capitals by what they look like: Greek Ν is an n, not the v its lower case resembles', () => {
    // Characters whose lower case is one character of the same length (no İ, no final sigma).
    const letters = [
      ...Object.keys(UPPER_HOMOGLYPHS),
      ...Object.keys(HOMOGLYPHS),
      'A',
      'N',
      'Ν',
      'ν',
      'Β',
      'Ж',
      'Ω',
      'q',
    ];
    fc.assert(
      fc.property(mixedText(letters), (text) => {
        const latin = (unit: string | undefined) => unit !== undefined && /^[A-Za-z]$/.test(unit);
        let expected = '';
        for (let i = 0; i < text.length; ) {
          const char = String.fromCodePoint(text.codePointAt(i) as number);
          const upper = UPPER_HOMOGLYPHS[char];
          if (upper !== undefined && (latin(text[i - 1]) || latin(text[i + char.length]))) expected += upper;
          else expected += HOMOGLYPHS[char.toLowerCase()] ?? char.toLowerCase();
          i += char.length;
        }
        expect(lowerAndFold(text)).toBe(expected);
      }),
      { numRuns: 500 },
    );
    expect(lowerAndFold('ΝEW OFFER: ΥOUR ΗOΜE ΖONE')).toBe('new offer: your home zone');
    // Greek in capitals folds as it does in lower case.
    expect(lowerAndFold('ΜΗΝΥΜΑ ΑΠΟ ΤΗΝ ΤΡΑΠΕΖΑ')).toBe(
      lowerAndFold('μήνυμα από την τράπεζα'.normalize('NFD').replace(/\p{M}/gu, '')),
    );
    expect(lowerAndFold('РАУРАL')).toBe('paypal');
    expect(lowerAndFold('νέο')).toBe('vέo');
  });

  it('removes exactly the invisible characters', () => {
    const invisible =
      /\u034F|[\u00AD\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u3164\uFEFF\uFFA0]/gu;
    const invisibles = [
      '\u034F',
      '\u00AD',
      '\u115F',
      '\u1160',
      '\u180E',
      '\u200B',
      '\u200C',
      '\u200D',
      '\u200E',
      '\u200F',
      '\u202A',
      '\u202E',
      '\u2060',
      '\u2064',
      '\u2066',
      '\u2069',
      '\u3164',
      '\uFEFF',
      '\uFFA0',
      // neighbours that stay
      '\u2065',
      '\u2010',
      '\u202F',
      '\u00AC',
      '\u3165',
    ];
    fc.assert(
      fc.property(mixedText(invisibles), (text) => {
        expect(removeInvisibleChars(text)).toBe(text.replace(invisible, ''));
      }),
      { numRuns: 500 },
    );
    expect(removeInvisibleChars('ST\u200bOP')).toBe('STOP');
  });
});
