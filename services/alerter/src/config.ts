/** services/alerter configuration: connections, the rules file, delivery policy and cadences. */
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
import { parseUsers } from '@floodgate/console';
import { z } from 'zod';

export const alerterConfigSchema = z.object({
  kafka: kafkaConnectionSchema,
  clickhouse: clickhouseConnectionSchema,
  logging: loggingSchema,
  topics: topicsSchema,
  /** Backoff of ClickHouse writes (the outbox must be stored before offsets move). */
  retry: retrySchema,
  groupId: z.string().min(1).default('floodgate-alerter').describe('consumer group of the alerter'),
  /** A new consumer group starts at the end of `detections` unless this is set (no paging for history). */
  fromBeginning: booleanFromEnv
    .default(false)
    .describe(
      'a new consumer group reads detections from the beginning (default: from the end, no paging for history)',
    ),
  /** YAML or JSON rules file (see infra/alerting/rules.example.yaml). */
  rulesFile: z
    .string()
    .min(1, 'expected the path of the rules file')
    .describe('YAML or JSON rules file (see infra/alerting/rules.example.yaml)'),
  /** Links in notifications point at <publicBaseUrl>/incidents/<id>. */
  publicBaseUrl: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .default('http://localhost:8080')
    .describe(
      'links in notifications point at <this>/incidents/<id>: the incident console (set it to the admin address or its proxy)',
    ),
  /**
   * The incident console on the admin address (the page notification links open). Off unless a
   * token or basic-auth users are set; every request without them gets 401.
   */
  console: z
    .object({
      token: z
        .string()
        .min(16, 'expected at least 16 characters of secret')
        .optional()
        .describe(
          'turns the incident console on: people sign in with their name and this token (≥ 16 characters)',
        ),
      users: z
        .string()
        .optional()
        .superRefine((text, ctx) => {
          if (text === undefined) return;
          try {
            parseUsers(text);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: (error as Error).message });
          }
        })
        .describe(
          'turns the incident console on with HTTP basic auth: name:password,… (passwords ≥ 12 characters)',
        ),
      privacy: z
        .enum(['masked', 'full'])
        .default('masked')
        .describe(
          'masked: evidence samples (masked by the engine) and source networks only; full: also stored bodies and source IPs',
        ),
      sessionHours: intFromEnv(1, 720).default(12).describe('how long a console sign-in lasts (hours)'),
    })
    .prefault({}),
  /** How often pending, quiet, repeating and silenced incidents are re-examined. */
  evaluationIntervalMs: intFromEnv(50, 60_000)
    .default(1_000)
    .describe('how often pending, quiet, repeating and silenced incidents are re-examined (ms)'),
  /** How often consumer lag per partition is refreshed for /metrics. */
  lagIntervalMs: intFromEnv(200, 600_000).default(10_000).describe('refresh of the consumer-lag gauge (ms)'),
  /** How often silences are re-read from ClickHouse. */
  silenceRefreshMs: intFromEnv(100, 600_000).default(5_000).describe('how often silences are re-read (ms)'),
  /** How often people's actions on open incidents (acknowledge, resolve) are read from ClickHouse. */
  actionRefreshMs: intFromEnv(100, 600_000)
    .default(2_000)
    .describe('how often acknowledge/resolve actions are read (ms)'),
  delivery: z
    .object({
      maxAttempts: intFromEnv(1, 100)
        .default(12)
        .describe('delivery attempts before a notification is recorded failed'),
      initialBackoffMs: intFromEnv(10, 60_000).default(500).describe('first delivery retry delay (ms)'),
      maxBackoffMs: intFromEnv(100, 3_600_000)
        .default(60_000)
        .describe('cap of the delivery retry delay (ms)'),
      /** At most this many notifications in flight at once. */
      concurrency: intFromEnv(1, 64).default(8).describe('notifications in flight at once'),
      /** On a graceful stop, in-flight deliveries get this long before they are left pending. */
      drainMs: intFromEnv(0, 60_000).default(5_000),
    })
    .prefault({}),
});

export type AlerterConfig = z.infer<typeof alerterConfigSchema>;
export type AlerterConfigInput = z.input<typeof alerterConfigSchema>;

export const alerterEnv = {
  ...connectionEnv,
  ...topicsEnv,
  ALERTER_GROUP_ID: 'groupId',
  ALERTER_FROM_BEGINNING: 'fromBeginning',
  ALERT_RULES_FILE: 'rulesFile',
  PUBLIC_BASE_URL: 'publicBaseUrl',
  CONSOLE_TOKEN: 'console.token',
  CONSOLE_USERS: 'console.users',
  CONSOLE_PRIVACY: 'console.privacy',
  CONSOLE_SESSION_HOURS: 'console.sessionHours',
  ALERT_EVALUATION_INTERVAL_MS: 'evaluationIntervalMs',
  ALERT_SILENCE_REFRESH_MS: 'silenceRefreshMs',
  ALERT_ACTION_REFRESH_MS: 'actionRefreshMs',
  CONSUMER_LAG_INTERVAL_MS: 'lagIntervalMs',
  ALERT_DELIVERY_MAX_ATTEMPTS: 'delivery.maxAttempts',
  ALERT_DELIVERY_INITIAL_BACKOFF_MS: 'delivery.initialBackoffMs',
  ALERT_DELIVERY_MAX_BACKOFF_MS: 'delivery.maxBackoffMs',
  ALERT_DELIVERY_CONCURRENCY: 'delivery.concurrency',
  RETRY_INITIAL_BACKOFF_MS: 'retry.initialBackoffMs',
  RETRY_MAX_BACKOFF_MS: 'retry.maxBackoffMs',
} as const;

export function loadAlerterConfig(options?: LoadOptions): AlerterConfig {
  return loadConfig(alerterConfigSchema, alerterEnv, options);
}

/** Secrets of the alerter's own config (receivers' secrets live in the rules file, which is never logged). */
export const alerterSecretPaths = [
  'kafka.sasl.password',
  'clickhouse.password',
  'console.token',
  'console.users',
] as const;
