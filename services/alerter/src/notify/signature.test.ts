import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signBody, verifySignature } from './signature.ts';

describe('webhook signature', () => {
  const secret = 'whsec_test';
  const body = '{"version":1,"action":"trigger"}';

  it('is v1= and the hex HMAC-SHA256 of "<timestamp>.<body>" with the secret', () => {
    const expected = createHmac('sha256', secret).update(`1764000000.${body}`).digest('hex');
    expect(signBody(secret, 1764000000, body)).toBe(`v1=${expected}`);
  });

  it('verifies a genuine request and rejects a changed body, a wrong secret, a replayed old timestamp', () => {
    const nowS = 1764000000;
    const signature = signBody(secret, nowS, body);
    expect(verifySignature(secret, String(nowS), signature, body, { nowS })).toBe(true);
    expect(
      verifySignature(secret, String(nowS), signature, body.replace('trigger', 'resolve'), { nowS }),
    ).toBe(false);
    expect(verifySignature('other', String(nowS), signature, body, { nowS })).toBe(false);
    expect(verifySignature(secret, String(nowS), signature, body, { nowS: nowS + 301 })).toBe(false);
    // Moving the timestamp forward to dodge the replay window breaks the signature.
    expect(verifySignature(secret, String(nowS + 300), signature, body, { nowS: nowS + 301 })).toBe(false);
    expect(verifySignature(secret, undefined, signature, body, { nowS })).toBe(false);
  });
});
