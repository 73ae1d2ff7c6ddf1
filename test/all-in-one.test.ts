import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAllInOne } from '@floodgate/all-in-one';
import { createClickhouse } from '@floodgate/clickhouse';
import { detectorConfigSchema } from '@floodgate/detector';
import { ingestConfigSchema } from '@floodgate/ingest';
import { createKafka } from '@floodgate/kafka';
import { createLogger } from '@floodgate/observability';
import { exampleEvents } from '@floodgate/schema';
import { describe, expect, inject, it } from 'vitest';
import { eventually, topicNames } from './setup/pipeline.ts';

describe('all-in-one runner', () => {
  it('runs ingest and detector in one process on the embedded engine and becomes ready', async () => {
    const prefix = `aio${Date.now()}`;
    const topics = topicNames(prefix);
    const dataPath = mkdtempSync(join(tmpdir(), 'floodgate-aio-'));
    const common = {
      kafka: { brokers: inject('kafkaBrokers').split(','), clientId: prefix },
      topics,
      clickhouse: { dataPath },
    };
    const handle = await startAllInOne(
      ingestConfigSchema.parse({ ...common, groupId: `${prefix}-ingest`, partitions: 2 }),
      detectorConfigSchema.parse({ ...common, groupId: `${prefix}-detector` }),
      createLogger({ service: 'test', level: 'warn' }),
    );
    try {
      await eventually(async () => handle.ready().ready, 30_000, 'readiness');
      const producer = createKafka({
        brokers: inject('kafkaBrokers').split(','),
        clientId: prefix,
        tls: false,
        tlsRejectUnauthorized: true,
      }).producer();
      await producer.connect();
      await producer.send({
        topic: topics.outbound,
        messages: Array.from({ length: 50 }, (_, i) => ({
          value: JSON.stringify({ ...exampleEvents['message.outbound'], eventId: `aio-${i}` }),
        })),
      });
      await producer.disconnect();
      const reader = await createClickhouse({ ...ingestConfigSchema.parse(common).clickhouse });
      await eventually(
        async () => {
          const [row] = await (
            await reader.client.query({
              query: 'SELECT count() AS n FROM messages_outbound',
              format: 'JSONEachRow',
            })
          ).json<{ n: string }>();
          return Number(row?.n) === 50;
        },
        30_000,
        '50 rows',
      );
      await reader.close();
      expect((await handle.registry.metrics()).includes('floodgate_ingest_consumed_total')).toBe(true);
    } finally {
      await handle.stop();
    }
  });
});
