import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CAPITAL,
  codePointLength,
  EMAIL_LOCAL,
  flagsAt,
  flagsBefore,
  flagsOfCodePoint,
  JOINS_AMOUNT,
  LETTER,
  PUNCTUATION,
  unitAt,
  WHITESPACE,
  WORD,
} from './char-classes.ts';

const codePoint = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xffff }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
);

describe('class flags', () => {
  it('agree with the regex classes they stand for, case closure included', () => {
    fc.assert(
      fc.property(codePoint, (cp) => {
        const char = String.fromCodePoint(cp);
        const flags = flagsOfCodePoint(cp);
        expect((flags & WORD) !== 0, 'word').toBe(/^[\p{L}\p{N}\p{M}_]$/u.test(char));
        expect((flags & LETTER) !== 0, 'letter').toBe(/^\p{L}$/u.test(char));
        expect((flags & CAPITAL) !== 0, 'capital').toBe(/^[\p{Lu}\p{Lt}]$/u.test(char));
        expect((flags & WHITESPACE) !== 0, 'whitespace').toBe(/^\s$/u.test(char));
        expect((flags & PUNCTUATION) !== 0, 'punctuation').toBe(/^\p{P}$/u.test(char));
        expect((flags & EMAIL_LOCAL) !== 0, 'email').toBe(/^[\p{L}\p{N}\p{M}._%+-]$/iu.test(char));
        expect((flags & JOINS_AMOUNT) !== 0, 'letter or number').toBe(/^[\p{L}\p{N}]$/iu.test(char));
      }),
      { numRuns: 2000 },
    );
    // U+0345 is a mark that case-folds to ι: a letter to /iu classes only.
    expect(flagsOfCodePoint(0x345) & JOINS_AMOUNT).not.toBe(0);
    expect(flagsOfCodePoint(0x345) & LETTER).toBe(0);
  });

  it('read surrogate pairs as one code point, lone surrogates as themselves', () => {
    const text = 'a𠀀\ud800b';
    expect(codePointLength(text, 1)).toBe(2);
    expect(codePointLength(text, 3)).toBe(1);
    expect(flagsAt(text, 1) & LETTER, '𠀀 is a letter').not.toBe(0);
    expect(flagsBefore(text, 3, 0) & LETTER, 'look-behind sees the whole pair').not.toBe(0);
    expect(flagsBefore(text, 3, 2), 'but not across its floor').toBe(flagsOfCodePoint(0xdc00));
    expect(flagsAt(text, 3) & LETTER, 'a lone surrogate is no letter').toBe(0);
  });

  it('read nothing outside the text', () => {
    expect(unitAt('ab', -1)).toBe(-1);
    expect(unitAt('ab', 2)).toBe(-1);
    expect(flagsAt('ab', 2)).toBe(0);
    expect(flagsBefore('ab', 0, 0)).toBe(0);
  });
});

describe('case-blind matching over normalised text', () => {
  it('needs only ASCII: NFKC maps every other character that /iu folds onto an ASCII letter to ASCII', () => {
    // templateOf compares scheme and currency letters with `| 0x20`; this holds it to the regexes.
    const asciiLetter = /^[a-z]$/iu;
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const char = String.fromCodePoint(cp);
      if (asciiLetter.test(char)) expect(char.normalize('NFKC'), `U+${cp.toString(16)}`).toMatch(/^[a-z]$/i);
    }
  });
});
