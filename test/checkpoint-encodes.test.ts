/**
 * The checkpointed stage encodes one partition's checkpoint at a time. Partitions are processed at
 * once, and each took its checkpoint at once: interleaved encodes let V8's heap grow far past the
 * state (pnpm bench step 3b: one run in three ~700 MiB above the others). Real broker, real engine.
 */
import { startCheckpointedStage } from '@floodgate/detector';
import { batchPhaseTimer, createLogger, createRegistry } from '@floodgate/observability';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';
import { eventually, testKafkaWithTopics } from './setup/pipeline.ts';

const PARTITIONS = 4;
/** Lines of 1 MiB: the encoder hands each to the compressor and waits for it to drain (yielding). */
const LINE = 'x'.repeat(1 << 20);

describe('checkpointed stage: checkpoint encodes', () => {
  let ch: TestClickhouse;
  const prefix = `encodes${Date.now()}`;
  const topic = `${prefix}.input`;
  const brokers = () => inject('kafkaBrokers');

  beforeAll(async () => {
    ch = await openTestClickhouse('encodes');
  });
  afterAll(async () => {
    await ch?.dispose();
  });

  it('runs one at a time while partitions are processed at once, and stores every partition', async () => {
    const kafka = await testKafkaWithTopics(brokers(), prefix, [{ topic, partitions: PARTITIONS }]);
    const producer = kafka.producer();
    await producer.connect();
    // Several records per partition, in one request: the first fetch brings every partition's batch.
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 40 }, (_, i) => ({ partition: i % PARTITIONS, value: String(i) })),
    });
    await producer.disconnect();

    let active = 0;
    let maxActive = 0;
    let encodes = 0;
    const registry = createRegistry('encodes');
    const stage = await startCheckpointedStage<{ count: number }, number>({
      name: 'encodes',
      kafka,
      clickhouse: ch,
      logger: createLogger({ service: 'encodes-test', level: 'error' }),
      topic,
      groupId: `${prefix}-group`,
      // Every batch is due for a checkpoint.
      checkpointIntervalMs: 0,
      partitionConcurrency: PARTITIONS,
      retry: { initialBackoffMs: 100, maxBackoffMs: 1_000 },
      phases: batchPhaseTimer(registry, `${prefix}-group`),
      logic: {
        create: () => ({ count: 0 }),
        restore: (text) => ({ count: Number(text.split('\n')[0]) }),
        *serialize(state) {
          active++;
          encodes++;
          maxActive = Math.max(maxActive, active);
          try {
            yield String(state.count);
            for (let i = 0; i < 3; i++) yield LINE;
          } finally {
            active--;
          }
        },
        decode: (value) => [{ event: Number(value.toString('utf8')), source: undefined }],
        process: (state) => {
          state.count++;
        },
        flush: async () => {},
      },
    });
    try {
      await eventually(async () => stage.processed() >= 40, 60_000, 'the 40 records processed');
      const stored = await eventually(
        async () => {
          const result = await ch.client.query({
            query: `SELECT count(DISTINCT partition) AS n FROM detector_checkpoints WHERE group_id = {group:String}`,
            query_params: { group: `${prefix}-group` },
            format: 'JSONEachRow',
          });
          const [row] = (await result.json()) as Array<{ n: number | string }>;
          return Number(row?.n) === PARTITIONS && Number(row?.n);
        },
        60_000,
        'a checkpoint stored for every partition',
      );
      expect(stored).toBe(PARTITIONS);
      expect(encodes).toBeGreaterThanOrEqual(PARTITIONS);
      expect(maxActive).toBe(1);
    } finally {
      await stage.stop();
    }
  });
});
