/**
 * Runs ingest and detector in this process against the real broker and a test ClickHouse, with
 * topic names unique to the test so files never see each other's records.
 */
import { topicMessagesOf } from '@floodgate/cli';
import { prefixedTopics } from '@floodgate/config';
import { DetectionEngine, type NormalizedEvent, parseForwardedRecords } from '@floodgate/detect';
import {
  type DetectorHandle,
  detectorConfigSchema,
  isReplayedCopy,
  startDetector,
} from '@floodgate/detector';
import { type IngestHandle, ingestConfigSchema, startIngest } from '@floodgate/ingest';
import { createKafka, ensureTopics, type Kafka, partitionOfKey, topicPartitionCount } from '@floodgate/kafka';
import { createLogger, type Registry } from '@floodgate/observability';
import type { FloodgateEvent } from '@floodgate/schema';
import { simulate } from '@floodgate/simulator';
import type { TestClickhouse } from './clickhouse.ts';

export interface TestPipeline {
  kafka: Kafka;
  /** The consumer group ids of ingest and the detector. */
  groups: { ingest: string; detector: string };
  topics: ReturnType<typeof topicNames>;
  ingest: IngestHandle;
  detector: DetectorHandle;
  produce(events: readonly FloodgateEvent[]): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export function topicNames(prefix: string) {
  return prefixedTopics(prefix);
}

export async function startTestPipeline(
  brokers: string,
  clickhouse: TestClickhouse,
  prefix: string,
  options: {
    inventoryFile?: string;
    detect?: Record<string, unknown>;
    ingest?: Record<string, unknown>;
  } = {},
): Promise<TestPipeline> {
  const topics = topicNames(prefix);
  const logger = createLogger({ service: 'test', level: 'warn' });
  const common = {
    kafka: { brokers: brokers.split(','), clientId: prefix },
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
      ...options.ingest,
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
  const kafka = testKafka(brokers, `${prefix}-producer`);
  const producer = kafka.producer();
  await producer.connect();
  return {
    kafka,
    groups: { ingest: `${prefix}-ingest`, detector: `${prefix}-detector` },
    topics,
    ingest,
    detector,
    async produce(events) {
      const counts: Record<string, number> = {};
      for (let start = 0; start < events.length; start += 2_000) {
        const chunk = events.slice(start, start + 2_000);
        for (const event of chunk) counts[event.type] = (counts[event.type] ?? 0) + 1;
        await producer.sendBatch({ acks: -1, topicMessages: topicMessagesOf(topics, chunk) });
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

/** A Kafka client on the test broker (plaintext; `brokers` comma-separated). */
export function testKafka(brokers: string, clientId: string): Kafka {
  return createKafka({ brokers: brokers.split(','), clientId, tls: false, tlsRejectUnauthorized: true });
}

/** A Kafka client on the test broker, with the given topics created first. */
export async function testKafkaWithTopics(
  brokers: string,
  clientId: string,
  topics: Array<{ topic: string; partitions: number }>,
): Promise<Kafka> {
  const kafka = testKafka(brokers, clientId);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
  return kafka;
}

/** Sum of a counter's or gauge's values over its label sets. */
export async function metricTotal(registry: Registry, name: string): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** Records before ingest's committed offsets, over the pipeline's five input topics. */
export async function ingestCommittedRecords(brokers: string, pipeline: TestPipeline): Promise<number> {
  const admin = testKafka(brokers, `${pipeline.groups.ingest}-offsets`).admin();
  await admin.connect();
  try {
    const t = pipeline.topics;
    const topics = [t.outbound, t.inbound, t.status, t.feedback, t.audit];
    let sum = 0;
    for (const topic of await admin.fetchOffsets({ groupId: pipeline.groups.ingest, topics }))
      for (const p of topic.partitions) sum += Math.max(0, Number(p.offset));
    return sum;
  } finally {
    await admin.disconnect();
  }
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

/**
 * What an uninterrupted detector would have found: reads every record of `topic` (`expected` of
 * them; a record may carry several events), skips the copies ingest re-forwarded after a crash
 * exactly as the detector does, and runs one engine per partition in offset order. Returns the
 * detection ids, how many events it read and how many of them were copies.
 */
export async function referenceDetections(
  kafka: Kafka,
  topic: string,
  expected: number,
): Promise<{
  ids: Set<string>;
  events: number;
  copies: number;
  /** Events on another partition than the one Kafka's default partitioner gives their account. */
  misplaced: number;
  described: Map<string, string>;
}> {
  const byPartition = new Map<number, { events: NormalizedEvent[]; sources: Map<string, bigint> }>();
  let events = 0;
  let copies = 0;
  let misplaced = 0;
  let read = 0;
  const admin = kafka.admin();
  await admin.connect();
  const partitions = await topicPartitionCount(admin, topic).finally(() => admin.disconnect());
  const reader = kafka.consumer({ groupId: `${topic}-reference-${Date.now()}` });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${read} of ${expected} records of ${topic}`)),
      60_000,
    );
    reader
      .run({
        eachBatch: async ({ batch }) => {
          let partition = byPartition.get(batch.partition);
          if (!partition) {
            partition = { events: [], sources: new Map() };
            byPartition.set(batch.partition, partition);
          }
          for (const m of batch.messages) {
            for (const { event, source } of parseForwardedRecords(String(m.value))) {
              events++;
              if (partitionOfKey(event.accountId, partitions) !== batch.partition) misplaced++;
              if (isReplayedCopy(partition.sources, source ?? m.headers?.['floodgate.source'])) copies++;
              else partition.events.push(event);
            }
          }
          read += batch.messages.length;
          if (read >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await reader.disconnect();
  const ids = new Set<string>();
  const described = new Map<string, string>();
  for (const [partition, { events }] of byPartition) {
    const engine = new DetectionEngine();
    for (const event of events)
      for (const d of engine.process(event)) {
        ids.add(d.id);
        described.set(
          d.id,
          `p${partition} ${d.kind} ${d.key} ${d.accountId} @${new Date(d.detectedAtMs).toISOString()}`,
        );
      }
  }
  return { ids, events, copies, misplaced, described };
}

/** Three hours of 20 accounts' traffic with an account takeover 2.5 h in (seed 5): the process tests' input. */
export function takeoverTraffic() {
  const startMs = Date.UTC(2026, 9, 16, 4, 0, 0);
  return simulate({
    seed: 5,
    startMs,
    durationMs: 3 * 3_600_000,
    accounts: 20,
    scenarios: [{ name: 'account_takeover', atMs: startMs + 2.5 * 3_600_000 }],
  });
}
