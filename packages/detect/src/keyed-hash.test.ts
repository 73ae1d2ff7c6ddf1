import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from './keyed-hash.ts';

describe('HmacSha256', () => {
  it('equals createHmac for any key and message (short, long, multi-byte)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 150 }), fc.string({ maxLength: 700 }), (key, message) => {
        const expected = createHmac('sha256', key).update(message).digest('hex');
        const hmac = new HmacSha256(key);
        expect(hmac.hex(message)).toBe(expected);
        // Reused buffers: a second, shorter message is not polluted by the first.
        expect(hmac.hex(message.slice(0, 3))).toBe(
          createHmac('sha256', key).update(message.slice(0, 3)).digest('hex'),
        );
      }),
      { numRuns: 300 },
    );
    expect(new HmacSha256('k').hex('+14155550100')).toBe(
      createHmac('sha256', 'k').update('+14155550100').digest('hex'),
    );
  });
});
