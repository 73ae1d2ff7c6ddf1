import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { templateOf } from './normalize-body.ts';
import {
  type Fingerprint64,
  fingerprintFromHex,
  fingerprintToHex,
  hammingDistance,
  simhash64,
} from './simhash.ts';

const fingerprintOf = (body: string): Fingerprint64 => simhash64(templateOf(body).template);

const PHISH =
  'USPS: Your package could not be delivered due to an incomplete address. Please update your details ' +
  'within 24 hours at https://usps-track.co.uk/a/b or it will be returned.';

const fingerprint = fc.record({ hi: fc.nat({ max: 0xffffffff }), lo: fc.nat({ max: 0xffffffff }) });

describe('simhash64', () => {
  it('is stable across releases and platforms (fingerprints are stored)', () => {
    expect(fingerprintToHex(simhash64('hello world foo'))).toBe('4657d6a61ac80040');
    expect(fingerprintToHex(simhash64('a')), 'short texts fall back to tokens and 4-grams').toBe(
      '11caa9f56ef24b24',
    );
    expect(simhash64('')).toEqual({ hi: 0, lo: 0 });
  });

  it('gives identical fingerprints to bodies that differ only in masked fields and punctuation', () => {
    const variant = PHISH.replace('24 hours', '12 hours').replace('/a/b', '/zz9').replace('.', '!');
    expect(hammingDistance(fingerprintOf(PHISH), fingerprintOf(variant))).toBe(0);
  });

  it('keeps a one-word edit much closer than an unrelated message', () => {
    const edited = fingerprintOf(PHISH.replace('package', 'parcel'));
    const otherDomain = fingerprintOf(PHISH.replace('usps-track.co.uk', 'usps-trace.com'));
    const unrelated = fingerprintOf(
      'Hi Anna, are we still on for dinner tomorrow at 7? Let me know about the table.',
    );
    const base = fingerprintOf(PHISH);
    expect(hammingDistance(base, otherDomain)).toBeLessThanOrEqual(12);
    expect(hammingDistance(base, edited)).toBeLessThanOrEqual(20);
    expect(hammingDistance(base, unrelated)).toBeGreaterThan(hammingDistance(base, edited));
  });

  it('returns unsigned 32-bit halves for any template', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (template) => {
        const { hi, lo } = simhash64(template);
        for (const half of [hi, lo]) {
          expect(Number.isInteger(half) && half >= 0 && half <= 0xffffffff, `half ${half}`).toBe(true);
        }
      }),
    );
  });

  it('honours the shingle size: single tokens are order-blind, shingles are not', () => {
    const forward = 'alpha beta gamma delta';
    const backward = 'delta gamma beta alpha';
    expect(simhash64(forward, { shingleSize: 1 })).toEqual(simhash64(backward, { shingleSize: 1 }));
    expect(simhash64(forward)).not.toEqual(simhash64(backward));
  });
});

describe('hammingDistance', () => {
  it('counts differing bits across both halves', () => {
    expect(hammingDistance({ hi: 0, lo: 0 }, { hi: 0xffffffff, lo: 0xffffffff })).toBe(64);
    expect(hammingDistance({ hi: 0x80000000, lo: 1 }, { hi: 0, lo: 0 })).toBe(2);
  });

  it('is a metric: zero to itself, symmetric, triangle inequality', () => {
    fc.assert(
      fc.property(fingerprint, fingerprint, fingerprint, (a, b, c) => {
        expect(hammingDistance(a, a)).toBe(0);
        expect(hammingDistance(a, b)).toBe(hammingDistance(b, a));
        expect(hammingDistance(a, c)).toBeLessThanOrEqual(hammingDistance(a, b) + hammingDistance(b, c));
      }),
    );
  });
});

describe('fingerprint hex', () => {
  it('round-trips every fingerprint through 16 lower-case hex digits', () => {
    fc.assert(
      fc.property(fingerprint, (fp) => {
        const hex = fingerprintToHex(fp);
        expect(hex).toMatch(/^[0-9a-f]{16}$/);
        expect(fingerprintFromHex(hex)).toEqual(fp);
      }),
    );
  });

  it('rejects anything but 16 hex digits with a RangeError', () => {
    for (const bad of ['', '123', 'zzzzzzzzzzzzzzzz', '0123456789abcdef0', ' 0123456789abcdef']) {
      expect(() => fingerprintFromHex(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
  });
});
