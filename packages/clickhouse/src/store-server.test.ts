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

  it('undoes the escaping clients apply, for any string', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        expect(unescapeParam(escaped(value))).toBe(value);
      }),
    );
  });
});
