/**
 * Field schemas shared by every event type. Event time is accepted as ISO 8601 with an offset or as
 * epoch milliseconds and always comes out as epoch milliseconds (numbers, not strings, downstream).
 */
import { z } from 'zod';
import { limits } from './limits.ts';

export const schemaVersion = z.literal(1).describe('Version of this event schema; 1 for v1.');

export const identifier = z
  .string()
  .min(1)
  .max(limits.maxIdLength)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const minEventTimeMs = Date.UTC(2000, 0, 1);
const maxEventTimeMs = Date.UTC(2100, 0, 1);

export const eventTime = z
  // Epoch milliseconds first: machine producers send those, and a union tries its members in order.
  .union([
    z.number().int().min(minEventTimeMs).max(maxEventTimeMs).describe('epoch milliseconds'),
    z.iso.datetime({ offset: true }),
  ])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const ms = Date.parse(value);
    if (!Number.isFinite(ms) || ms < minEventTimeMs || ms > maxEventTimeMs) {
      ctx.addIssue({ code: 'custom', message: 'event time must be between 2000 and 2100' });
      return z.NEVER;
    }
    return ms;
  })
  .describe('When the event happened: ISO 8601 with offset, or epoch milliseconds.');

/** E.164: '+', a country code not starting with 0, at most 15 digits in all. */
export const e164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as +14155550123');

/**
 * A sender: an E.164 long code or toll-free number, a short code, or an alphanumeric sender id.
 * One pattern rather than a union of three: a union tries its members in turn and builds the
 * failed members' issues first (~2 µs for every alphanumeric sender, on every outbound event).
 */
export const senderAddress = z
  .string()
  .regex(
    /^(?:\+[1-9][0-9]{6,14}|[0-9]{3,8}|[A-Za-z0-9][A-Za-z0-9 .&_-]{0,10})$/,
    'must be an E.164 number, a short code of 3-8 digits or an alphanumeric sender id of up to 11 characters',
  );

export const ipAddress = z.union([z.ipv4(), z.ipv6()]);

export const userAgent = z.string().max(limits.maxUserAgentLength);

const utf8 = new TextEncoder();
export const messageBody = z
  .string()
  .max(limits.maxBodyBytes)
  .refine(
    (body) => body.length * 3 <= limits.maxBodyBytes || utf8.encode(body).length <= limits.maxBodyBytes,
    {
      message: `body must be at most ${limits.maxBodyBytes} bytes of UTF-8`,
    },
  )
  // JSON Schema has no byte length: maxLength bounds the characters, the description the bytes.
  .meta({
    description: `Message text, at most ${limits.maxBodyBytes.toLocaleString('en-US')} bytes of UTF-8.`,
  });

export const countryCode = z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 country code such as US');

export const metadata = z
  .record(
    z.string().min(1).max(limits.maxMetadataKeyLength),
    z.union([z.string().max(limits.maxMetadataValueLength), z.number(), z.boolean()]),
  )
  .refine((map) => Object.keys(map).length <= limits.maxMetadataKeys, {
    message: `metadata may have at most ${limits.maxMetadataKeys} keys`,
  })
  // The refinement above is not representable in JSON Schema; maxProperties says the same there.
  .meta({ maxProperties: limits.maxMetadataKeys });
