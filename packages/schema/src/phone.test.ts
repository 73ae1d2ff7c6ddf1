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
