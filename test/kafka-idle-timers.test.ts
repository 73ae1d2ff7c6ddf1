import { ensureTopics } from '@floodgate/kafka';
import { expect, inject, it } from 'vitest';
import { eventually, testKafka } from './setup/pipeline.ts';

/**
 * kafkajs 2.2.4 re-armed a 1 ms timer forever on every connection once its first response arrived
 * (tulios/kafkajs#1751; on Node 24 it also prints TimeoutNegativeWarning): ~3,600 timers/s and
 * ~3 % of a core for an idle admin, producer and consumer. infra/patches/kafkajs@2.2.4.patch stops
 * it; this fails if the patch is lost (a kafkajs upgrade, an install that skips patches).
 */
it('idle kafkajs clients (admin, producer, consumer in a group) do not spin timers', async () => {
  const kafka = testKafka(inject('kafkaBrokers'), 'idle-timers-test');
  const topic = `idle-timers-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, partitions: 1 }]);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'x' }] });
  const consumer = kafka.consumer({ groupId: `idle-timers-${Date.now()}`, maxWaitTimeInMs: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let consumed = 0;
  await consumer.run({
    eachMessage: async () => {
      consumed++;
    },
  });
  try {
    await eventually(async () => consumed > 0, 30_000, 'the consumer to read the record');
    expect(consumed, 'the consumer should have read the record (the clients are connected)').toBe(1);

    const realSetTimeout = globalThis.setTimeout;
    let calls = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      calls++;
      return realSetTimeout(...args);
    }) as typeof setTimeout;
    const started = performance.now();
    try {
      await new Promise((r) => realSetTimeout(r, 2_000));
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    const perSecond = calls / ((performance.now() - started) / 1000);
    // A consumer long-polls about once a second (a request timeout each) and heartbeats every 3 s;
    // the unpatched client sets ~1,000 timers per second per connection.
    expect(perSecond, `setTimeout calls per second while idle: ${perSecond.toFixed(0)}`).toBeLessThan(50);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
}, 60_000);
