import { destinationOf } from '@floodgate/schema';
import { describe, expect, it } from 'vitest';
import { countries, countryInfo, homeCountryCodes, pumpingProneCountryCodes } from './countries.ts';
import { mobileNumberFor, numberInPrefix, randomMobileNumber } from './phone-numbers.ts';
import { Prng } from './prng.ts';

const mobileTypes = new Set(['mobile', 'fixed_line_or_mobile']);

describe('mobile numbers', () => {
  it.each([...countries.keys()])('are valid %s mobiles according to libphonenumber', (code) => {
    const rng = new Prng(11);
    const country = countryInfo(code);
    const problems: string[] = [];
    for (let index = 0; index < 300; index++) {
      const number = randomMobileNumber(rng, country);
      const destination = destinationOf(number);
      if (!destination.valid || destination.country !== code || !mobileTypes.has(destination.numberType)) {
        problems.push(
          `${number} → ${destination.country} ${destination.numberType} valid=${destination.valid}`,
        );
      }
    }
    expect(problems, `invalid ${code} numbers`).toEqual([]);
  });

  it('maps a population index to the same number every time and different indexes to different numbers', () => {
    const us = countryInfo('US');
    expect(mobileNumberFor(us, 99, 5)).toBe(mobileNumberFor(us, 99, 5));
    const numbers = new Set(Array.from({ length: 2000 }, (_, index) => mobileNumberFor(us, 99, index)));
    expect(numbers.size, 'distinct members of a population').toBeGreaterThan(1990);
  });

  it('builds consecutive numbers inside one prefix', () => {
    const tajikistan = countryInfo('TJ');
    const first = numberInPrefix(tajikistan, '93', 1_234_567);
    const next = numberInPrefix(tajikistan, '93', 1_234_568);
    expect(first).toBe('+992931234567');
    expect(Number(next.slice(1)) - Number(first.slice(1)), 'consecutive subscribers differ by one').toBe(1);
  });

  it('keeps home markets and pumping destinations apart', () => {
    const overlap = pumpingProneCountryCodes.filter((code) => homeCountryCodes.includes(code));
    expect(overlap, 'a pumping destination must not be a common home market').toEqual([]);
  });
});
