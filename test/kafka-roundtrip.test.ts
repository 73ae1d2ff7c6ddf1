import { createKafka, ensureTopics, type Kafka } from '@floodgate/kafka';
import { beforeAll, describe, expect, inject, it } from 'vitest';

const EVENTS = 10_000;
const PARTITIONS = 3;

describe('Kafka round trip against the real broker', () => {
  let kafka: Kafka;
  const topic = `roundtrip-${Date.now()}`;

  beforeAll(async () => {
    kafka = createKafka({
      brokers: inject('kafkaBrokers').split(','),
      clientId: 'roundtrip-test',
      tls: false,
      tlsRejectUnauthorized: true,
    });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, partitions: PARTITIONS }]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions, 'topic should have been created with 3 partitions').toHaveLength(
      PARTITIONS,
    );
    await admin.disconnect();
  });

  it(`produces ${EVENTS} events and a consumer group reads every one back, in order per key`, async () => {
    const producer = kafka.producer();
    await producer.connect();
    const accounts = 50;
    for (let start = 0; start < EVENTS; start += 1_000) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 1_000 }, (_, i) => {
          const seq = start + i;
          const accountId = `acct_${seq % accounts}`;
          return { key: accountId, value: JSON.stringify({ seq, accountId }) };
        }),
      });
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `roundtrip-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<number, string>();
    const partitionsSeen = new Set<number>();
    const lastSeqByAccount = new Map<string, number>();
    let outOfOrder = 0;
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${seen.size} of ${EVENTS} events consumed in 60 s`)),
        60_000,
      );
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            partitionsSeen.add(batch.partition);
            for (const message of batch.messages) {
              const value = JSON.parse(String(message.value)) as { seq: number; accountId: string };
              expect(String(message.key)).toBe(value.accountId);
              if ((lastSeqByAccount.get(value.accountId) ?? -1) > value.seq) outOfOrder++;
              lastSeqByAccount.set(value.accountId, value.seq);
              seen.set(value.seq, value.accountId);
              received++;
            }
            if (seen.size >= EVENTS) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    expect(seen.size, 'every produced sequence number should be consumed').toBe(EVENTS);
    expect(received, 'no record should be delivered twice').toBe(EVENTS);
    for (let seq = 0; seq < EVENTS; seq++) expect(seen.get(seq)).toBe(`acct_${seq % accounts}`);
    expect(partitionsSeen.size, 'keys should spread over all partitions').toBe(PARTITIONS);
    expect(outOfOrder, 'events of one key should arrive in produce order').toBe(0);
  });
});
