/** Creates the pipeline's topics when missing (idempotent), with short retention for internal ones. */
import type { Admin } from 'kafkajs';
import { KafkaSetupError } from './errors.ts';

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
  try {
    await createTopics(admin, missing);
  } catch (error) {
    // Another client (the other service, a second instance) may have created them first.
    const now = new Set(await admin.listTopics());
    if (!missing.every((s) => now.has(s.topic))) throw error;
  }
  // A new topic's leaders reach every broker's metadata a moment after creation; producers that
  // send before that see "does not host this topic-partition". Wait until all partitions have one.
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: missing.map((s) => s.topic) });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function createTopics(admin: Admin, missing: readonly TopicSpec[]): Promise<void> {
  await admin.createTopics({
    // kafkajs' own leader wait gives up on "does not host this topic-partition"; we poll below.
    waitForLeaders: false,
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

/** How many partitions `topic` has; a KafkaSetupError naming it when it does not exist. */
export async function topicPartitionCount(admin: Admin, topic: string): Promise<number> {
  if (!(await admin.listTopics()).includes(topic))
    throw new KafkaSetupError(
      'KAFKA_TOPIC_MISSING',
      `topic ${topic} does not exist: create it (the services create their topics unless told not to)`,
    );
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = metadata.topics[0]?.partitions.length ?? 0;
  if (partitions === 0) throw new KafkaSetupError('KAFKA_TOPIC_MISSING', `topic ${topic} has no partitions`);
  return partitions;
}
