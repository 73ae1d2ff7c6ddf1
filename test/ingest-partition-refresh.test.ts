/**
 * Ingest places each forward on its account's partition of `traffic.normalized` itself, by the
 * partition count it last read: partitions added to the topic must be used after its next refresh,
 * as a keyed producer would use them after its metadata refresh.
 */
import { topicMessagesOf } from '@floodgate/cli';
import { parseForwardedRecords } from '@floodgate/detect';
import { type IngestHandle, ingestConfigSchema, startIngest } from '@floodgate/ingest';
import { partitionOfKey } from '@floodgate/kafka';
import { createLogger } from '@floodgate/observability';
import { exampleEvent, type FloodgateEvent } from '@floodgate/schema';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';
import { eventually, metricTotal, testKafka, topicNames } from './setup/pipeline.ts';

const REFRESH_MS = 1_000;

describe('ingest follows partitions added to traffic.normalized', () => {
  const prefix = `refresh${Date.now()}`;
  const topics = topicNames(prefix);
  const brokers = inject('kafkaBrokers');
  const kafka = testKafka(brokers, `${prefix}-test`);
  let ch: TestClickhouse;
  let ingest: IngestHandle;

  // Accounts that move when the topic goes from 2 to 3 partitions, and two that stay.
  const ids = Array.from({ length: 200 }, (_, i) => `acct_refresh_${i}`);
  const moving = ids.filter((id) => partitionOfKey(id, 2) !== partitionOfKey(id, 3)).slice(0, 6);
  const staying = ids.filter((id) => partitionOfKey(id, 2) === partitionOfKey(id, 3)).slice(0, 2);
  const accounts = [...moving, ...staying];

  const wave = (name: string): FloodgateEvent[] =>
    accounts.flatMap((accountId) =>
      Array.from({ length: 5 }, (_, i) =>
        exampleEvent('message.outbound', { accountId, eventId: `${name}-${accountId}-${i}` }),
      ),
    );

  /** Every forwarded event of the topic so far (a fresh group from the start): event id → partition. */
  async function forwardedPartitions(
    expected: number,
  ): Promise<Map<string, { partition: number; accountId: string }>> {
    const seen = new Map<string, { partition: number; accountId: string }>();
    const consumer = kafka.consumer({ groupId: `${prefix}-reader-${Date.now()}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topics.normalized], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          for (const { event } of parseForwardedRecords(String(message.value)))
            seen.set(event.eventId, { partition, accountId: event.accountId });
        },
      });
      await eventually(async () => seen.size >= expected, 30_000, `${expected} forwarded events`);
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  beforeAll(async () => {
    ch = await openTestClickhouse('refresh');
    ingest = await startIngest(
      ingestConfigSchema.parse({
        kafka: { brokers: brokers.split(','), clientId: prefix },
        topics,
        groupId: `${prefix}-ingest`,
        partitions: 2,
        partitionRefreshMs: REFRESH_MS,
        privacy: { hmacKey: 'test-hmac-key-0123456789' },
        retry: { initialBackoffMs: 100, maxBackoffMs: 1_000 },
      }),
      { clickhouse: ch, logger: createLogger({ service: 'test', level: 'warn' }) },
    );
  });
  afterAll(async () => {
    await ingest?.stop();
    await ch?.dispose();
  });

  it('forwards by the new partition count after its refresh', async () => {
    expect(moving).toHaveLength(6);
    expect(staying).toHaveLength(2);
    const producer = kafka.producer();
    await producer.connect();
    try {
      const first = wave('first');
      await producer.sendBatch({ acks: -1, topicMessages: topicMessagesOf(topics, first) });
      expect(await metricTotal(ingest.registry, 'floodgate_ingest_forward_partitions')).toBe(2);
      const before = await forwardedPartitions(first.length);
      for (const { partition, accountId } of before.values())
        expect(partition, accountId).toBe(partitionOfKey(accountId, 2));

      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createPartitions({ topicPartitions: [{ topic: topics.normalized, count: 3 }] });
      } finally {
        await admin.disconnect();
      }
      await eventually(
        async () => (await metricTotal(ingest.registry, 'floodgate_ingest_forward_partitions')) === 3,
        15_000,
        'ingest to read 3 partitions',
      );

      const second = wave('second');
      await producer.sendBatch({ acks: -1, topicMessages: topicMessagesOf(topics, second) });
      const after = await forwardedPartitions(first.length + second.length);
      const secondIds = new Set(second.map((e) => e.eventId));
      const moved = new Set<string>();
      for (const [eventId, { partition, accountId }] of after) {
        if (!secondIds.has(eventId)) continue;
        expect(partition, accountId).toBe(partitionOfKey(accountId, 3));
        if (partition !== partitionOfKey(accountId, 2)) moved.add(accountId);
      }
      expect([...moved].sort()).toEqual([...moving].sort());
    } finally {
      await producer.disconnect();
    }
  });
});
