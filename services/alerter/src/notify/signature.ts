/**
 * The generic webhook's signature: HMAC-SHA256 over `${timestamp}.${body}` with the receiver's
 * secret, sent as `X-Floodgate-Signature: v1=<hex>` beside `X-Floodgate-Timestamp: <unix seconds>`.
 * Binding the timestamp lets receivers reject replays (old timestamps) as well as forgeries.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'x-floodgate-signature';
export const timestampHeader = 'x-floodgate-timestamp';

export function signBody(secret: string, timestampS: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

export interface VerifyOptions {
  /** Largest accepted age (and clock skew) of the timestamp, seconds. */
  toleranceS?: number;
  nowS?: number;
}

/** What a receiver does: recompute, compare in constant time, and refuse stale timestamps. */
export function verifySignature(
  secret: string,
  timestampHeaderValue: string | undefined,
  signatureHeaderValue: string | undefined,
  body: string,
  options: VerifyOptions = {},
): boolean {
  if (!timestampHeaderValue || !signatureHeaderValue || !/^\d+$/.test(timestampHeaderValue)) return false;
  const timestampS = Number(timestampHeaderValue);
  const nowS = options.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - timestampS) > (options.toleranceS ?? 300)) return false;
  const expected = Buffer.from(signBody(secret, timestampS, body));
  const given = Buffer.from(signatureHeaderValue);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
