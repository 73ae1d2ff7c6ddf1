import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiKeyInventorySchema } from './events.ts';
import { exampleApiKeyInventory, exampleEvents } from './examples.ts';
import { limits } from './limits.ts';
import { describeProblems, parseEvent, parseEventBytes } from './parse.ts';

const outbound = exampleEvents['message.outbound'];

function problemPaths(input: unknown): string[] {
  const result = parseEvent(input);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return [...new Set(result.problems.map((p) => p.path))];
}

describe('parseEvent', () => {
  it.each(Object.entries(exampleEvents))('accepts the %s example and keeps its type', (type, example) => {
    const result = parseEvent(example);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (result.ok) expect(result.value.type).toBe(type);
  });

  it('turns an ISO event time with offset and epoch millis into the same epoch millis', () => {
    const iso = parseEvent({ ...outbound, eventTime: '2026-11-25T15:03:12.345+01:00' });
    const millis = parseEvent({ ...outbound, eventTime: Date.parse('2026-11-25T14:03:12.345Z') });
    expect(iso.ok && millis.ok).toBe(true);
    if (iso.ok && millis.ok) expect(iso.value.eventTime).toBe(millis.value.eventTime);
  });

  it('lists every wrong field at once, with its path', () => {
    const paths = problemPaths({ ...outbound, to: '0044 7911', apiKeyId: '', channel: 'fax', segments: 0 });
    expect(paths.sort()).toEqual(['apiKeyId', 'channel', 'segments', 'to']);
  });

  it('rejects unknown fields so typos in producers are caught', () => {
    expect(problemPaths({ ...outbound, acountId: 'x' })).toEqual(['']);
  });

  it('rejects an unknown type and a missing schemaVersion', () => {
    expect(problemPaths({ ...outbound, type: 'message.sms' })).toEqual(['type']);
    const { schemaVersion: _drop, ...withoutVersion } = outbound;
    expect(problemPaths(withoutVersion)).toEqual(['schemaVersion']);
  });

  it('accepts short codes and alphanumeric sender ids as from, but only E.164 as to', () => {
    expect(parseEvent({ ...outbound, from: '55123' }).ok).toBe(true);
    expect(parseEvent({ ...outbound, from: 'ACME' }).ok).toBe(true);
    expect(problemPaths({ ...outbound, to: 'ACME' })).toEqual(['to']);
    expect(problemPaths({ ...outbound, to: '+1234567890123456' })).toEqual(['to']);
    expect(parseEvent({ ...outbound, from: '+14155550123' }).ok).toBe(true);
    for (const from of ['+0123456789', 'ACME SHOPPING CO', '-ACME', '']) {
      const result = parseEvent({ ...outbound, from });
      expect(result.ok, from).toBe(false);
      if (!result.ok) {
        expect(result.problems.map((p) => p.path)).toEqual(['from']);
        expect(result.problems[0]?.message).toMatch(/E\.164 number, a short code .* alphanumeric sender id/);
      }
    }
  });

  it('enforces the body and metadata size limits', () => {
    expect(problemPaths({ ...outbound, body: 'x'.repeat(limits.maxBodyBytes + 1) })).toEqual(['body']);
    // 22k three-byte characters: under the character limit, over the byte limit.
    expect(problemPaths({ ...outbound, body: '€'.repeat(22_000) })).toEqual(['body']);
    const metadata = Object.fromEntries(
      Array.from({ length: limits.maxMetadataKeys + 1 }, (_, i) => [`k${i}`, i]),
    );
    expect(problemPaths({ ...outbound, metadata })).toEqual(['metadata']);
  });

  it('says what is wrong with things that are not objects', () => {
    for (const input of [null, 42, 'text', [outbound]]) {
      const result = parseEvent(input);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems[0]?.code).toBe('not_an_object');
    }
  });
});

describe('parseEventBytes', () => {
  it('parses valid UTF-8 JSON bytes', () => {
    const result = parseEventBytes(Buffer.from(JSON.stringify(outbound)));
    expect(result.ok).toBe(true);
  });

  it('reports invalid JSON and oversized records without trying the schema', () => {
    const broken = parseEventBytes(Buffer.from('{"type": "message.outbound",'));
    expect(broken.ok || broken.problems[0]?.code).toBe('invalid_json');
    const huge = parseEventBytes(Buffer.alloc(limits.maxEventBytes + 1, 0x20));
    expect(huge.ok || huge.problems[0]?.code).toBe('too_large');
    const empty = parseEventBytes(null);
    expect(empty.ok || empty.problems[0]?.code).toBe('empty');
  });

  it('never throws and always returns ok or a non-empty problem list, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const result = parseEventBytes(bytes);
        return result.ok || result.problems.length > 0;
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary JSON values, including mutated valid events', () => {
    const mutated = fc.record({
      key: fc.constantFrom(...Object.keys(outbound)),
      value: fc.jsonValue(),
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          mutated.map(({ key, value }) => ({ ...outbound, [key]: value })),
        ),
        (value) => {
          const result = parseEventBytes(JSON.stringify(value) ?? 'null');
          return (
            result.ok || result.problems.every((p) => typeof p.path === 'string' && p.message.length > 0)
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('apiKeyInventorySchema', () => {
  it('accepts the example inventory and rejects a bad CIDR and a lower-case country', () => {
    expect(apiKeyInventorySchema.safeParse(exampleApiKeyInventory).success).toBe(true);
    const bad = apiKeyInventorySchema.safeParse([
      { ...exampleApiKeyInventory[0], allowedNetworks: ['10.0.0.0/33'], allowedCountries: ['us'] },
    ]);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      '0.allowedCountries.0',
      '0.allowedNetworks.0',
    ]);
  });
});

describe('describeProblems', () => {
  it('turns a zod error into one "path: message" line per problem, and anything else into its message', () => {
    const result = apiKeyInventorySchema.safeParse([{ keyId: 1 }]);
    expect(result.success).toBe(false);
    const lines = describeProblems(result.error);
    expect(lines[0]).toMatch(/^0\.keyId: /);
    expect(lines.length).toBeGreaterThan(1);
    expect(describeProblems(new Error('no such file'))).toEqual(['no such file']);
  });
});
