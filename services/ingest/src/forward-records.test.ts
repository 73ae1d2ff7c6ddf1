import { parseForwardedRecords } from '@floodgate/detect';
import { partitionOfKey } from '@floodgate/kafka';
import { describe, expect, it } from 'vitest';
import { forwardRecords } from './forward-records.ts';

/** Forwarded values small enough to check by hand: the event id is enough. */
const events = (n: number, accounts: number) =>
  Array.from({ length: n }, (_, i) => ({
    key: `acct_${(i * 7) % accounts}`,
    value: JSON.stringify({ eventId: `e${i}`, accountId: `acct_${(i * 7) % accounts}`, source: `t/0@${i}` }),
  }));

const idsOf = (value: string) =>
  parseForwardedRecords(value).map((r) => (r.event as { eventId: string }).eventId);

describe('forwardRecords', () => {
  it("puts each event in its key's partition, once, in the batch's order per partition", () => {
    const input = events(500, 37);
    const records = forwardRecords(input, 6);
    const seen: string[] = [];
    for (const record of records) {
      for (const r of parseForwardedRecords(record.value)) {
        const event = r.event as { eventId: string; accountId: string };
        expect(partitionOfKey(event.accountId, 6)).toBe(record.partition);
        seen.push(event.eventId);
      }
    }
    expect([...seen].sort()).toEqual(input.map((e) => JSON.parse(e.value).eventId).sort());
    for (let partition = 0; partition < 6; partition++) {
      const inPartition = records.filter((r) => r.partition === partition).flatMap((r) => idsOf(r.value));
      const expected = input
        .filter((e) => partitionOfKey(e.key, 6) === partition)
        .map((e) => JSON.parse(e.value).eventId);
      expect(inPartition).toEqual(expected);
    }
    // 500 events in 6 partitions: one record each, not one per event.
    expect(records).toHaveLength(6);
  });

  it('starts a new record before one would pass maxBytes, and sends a lone event as it is', () => {
    const input = events(100, 1);
    const records = forwardRecords(input, 3, 1_000);
    expect(records.length).toBeGreaterThan(1);
    for (const record of records) expect(record.value.length).toBeLessThanOrEqual(1_000);
    expect(records.flatMap((r) => idsOf(r.value))).toEqual(input.map((e) => JSON.parse(e.value).eventId));
    // Bytes, not characters: 300 characters of Chinese are 900 bytes, so two never share 1,000.
    const wide = [0, 1, 2].map((i) => ({
      key: 'acct_0',
      value: JSON.stringify({ eventId: `w${i}`, body: '日'.repeat(300) }),
    }));
    expect(forwardRecords(wide, 3, 1_000).map((r) => idsOf(r.value))).toEqual([['w0'], ['w1'], ['w2']]);
    const [only] = forwardRecords(input.slice(0, 1), 3);
    expect(only?.value).toBe(input[0]?.value);
    expect(only?.key).toBe('acct_0');
  });
});
