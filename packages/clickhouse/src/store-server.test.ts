import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unescapeParam } from './store-server.ts';

/** How @clickhouse/client (and ClickHouse's escaped text format) write a string value. */
const escaped = (value: string): string =>
  value.replace(
    /[\\\t\n\r\0']/g,
    (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', "'": "\\'" })[c] as string,
  );

describe('unescapeParam', () => {
  it('reads the escaped text form: NULL, escapes, hex, and arrays keeping their own quoting', () => {
    expect(unescapeParam('\\N')).toBeNull();
    expect(unescapeParam('plain')).toBe('plain');
    expect(unescapeParam('tab\\there\\nnew\\\\slash\\x41')).toBe('tab\there\nnew\\slashA');
    // An array's elements are quoted inside the value: one level of escapes comes off.
    expect(unescapeParam("['a','it\\\\'s']")).toBe("['a','it\\'s']");
  });

  it('reads \\xHH as bytes, so escaped UTF-8 is the character it encodes', () => {
    expect(unescapeParam('caf\\xC3\\xA9 \\xe2\\x82\\xac5')).toBe('café €5');
    expect(unescapeParam('\\xF0\\x9F\\x98\\x80 and \\t\\x41 and é')).toBe('😀 and \tA and é');
    // Not UTF-8 on its own: the replacement character (the engine takes parameters as strings).
    expect(unescapeParam('a\\xFFb')).toBe('a\uFFFDb');
    // Any escaped code point, astral ones included, keeps the backslash as before.
    expect(unescapeParam('\\😀\\xC3\\xA9')).toBe('\\😀é');
  });

  it('reads any string escaped byte by byte as \\xHH as that string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (value) => {
        const hex = [...Buffer.from(value, 'utf8')]
          .map((b) => `\\x${b.toString(16).padStart(2, '0')}`)
          .join('');
        expect(unescapeParam(hex)).toBe(value);
      }),
    );
  });

  it('undoes the escaping clients apply, for any string', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        expect(unescapeParam(escaped(value))).toBe(value);
      }),
    );
  });
});
