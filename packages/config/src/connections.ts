/**
 * Connection settings shared by every service, production-ready from the start: Kafka with SASL
 * (PLAIN, SCRAM-SHA-256/512) and TLS; ClickHouse server over HTTP(S), or the embedded engine.
 */
import { z } from 'zod';
import { booleanFromEnv, hostPort, intFromEnv, listFromEnv } from './fields.ts';

export const kafkaConnectionSchema = z
  .object({
    brokers: listFromEnv
      .pipe(z.array(hostPort).min(1, 'expected at least one broker'))
      .optional()
      .describe('comma-separated host:port list of Kafka brokers'),
    clientId: z.string().min(1).default('floodgate').describe('client id sent to the brokers'),
    sasl: z
      .object({
        mechanism: z
          .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
          .describe('SASL mechanism: plain, scram-sha-256 or scram-sha-512'),
        username: z.string().min(1).describe('SASL user (needed with a mechanism)'),
        password: z.string().min(1).describe('SASL password (secret; needed with a mechanism)'),
      })
      .optional(),
    tls: booleanFromEnv.default(false).describe('connect to the brokers with TLS'),
    tlsCaFile: z.string().min(1).optional().describe('PEM file of the CA to trust for the brokers'),
    tlsRejectUnauthorized: booleanFromEnv.default(true).describe("verify the brokers' certificates"),
    producerClient: z
      .enum(['platformatic', 'kafkajs'])
      .default('platformatic')
      .describe(
        "client that produces the pipeline's record streams (forwards, detections, observations): platformatic (@platformatic/kafka) or kafkajs",
      ),
  })
  .prefault({})
  .describe('Kafka. Without brokers the all-in-one runner starts a local broker (development only).');

export const clickhouseConnectionSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://localhost:8123' })
      .optional()
      .describe('http(s)://host:port of a ClickHouse server; unset: the embedded engine'),
    user: z.string().default('default').describe('ClickHouse server user'),
    password: z.string().default('').describe('ClickHouse server password (secret)'),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a database name of letters, digits and _')
      .default('floodgate')
      .describe('database (created if missing)'),
    tlsCaFile: z.string().min(1).optional().describe('PEM file of the CA to trust for https:// servers'),
    dataPath: z.string().min(1).default('.data/clickhouse').describe('data directory of the embedded engine'),
    requestTimeoutMs: intFromEnv(1_000, 600_000).default(30_000).describe('per-request timeout (ms)'),
    retentionDays: intFromEnv(1, 3650)
      .default(90)
      .describe('TTL of raw events and rollups in days (audit events, detections and alerts: at least 400)'),
  })
  .prefault({})
  .describe('ClickHouse: a server when url is set, otherwise the embedded chDB engine at dataPath.');

export const loggingSchema = z
  .object({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('log level (pino): fatal, error, warn, info, debug, trace or silent'),
  })
  .prefault({});

export type KafkaConnectionConfig = z.infer<typeof kafkaConnectionSchema>;
export type ClickhouseConnectionConfig = z.infer<typeof clickhouseConnectionSchema>;
export type LoggingConfig = z.infer<typeof loggingSchema>;

/** Environment variables of the shared sections; services add their own. */
export const connectionEnv = {
  KAFKA_BROKERS: 'kafka.brokers',
  KAFKA_CLIENT_ID: 'kafka.clientId',
  KAFKA_SASL_MECHANISM: 'kafka.sasl.mechanism',
  KAFKA_SASL_USERNAME: 'kafka.sasl.username',
  KAFKA_SASL_PASSWORD: 'kafka.sasl.password',
  KAFKA_TLS: 'kafka.tls',
  KAFKA_TLS_CA_FILE: 'kafka.tlsCaFile',
  KAFKA_TLS_REJECT_UNAUTHORIZED: 'kafka.tlsRejectUnauthorized',
  KAFKA_PRODUCER_CLIENT: 'kafka.producerClient',
  CLICKHOUSE_URL: 'clickhouse.url',
  CLICKHOUSE_USER: 'clickhouse.user',
  CLICKHOUSE_PASSWORD: 'clickhouse.password',
  CLICKHOUSE_DATABASE: 'clickhouse.database',
  CLICKHOUSE_TLS_CA_FILE: 'clickhouse.tlsCaFile',
  CLICKHOUSE_DATA_PATH: 'clickhouse.dataPath',
  CLICKHOUSE_REQUEST_TIMEOUT_MS: 'clickhouse.requestTimeoutMs',
  CLICKHOUSE_RETENTION_DAYS: 'clickhouse.retentionDays',
  LOG_LEVEL: 'logging.level',
} as const;

/** Paths whose values are secrets: never printed, never logged. */
export const secretPaths = ['kafka.sasl.password', 'clickhouse.password'] as const;
