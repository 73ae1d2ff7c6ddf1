/** Creates the pipeline's topics when missing (idempotent), with short retention for internal ones. */
import type { Admin } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  partitions: number;
  retentionMs?: number;
  /** Topic-level max.message.bytes (the DLQ keeps oversized originals). */
  maxMessageBytes?: number;
}

export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.partitions,
      configEntries: [
        ...(s.retentionMs ? [{ name: 'retention.ms', value: String(s.retentionMs) }] : []),
        ...(s.maxMessageBytes ? [{ name: 'max.message.bytes', value: String(s.maxMessageBytes) }] : []),
      ],
    })),
  });
}
