import { kafkaConnectionSchema } from '@floodgate/config';
import {
  createKafka,
  createRecordSender,
  ensureTopics,
  groupedSends,
  type RecordSender,
  startLocalBroker,
  UnknownPartitionError,
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

  it('sends a record for a partition added after the client read the metadata there or fails, never elsewhere', async () => {
    const grown = `${topic}-grown`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [{ topic: grown, partitions: 2 }]);
      // Each client reads the topic's metadata (2 partitions) with a first record to partition 1.
      for (const sender of senders)
        await sender.send(grown, [{ key: 'k', value: sender.client, partition: 1 }]);
      await admin.createPartitions({ topicPartitions: [{ topic: grown, count: 3 }] });
      const [kafkajs, platformatic] = senders as [RecordSender, RecordSender];
      // kafkajs' producer keeps its metadata (5 minutes): it does not know partition 2 yet.
      expect(kafkajs.newPartitionDelayMs).toBeGreaterThanOrEqual(300_000);
      await expect(kafkajs.send(grown, [{ key: 'k', value: 'kafkajs', partition: 2 }])).rejects.toThrow(
        UnknownPartitionError,
      );
      // @platformatic/kafka reads the metadata again and sends it where asked.
      expect(platformatic.newPartitionDelayMs).toBe(0);
      await platformatic.send(grown, [{ key: 'k', value: 'platformatic', partition: 2 }]);
      const offsets = await admin.fetchTopicOffsets(grown);
      const records = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
      expect(
        [0, 1, 2].map((p) => records.get(p)),
        'one record per client on partition 1, platformatic’s on 2, nothing sent elsewhere',
      ).toEqual([0, 2, 1]);
    } finally {
      await admin.disconnect();
    }
  });

  it('fails at creation, not at the first send, when no broker answers', async () => {
    const config = kafkaConnectionSchema.parse({ brokers: ['127.0.0.1:1'], producerClient: 'platformatic' });
    await expect(createRecordSender(config, kafka)).rejects.toThrow();
  });
});

/**
 * The default producer across a broker that stops answering for longer than a request may take
 * (30 s): requests time out and are retried, and the idempotent producer must neither lose nor
 * duplicate a record. A broker of its own, frozen with SIGSTOP, so the shared one is untouched.
 */
describe('the default producer across a frozen broker', () => {
  it('delivers every record exactly once, in order per key, after a 35 s freeze', async () => {
    const broker = await startLocalBroker({ heap: '512m' });
    try {
      const kafka = createKafka({
        brokers: [broker.bootstrap],
        clientId: 'freeze-test',
        tls: false,
        tlsRejectUnauthorized: true,
      });
      const admin = kafka.admin();
      await admin.connect();
      const topic = 'frozen';
      await ensureTopics(admin, [{ topic, partitions: 3 }]);
      await admin.disconnect();
      const sender = await createRecordSender(
        kafkaConnectionSchema.parse({ brokers: [broker.bootstrap] }),
        kafka,
      );
      expect(sender.client).toBe('platformatic');
      const sends = groupedSends(sender, topic, 100);
      const rounds = 40;
      const failures: string[] = [];
      const sending = (async () => {
        for (let round = 0; round < rounds; round++) {
          const records = Array.from({ length: 50 }, (_, i) => {
            const n = round * 50 + i;
            return { key: `k${n % 7}`, value: String(n) };
          });
          try {
            await sends.send(records);
          } catch (error) {
            failures.push((error as Error).message);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      process.kill(broker.pid, 'SIGSTOP');
      try {
        await new Promise((resolve) => setTimeout(resolve, 35_000));
      } finally {
        process.kill(broker.pid, 'SIGCONT');
      }
      await sending;
      await sender.close();
      expect(failures, 'sends that failed instead of waiting for the broker').toEqual([]);

      const consumer = kafka.consumer({ groupId: `freeze-${Date.now()}` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const values: number[] = [];
      const lastByKey = new Map<string, number>();
      let outOfOrder = 0;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${values.length} of ${rounds * 50} read back`)),
          60_000,
        );
        consumer
          .run({
            eachMessage: async ({ message }) => {
              const n = Number(String(message.value));
              const key = String(message.key);
              if ((lastByKey.get(key) ?? -1) > n) outOfOrder++;
              lastByKey.set(key, n);
              values.push(n);
              if (values.length >= rounds * 50)
                // A moment for any duplicate still behind the last record.
                setTimeout(() => {
                  clearTimeout(timer);
                  resolve();
                }, 1_000);
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      expect(values, 'every record exactly once').toHaveLength(rounds * 50);
      expect(new Set(values).size).toBe(rounds * 50);
      expect(outOfOrder, 'records of one key out of order').toBe(0);
    } finally {
      await broker.stop();
    }
  });
});
