import { describe, expect, it } from 'vitest';
import { destinationOf } from './phone.ts';

describe('destinationOf', () => {
  it('finds the country, prefix and digits of a UK mobile number', () => {
    const d = destinationOf('+447400123456', 6);
    expect(d).toMatchObject({
      country: 'GB',
      callingCode: '44',
      prefix: '+447400',
      numeric: 447400123456,
      numberType: 'mobile',
    });
  });

  it('marks a UK premium-rate number as such (pumping targets these ranges)', () => {
    expect(destinationOf('+449098790000').numberType).toBe('premium_rate');
  });

  it('returns ZZ for a number in an unassigned country code instead of throwing', () => {
    const d = destinationOf('+999123456789');
    expect(d.country).toBe('ZZ');
    expect(d.valid).toBe(false);
  });
});

describe('destinationOf validity', () => {
  it("agrees with libphonenumber's isValid() across countries, types and invalid ranges", async () => {
    const { parsePhoneNumberFromString } = await import('libphonenumber-js/max');
    // Deterministic spread of numbers: valid and invalid ones of several plans and lengths.
    const heads = ['+1415', '+1800', '+1264', '+447', '+449', '+44', '+33', '+4915', '+49', '+9198'];
    const heads2 = ['+5511', '+2348', '+6281', '+8180', '+7', '+86', '+800', '+882', '+999'];
    let state = 12345;
    const digits = (n: number) => {
      let out = '';
      for (let i = 0; i < n; i++) {
        state = (state * 1103515245 + 12345) % 2147483648;
        out += String(state % 10);
      }
      return out;
    };
    let valid = 0;
    let invalid = 0;
    for (const head of [...heads, ...heads2])
      for (let length = 7; length <= 15; length++)
        for (let i = 0; i < 12; i++) {
          const e164 = head + digits(Math.max(1, length - (head.length - 1)));
          const expected = parsePhoneNumberFromString(e164)?.isValid() ?? false;
          expect(destinationOf(e164).valid, e164).toBe(expected);
          if (expected) valid++;
          else invalid++;
        }
    // The sample must hold both kinds, or the comparison proves nothing.
    expect(valid).toBeGreaterThan(50);
    expect(invalid).toBeGreaterThan(50);
  });
});

describe('libphonenumber-js patch (infra/patches/libphonenumber-js@1.13.16.patch)', () => {
  it('compiles each metadata pattern once, not on every number', async () => {
    const { parsePhoneNumberFromString } = await import('libphonenumber-js/max');
    const numbers = ['+447400123456', '+14155550123', '+33612345678', '+4915112345678', '+449098790000'];
    const types = () => numbers.map((e164) => parsePhoneNumberFromString(e164)?.getType());
    const first = types();
    const original = globalThis.RegExp;
    // Counts the RegExps built in matchesEntirely's shape, '^(?:pattern)$' (the parse builds one
    // other per number, for a national prefix, which the patch leaves alone).
    let constructed = 0;
    globalThis.RegExp = new Proxy(original, {
      construct(target, args) {
        const source = String(args[0]);
        if (source.startsWith('^(?:') && source.endsWith(')$')) constructed++;
        return Reflect.construct(target, args);
      },
    });
    let again: ReturnType<typeof types>;
    try {
      again = types();
    } finally {
      globalThis.RegExp = original;
    }
    // Unpatched, every match against a pattern builds a new RegExp (24 for these five numbers):
    // ~40 % of classifying a number the prefix cache has not seen.
    expect(constructed).toBe(0);
    expect(again).toEqual(first);
    expect(first).toEqual(['MOBILE', 'FIXED_LINE_OR_MOBILE', 'MOBILE', 'MOBILE', 'PREMIUM_RATE']);
  });
});
