import { kafkaConnectionSchema } from '@floodgate/config';
import {
  createKafka,
  createRecordSender,
  ensureTopics,
  groupedSends,
  type RecordSender,
} from '@floodgate/kafka';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const PARTITIONS = 6;
const ACCOUNTS = 40;
const PER_CLIENT = 2_000;

/**
 * Both producer clients against the real broker: every record arrives once, each key's records in
 * the order sent, and both clients put a key on the same partition (switching KAFKA_PRODUCER_CLIENT
 * must not move an account to another partition, or its events would be read out of order).
 */
describe('record senders (kafkajs and @platformatic/kafka) against the real broker', () => {
  const brokers = inject('kafkaBrokers');
  const topic = `record-sender-${Date.now()}`;
  const kafka = createKafka({
    brokers: brokers.split(','),
    clientId: 'record-sender-test',
    tls: false,
    tlsRejectUnauthorized: true,
  });
  const senders: RecordSender[] = [];

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, partitions: PARTITIONS }]);
    await admin.disconnect();
    for (const producerClient of ['kafkajs', 'platformatic'] as const)
      senders.push(
        await createRecordSender(
          kafkaConnectionSchema.parse({ brokers: brokers.split(','), producerClient }),
          kafka,
        ),
      );
  });

  afterAll(async () => {
    for (const sender of senders) await sender.close();
  });

  it('delivers every record once, in order per key, on the same partition whichever client sent it', async () => {
    expect(senders.map((s) => s.client)).toEqual(['kafkajs', 'platformatic']);
    for (const sender of senders) {
      const sends = groupedSends(sender, topic, 250);
      // Several submissions at once, as ingest's concurrent batches make them.
      await Promise.all(
        [0, 1, 2, 3].map((part) =>
          sends.send(
            Array.from({ length: PER_CLIENT / 4 }, (_, i) => {
              const seq = part * (PER_CLIENT / 4) + i;
              const key = `acct_${seq % ACCOUNTS}`;
              return { key, value: JSON.stringify({ client: sender.client, part, i, key }) };
            }),
          ),
        ),
      );
    }

    const consumer = kafka.consumer({ groupId: `record-sender-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: {
      client: string;
      part: number;
      i: number;
      key: string;
      partition: number;
      recordKey: string;
    }[] = [];
    const distinct = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${distinct.size} of ${2 * PER_CLIENT} records consumed in 60 s`)),
        60_000,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const value = JSON.parse(String(message.value)) as {
              client: string;
              part: number;
              i: number;
              key: string;
            };
            received.push({ ...value, partition, recordKey: String(message.key) });
            distinct.add(`${value.client}/${value.part}/${value.i}`);
            if (distinct.size >= 2 * PER_CLIENT) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    // A second for copies still on their way: a duplicate must fail the test, not hide in the count.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await consumer.disconnect();

    expect(
      received.filter((r) => r.recordKey !== r.key),
      'records whose key is not the one sent',
    ).toEqual([]);
    expect(distinct.size).toBe(2 * PER_CLIENT);
    expect(received, 'every record exactly once').toHaveLength(2 * PER_CLIENT);
    const partitionOf = new Map<string, Set<number>>();
    const lastIndex = new Map<string, number>();
    let outOfOrder = 0;
    for (const r of received) {
      const partitions = partitionOf.get(r.key) ?? new Set<number>();
      partitions.add(r.partition);
      partitionOf.set(r.key, partitions);
      // Within one client and one submission, records of a key keep their order.
      const stream = `${r.client}/${r.part}/${r.key}`;
      if ((lastIndex.get(stream) ?? -1) > r.i) outOfOrder++;
      lastIndex.set(stream, r.i);
    }
    expect(outOfOrder, 'records of one key arrived out of order').toBe(0);
    const split = [...partitionOf].filter(([, partitions]) => partitions.size !== 1).map(([key]) => key);
    expect(split, 'keys the two clients put on different partitions').toEqual([]);
    expect(
      new Set(received.map((r) => r.partition)).size,
      'keys should spread over the partitions',
    ).toBeGreaterThan(1);
    for (const client of ['kafkajs', 'platformatic'])
      expect(received.filter((r) => r.client === client)).toHaveLength(PER_CLIENT);
  });

  it('fails at creation, not at the first send, when no broker answers', async () => {
    const config = kafkaConnectionSchema.parse({ brokers: ['127.0.0.1:1'], producerClient: 'platformatic' });
    await expect(createRecordSender(config, kafka)).rejects.toThrow();
  });
});
