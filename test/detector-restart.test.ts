import { type NormalizedEvent, normalizeEvent } from '@floodgate/detect';
import { detectorConfigSchema, startDetector } from '@floodgate/detector';
import { createLogger } from '@floodgate/observability';
import { simulate } from '@floodgate/simulator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';
import { eventually, referenceDetections, testKafkaWithTopics, topicNames } from './setup/pipeline.ts';

const HOUR = 3_600_000;

describe('detector: killed mid-stream and restarted', () => {
  let ch: TestClickhouse;
  const prefix = `restart${Date.now()}`;
  const topics = topicNames(prefix);
  const brokers = () => inject('kafkaBrokers');
  const startMs = Date.UTC(2026, 9, 14, 5, 0, 0);
  const simulation = simulate({
    seed: 11,
    startMs,
    durationMs: 3 * HOUR,
    accounts: 20,
    scenarios: [{ name: 'sms_pumping', atMs: startMs + 2 * HOUR + 13 * 60_000 }],
  });
  const normalized: NormalizedEvent[] = simulation.events.map((e) =>
    normalizeEvent(e, { hmacKey: 'restart-test-key-0123' }),
  );

  beforeAll(async () => {
    ch = await openTestClickhouse('restart');
  });
  afterAll(async () => {
    await ch?.dispose();
  });

  it('restores each partition from its checkpoint: the detections equal an uninterrupted run, with no duplicates', async () => {
    const kafka = await testKafkaWithTopics(brokers(), prefix, [
      { topic: topics.normalized, partitions: 3 },
      { topic: topics.detections, partitions: 1 },
    ]);
    const producer = kafka.producer();
    await producer.connect();
    for (let start = 0; start < normalized.length; start += 1_000) {
      await producer.send({
        topic: topics.normalized,
        acks: -1,
        messages: normalized
          .slice(start, start + 1_000)
          .map((e) => ({ key: e.accountId, value: JSON.stringify(e) })),
      });
    }
    await producer.disconnect();

    // The uninterrupted reference: one engine per partition over the records in offset order.
    const { ids: expectedIds, misplaced } = await referenceDetections(
      kafka,
      topics.normalized,
      normalized.length,
    );
    // kafkajs' partitioner put these keyed records; the reference agrees with it on the real broker.
    expect(misplaced, "every record on its account's partition").toBe(0);
    expect(expectedIds.size, 'the pumping scenario should produce detections').toBeGreaterThan(0);

    const logger = createLogger({ service: 'test', level: 'warn' });
    const config = detectorConfigSchema.parse({
      kafka: { brokers: brokers().split(','), clientId: `${prefix}-detector` },
      topics,
      groupId: `${prefix}-detector`,
      checkpointIntervalMs: 1_000,
    });
    const first = await startDetector(config, { clickhouse: ch, logger });
    await eventually(
      async () => first.processed() >= normalized.length / 2,
      60_000,
      'the detector to be half-way',
    );
    await first.abort();
    const processedBeforeKill = first.processed();

    const second = await startDetector(config, { clickhouse: ch, logger });
    const ids = await eventually(
      async () => {
        const rows = await (
          await ch.client.query({
            query: 'SELECT id, count() AS n FROM detections FINAL GROUP BY id',
            format: 'JSONEachRow',
          })
        ).json<{ id: string; n: string | number }>();
        return rows.length >= expectedIds.size ? rows : undefined;
      },
      60_000,
      `${expectedIds.size} detections after the restart`,
    );
    await second.stop();
    console.log(
      `killed after ${processedBeforeKill} of ${normalized.length} records; the restarted detector processed ${second.processed()}; ${ids.length} detections`,
    );
    expect(second.processed(), 'the restart resumed from a checkpoint, not from zero').toBeLessThan(
      normalized.length,
    );
    expect(new Set(ids.map((r) => r.id))).toEqual(expectedIds);
    expect(
      ids.every((r) => Number(r.n) === 1),
      'no duplicate rows after FINAL',
    ).toBe(true);
  });
});
