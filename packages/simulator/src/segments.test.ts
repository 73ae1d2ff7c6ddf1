import { describe, expect, it } from 'vitest';
import { segmentCount } from './segments.ts';

describe('segmentCount', () => {
  it('fits 160 GSM-7 characters in one segment and splits longer text into 153-character parts', () => {
    expect(segmentCount('a'.repeat(160))).toBe(1);
    expect(segmentCount('a'.repeat(161))).toBe(2);
    expect(segmentCount('a'.repeat(306))).toBe(2);
    expect(segmentCount('a'.repeat(307))).toBe(3);
  });

  it('counts GSM-7 extension characters twice', () => {
    expect(segmentCount(`${'a'.repeat(159)}€`), '€ takes two septets').toBe(2);
    expect(segmentCount(`${'a'.repeat(158)}€`)).toBe(1);
  });

  it('switches to UCS-2 for characters outside GSM-7', () => {
    expect(segmentCount(`${'a'.repeat(69)}’`), 'a curly apostrophe forces UCS-2').toBe(1);
    expect(segmentCount(`${'a'.repeat(70)}’`)).toBe(2);
    expect(segmentCount(`Olá ${'a'.repeat(130)}`), 'á is not GSM-7').toBe(2);
    expect(segmentCount(`Café ${'a'.repeat(150)}`), 'é is GSM-7').toBe(1);
  });
});
