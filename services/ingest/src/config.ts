/**
 * services/ingest configuration: connections, topics, batching and the privacy settings. Parsed
 * once at start; every wrong variable is reported together.
 */
import {
  booleanFromEnv,
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
import { z } from 'zod';

export const ingestConfigSchema = z.object({
  kafka: kafkaConnectionSchema,
  clickhouse: clickhouseConnectionSchema,
  logging: loggingSchema,
  topics: topicsSchema,
  retry: retrySchema,
  groupId: z.string().min(1).default('floodgate-ingest').describe('consumer group of ingest'),
  /** Partitions created for missing topics (development; production topics are provisioned). */
  partitions: intFromEnv(1, 1024).default(6).describe('partitions of the topics ingest creates'),
  createTopics: booleanFromEnv
    .default(true)
    .describe('create missing topics at start (set false where topics are provisioned)'),
  /** Partitions whose batches are processed at once (kafkajs partitionsConsumedConcurrently). */
  partitionConcurrency: intFromEnv(1, 64)
    .default(32)
    .describe('input partitions processed at once (their INSERTs and forwards are shared: group commit)'),
  /**
   * What a fetch waits for: the broker answers when it has this many bytes for ingest or the wait
   * is over. Bigger fetches make bigger INSERTs, and each INSERT costs the engine a part.
   */
  fetchMinBytes: intFromEnv(1, 64 * 1024 * 1024)
    .default(1)
    .describe('bytes a fetch waits for before the broker answers (bigger batches, fewer INSERTs)'),
  fetchMaxWaitMs: intFromEnv(10, 5_000)
    .default(1_000)
    .describe('longest a fetch waits for those bytes (ms); also bounds how long a stop waits'),
  /**
   * Raw rows wait up to this long for more before their INSERT (one per table): the engine pays for
   * every INSERT, so one a second beats one per fetch. Ingest keeps fetching and forwarding
   * meanwhile; a batch's offset is committed once its rows are stored.
   */
  storeLingerMs: intFromEnv(0, 60_000)
    .default(1_000)
    .describe(
      'longest raw rows wait to be stored together (ms; forwarding to the detector does not wait; 0: one INSERT per fetch)',
    ),
  /**
   * Kept small: a larger buffer held more memory while draining a backlog (ingest's RSS 1,077–1,343
   * MiB at 50,000 against 1,008–1,010 at 10,000) for no more throughput.
   */
  storeBufferRows: intFromEnv(1_000, 10_000_000)
    .default(10_000)
    .describe('rows waiting to be stored beyond which ingest stops fetching until ClickHouse catches up'),
  /** Worker threads that validate and normalise; unset: see defaultPrepareWorkers. */
  normalizeWorkers: intFromEnv(0, 64)
    .optional()
    .describe(
      'worker threads that validate and normalise records (0: on the main thread; default: none on up to 2 cores, else one fewer than the cores, at most 4)',
    ),
  /**
   * How often traffic.normalized's partition count is re-read: ingest places each forward on its
   * account's partition itself, so partitions added to the topic are used from the first re-read
   * after its producer client knows them (at once with @platformatic/kafka, which re-reads its
   * metadata on demand; after kafkajs' 5-minute metadata refresh with KAFKA_PRODUCER_CLIENT=kafkajs).
   */
  partitionRefreshMs: intFromEnv(1_000, 3_600_000)
    .default(300_000)
    .describe(
      'how often the partition count of the normalised topic is re-read (ms): added partitions are used from the first re-read after the producer client knows them',
    ),
  /**
   * Events dated further ahead of ingest's clock are dead-lettered (reason `in_future`). One sender
   * whose clock runs ahead would otherwise move the detector's watermark, and every other sender's
   * events in its partition would be dropped as late for as long: this plus the pipeline's delay
   * must stay within the detector's allowed lateness (30 s by default).
   */
  maxFutureMs: intFromEnv(0, 86_400_000)
    .default(5_000)
    .describe(
      "how far ahead of ingest's clock an event time may be (ms); later ones are dead-lettered (this plus the pipeline's delay must stay within the detector's allowed lateness)",
    ),
  /** Normalized topic retention: it is internal and carries recipient digits, so keep it short. */
  normalizedRetentionMs: intFromEnv(60_000, 7 * 86_400_000).default(6 * 3_600_000),
  privacy: z
    .object({
      /** none: no body; masked: codes, amounts, names, link paths masked; full: as sent. */
      bodyStorage: z
        .enum(['none', 'masked', 'full'])
        .default('masked')
        .describe('message bodies stored: none, masked (codes, amounts, names, link paths masked) or full'),
      /** Key for recipient HMACs. Required outside development: a default would make hashes reversible by dictionary. */
      hmacKey: z
        .string()
        .min(16, 'expected at least 16 characters of secret')
        .default('floodgate-dev-only-hmac-key')
        .describe('secret key of the recipient-number HMACs (≥ 16 characters; set it outside development)'),
      prefixDigits: intFromEnv(1, 12).default(6).describe('digits of the number prefix kept in clear'),
    })
    .prefault({}),
  inventoryFile: z
    .string()
    .min(1)
    .optional()
    .describe('API key inventory (JSON list), stored in api_keys and re-read when it changes'),
  /** How often the inventory file is checked for changes. */
  inventoryPollMs: intFromEnv(100, 600_000)
    .default(5_000)
    .describe('how often the inventory file is checked (ms)'),
  /** How often consumer lag per partition is refreshed for /metrics. */
  lagIntervalMs: intFromEnv(200, 600_000).default(10_000).describe('refresh of the consumer-lag gauge (ms)'),
});

export type IngestConfig = z.infer<typeof ingestConfigSchema>;

export const ingestEnv = {
  ...connectionEnv,
  ...topicsEnv,
  INGEST_GROUP_ID: 'groupId',
  INGEST_PARTITIONS: 'partitions',
  INGEST_CREATE_TOPICS: 'createTopics',
  INGEST_PARTITION_CONCURRENCY: 'partitionConcurrency',
  INGEST_NORMALIZE_WORKERS: 'normalizeWorkers',
  INGEST_FETCH_MIN_BYTES: 'fetchMinBytes',
  INGEST_FETCH_MAX_WAIT_MS: 'fetchMaxWaitMs',
  INGEST_STORE_LINGER_MS: 'storeLingerMs',
  INGEST_STORE_BUFFER_ROWS: 'storeBufferRows',
  INGEST_PARTITION_REFRESH_MS: 'partitionRefreshMs',
  INGEST_MAX_FUTURE_MS: 'maxFutureMs',
  BODY_STORAGE: 'privacy.bodyStorage',
  FLOODGATE_HMAC_KEY: 'privacy.hmacKey',
  PREFIX_DIGITS: 'privacy.prefixDigits',
  API_KEY_INVENTORY_FILE: 'inventoryFile',
  CONSUMER_LAG_INTERVAL_MS: 'lagIntervalMs',
  API_KEY_INVENTORY_POLL_MS: 'inventoryPollMs',
  RETRY_INITIAL_BACKOFF_MS: 'retry.initialBackoffMs',
  RETRY_MAX_BACKOFF_MS: 'retry.maxBackoffMs',
} as const;

export const ingestSecretPaths = ['kafka.sasl.password', 'clickhouse.password', 'privacy.hmacKey'] as const;

export function loadIngestConfig(options?: LoadOptions): IngestConfig {
  return loadConfig(ingestConfigSchema, ingestEnv, options);
}
