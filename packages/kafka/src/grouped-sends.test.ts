import { describe, expect, it } from 'vitest';
import { groupedSends } from './grouped-sends.ts';
import type { KeyedRecord, RecordSender } from './record-sender.ts';

/** A sender whose requests are recorded (the grouping and chunking logic only; no broker). */
function recordingProducer() {
  const requests: { topic: string; keys: string[] }[] = [];
  const producer: RecordSender = {
    client: 'kafkajs',
    newPartitionDelayMs: 0,
    send: async (topic: string, records: readonly KeyedRecord[]) => {
      requests.push({ topic, keys: records.map((m) => m.key) });
    },
    close: async () => undefined,
  };
  return { producer, requests };
}

const messages = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: 'v' }));

describe('groupedSends', () => {
  it('sends the submissions of one turn in one request, in submission order', async () => {
    const { producer, requests } = recordingProducer();
    const sends = groupedSends(producer, 'traffic.normalized');
    await Promise.all([sends.send(messages('a', 2)), sends.send(messages('b', 1))]);
    expect(requests).toEqual([{ topic: 'traffic.normalized', keys: ['a0', 'a1', 'b0'] }]);
  });

  it('splits a large submission into requests of at most maxRecords, and sends nothing for none', async () => {
    const { producer, requests } = recordingProducer();
    const sends = groupedSends(producer, 't', 500);
    await sends.send(messages('m', 1_200));
    await sends.send([]);
    expect(requests.map((r) => r.keys.length)).toEqual([500, 500, 200]);
    expect(requests.flatMap((r) => r.keys)).toEqual(messages('m', 1_200).map((m) => m.key));
  });
});

describe('groupedSends, by size', () => {
  it('keeps a request within maxBytes of keys and values, one record at least', async () => {
    const { producer, requests } = recordingProducer();
    const sends = groupedSends(producer, 't', 500, 1_000);
    const big = (key: string, bytes: number) => ({ key, value: 'x'.repeat(bytes - key.length) });
    await sends.send([big('a', 400), big('b', 400), big('c', 400), big('d', 2_500), big('e', 100)]);
    expect(requests.map((r) => r.keys)).toEqual([['a', 'b'], ['c'], ['d'], ['e']]);
  });

  it('counts UTF-8 bytes, not characters (a CJK character is 3 bytes)', async () => {
    const { producer, requests } = recordingProducer();
    const sends = groupedSends(producer, 't', 500, 1_000);
    // 200 characters each, 600 bytes: two would pass 1,000 bytes.
    await sends.send(['a', 'b', 'c'].map((key) => ({ key, value: '日'.repeat(200) })));
    expect(requests.map((r) => r.keys)).toEqual([['a'], ['b'], ['c']]);
  });
});
