/** services/detector configuration: connections, topics, checkpoint cadence and the engine's thresholds. */
import {
  clickhouseConnectionSchema,
  connectionEnv,
  intFromEnv,
  kafkaConnectionSchema,
  type LoadOptions,
  loadConfig,
  loggingSchema,
  retrySchema,
  topicsEnv,
  topicsSchema,
} from '@floodgate/config';
import { detectConfigSchema } from '@floodgate/detect';
import { z } from 'zod';

export const detectorConfigSchema = z.object({
  kafka: kafkaConnectionSchema,
  clickhouse: clickhouseConnectionSchema,
  logging: loggingSchema,
  topics: topicsSchema,
  retry: retrySchema,
  groupId: z
    .string()
    .min(1)
    .default('floodgate-detector')
    .describe('consumer group of the detector (the campaign stage adds -campaigns)'),
  /** Each partition's engine state is checkpointed with its offset this often (and on shutdown). */
  checkpointIntervalMs: intFromEnv(1_000, 3_600_000)
    .default(10_000)
    .describe('checkpoint cadence of each partition (ms; also on shutdown)'),
  inventoryFile: z
    .string()
    .min(1)
    .optional()
    .describe('API key inventory (JSON list) for scope checks, re-read when it changes'),
  /**
   * Partitions of each stage processed at once: their detections and observations share writes
   * (group commit), so a batch does not wait for every other partition's round trips.
   */
  partitionConcurrency: intFromEnv(1, 64)
    .default(16)
    .describe('partitions of each stage processed at once (their ClickHouse and Kafka writes are shared)'),
  /** How often the inventory file is checked for changes. */
  inventoryPollMs: intFromEnv(100, 600_000)
    .default(5_000)
    .describe('how often the inventory file is checked (ms)'),
  /** How often consumer lag per partition is refreshed for /metrics. */
  lagIntervalMs: intFromEnv(200, 600_000).default(10_000).describe('refresh of the consumer-lag gauge (ms)'),
  /** Partitions of the fingerprint repartition topic when the detector creates it. */
  observationPartitions: intFromEnv(1, 1024).default(3),
  detect: detectConfigSchema.prefault({}),
});

export type DetectorConfig = z.infer<typeof detectorConfigSchema>;

export const detectorEnv = {
  ...connectionEnv,
  ...topicsEnv,
  DETECTOR_GROUP_ID: 'groupId',
  CHECKPOINT_INTERVAL_MS: 'checkpointIntervalMs',
  DETECTOR_PARTITION_CONCURRENCY: 'partitionConcurrency',
  API_KEY_INVENTORY_FILE: 'inventoryFile',
  CONSUMER_LAG_INTERVAL_MS: 'lagIntervalMs',
  API_KEY_INVENTORY_POLL_MS: 'inventoryPollMs',
  RETRY_INITIAL_BACKOFF_MS: 'retry.initialBackoffMs',
  RETRY_MAX_BACKOFF_MS: 'retry.maxBackoffMs',
} as const;

export function loadDetectorConfig(options?: LoadOptions): DetectorConfig {
  return loadConfig(detectorConfigSchema, detectorEnv, options);
}
