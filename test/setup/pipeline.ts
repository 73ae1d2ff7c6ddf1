/**
 * Runs ingest and detector in this process against the real broker and a test ClickHouse, with
 * topic names unique to the test so files never see each other's records.
 */
import { type DetectorHandle, detectorConfigSchema, startDetector } from '@floodgate/detector';
import { type IngestHandle, ingestConfigSchema, startIngest } from '@floodgate/ingest';
import { createKafka, type Kafka } from '@floodgate/kafka';
import { createLogger } from '@floodgate/observability';
import type { FloodgateEvent } from '@floodgate/schema';
import type { TestClickhouse } from './clickhouse.ts';

export interface TestPipeline {
  kafka: Kafka;
  topics: ReturnType<typeof topicNames>;
  ingest: IngestHandle;
  detector: DetectorHandle;
  produce(events: readonly FloodgateEvent[]): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export function topicNames(prefix: string) {
  return {
    outbound: `${prefix}.messages.outbound`,
    inbound: `${prefix}.messages.inbound`,
    status: `${prefix}.messages.status`,
    feedback: `${prefix}.messages.feedback`,
    audit: `${prefix}.accounts.audit`,
    deadLetter: `${prefix}.messages.dlq`,
    normalized: `${prefix}.traffic.normalized`,
    detections: `${prefix}.detections`,
    observations: `${prefix}.fingerprints.observations`,
  };
}

export function topicOf(topics: ReturnType<typeof topicNames>, event: FloodgateEvent): string {
  switch (event.type) {
    case 'message.outbound':
      return topics.outbound;
    case 'message.inbound':
      return topics.inbound;
    case 'message.status':
      return topics.status;
    case 'message.feedback':
      return topics.feedback;
    case 'account.audit':
      return topics.audit;
  }
}

export async function startTestPipeline(
  brokers: string,
  clickhouse: TestClickhouse,
  prefix: string,
  options: { inventoryFile?: string; detect?: Record<string, unknown> } = {},
): Promise<TestPipeline> {
  const topics = topicNames(prefix);
  const logger = createLogger({ service: 'test', level: 'warn' });
  const common = {
    kafka: { brokers: [brokers], clientId: prefix },
    topics,
    retry: { initialBackoffMs: 100, maxBackoffMs: 1_000 },
    ...(options.inventoryFile ? { inventoryFile: options.inventoryFile, inventoryPollMs: 300 } : {}),
  };
  const ingest = await startIngest(
    ingestConfigSchema.parse({
      ...common,
      groupId: `${prefix}-ingest`,
      partitions: 3,
      privacy: { hmacKey: 'test-hmac-key-0123456789' },
    }),
    { clickhouse, logger },
  );
  const detector = await startDetector(
    detectorConfigSchema.parse({
      ...common,
      groupId: `${prefix}-detector`,
      checkpointIntervalMs: 2_000,
      detect: options.detect ?? {},
    }),
    { clickhouse, logger },
  );
  const kafka = createKafka({
    brokers: [brokers],
    clientId: `${prefix}-producer`,
    tls: false,
    tlsRejectUnauthorized: true,
  });
  const producer = kafka.producer();
  await producer.connect();
  return {
    kafka,
    topics,
    ingest,
    detector,
    async produce(events) {
      const counts: Record<string, number> = {};
      for (let start = 0; start < events.length; start += 2_000) {
        const byTopic = new Map<string, { key: string; value: string }[]>();
        for (const event of events.slice(start, start + 2_000)) {
          const topic = topicOf(topics, event);
          counts[event.type] = (counts[event.type] ?? 0) + 1;
          let messages = byTopic.get(topic);
          if (!messages) {
            messages = [];
            byTopic.set(topic, messages);
          }
          messages.push({ key: event.accountId, value: JSON.stringify(event) });
        }
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
      }
      return counts;
    },
    async stop() {
      await producer.disconnect();
      await ingest.stop();
      await detector.stop();
    },
  };
}

/** Polls `probe` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
  );
}
