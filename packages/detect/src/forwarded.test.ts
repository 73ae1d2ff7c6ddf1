import { describe, expect, it } from 'vitest';
import {
  type ForwardedRecord,
  forwardedBatchValue,
  forwardedValue,
  parseForwardedRecords,
} from './forwarded.ts';
import { normalizeEvent } from './normalize.ts';

const event = normalizeEvent(
  {
    type: 'message.outbound',
    schemaVersion: 1,
    eventId: 'evt_1',
    eventTime: Date.UTC(2026, 10, 26, 6),
    accountId: 'acct_1',
    apiKeyId: 'key_1',
    sourceIp: '203.0.113.9',
    from: 'ACME',
    to: '+14155550123',
    channel: 'sms',
    body: 'Your code is 123456. Track at https://acme-shop.com/t/1',
    segments: 1,
  },
  { hmacKey: 'test-key' },
);

/** The one event of a record value that carries one. */
function parseForwarded(value: string): ForwardedRecord {
  const records = parseForwardedRecords(value);
  expect(records).toHaveLength(1);
  return records[0] as ForwardedRecord;
}

describe('traffic.normalized record values', () => {
  it('carry the source record after the event and give both back', () => {
    const value = forwardedValue(event, 'messages.outbound/3@42');
    expect(JSON.parse(value)).toEqual({ ...event, source: 'messages.outbound/3@42' });
    const parsed = parseForwarded(value);
    expect(parsed.source).toBe('messages.outbound/3@42');
    expect(parsed.event).toMatchObject(event);
    // The event serialises (snapshots, evidence) exactly as one that never had a source.
    expect(JSON.stringify(parsed.event)).toBe(JSON.stringify(event));
  });

  it('read values without a source (other producers, the header of older ingest versions)', () => {
    const parsed = parseForwarded(JSON.stringify(event));
    expect(parsed.source).toBeUndefined();
    expect(parsed.event).toEqual(event);
    expect(parseForwarded(JSON.stringify({ ...event, source: 7 })).source).toBeUndefined();
  });

  it('keep sources that need escaping intact', () => {
    const source = 'odd "topic"\\name/0@1';
    expect(parseForwarded(forwardedValue(event, source)).source).toBe(source);
  });

  it('refuse what is not a non-empty object (its value would not be JSON)', () => {
    expect(() => forwardedValue({} as never, 's')).toThrow(TypeError);
    expect(() => forwardedValue([] as never, 's')).toThrow(TypeError);
  });

  it('carry several events in one value, in order, each with its source', () => {
    const second = { ...event, eventId: 'evt_2' };
    const value = forwardedBatchValue([
      forwardedValue(event, 'messages.outbound/3@42'),
      forwardedValue(second, 'messages.outbound/3@45'),
    ]);
    const parsed = parseForwardedRecords(value);
    expect(parsed.map((r) => [r.event.eventId, r.source])).toEqual([
      ['evt_1', 'messages.outbound/3@42'],
      ['evt_2', 'messages.outbound/3@45'],
    ]);
    expect(JSON.stringify(parsed[1]?.event)).toBe(JSON.stringify(second));
    // One event is a plain value, as ingest forwarded before batching (and other producers do).
    const single = forwardedBatchValue([forwardedValue(event, 'messages.outbound/3@42')]);
    expect(single).toBe(forwardedValue(event, 'messages.outbound/3@42'));
    expect(parseForwardedRecords(single)).toEqual([{ event, source: 'messages.outbound/3@42' }]);
  });
});
