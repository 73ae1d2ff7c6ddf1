/**
 * Connection settings shared by every service, production-ready from the start: Kafka with SASL
 * (PLAIN, SCRAM-SHA-256/512) and TLS; ClickHouse server over HTTP(S), or the embedded engine.
 */
import { z } from 'zod';
import { booleanFromEnv, hostPort, intFromEnv, listFromEnv } from './fields.ts';

export const kafkaConnectionSchema = z
  .object({
    brokers: listFromEnv.pipe(z.array(hostPort).min(1, 'expected at least one broker')).optional(),
    clientId: z.string().min(1).default('floodgate'),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .optional(),
    tls: booleanFromEnv.default(false),
    tlsCaFile: z.string().min(1).optional(),
    tlsRejectUnauthorized: booleanFromEnv.default(true),
  })
  .prefault({})
  .describe('Kafka. Without brokers the all-in-one runner starts a local broker (development only).');

export const clickhouseConnectionSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://localhost:8123' })
      .optional(),
    user: z.string().default('default'),
    password: z.string().default(''),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a database name of letters, digits and _')
      .default('floodgate'),
    tlsCaFile: z.string().min(1).optional(),
    dataPath: z.string().min(1).default('.data/clickhouse'),
    requestTimeoutMs: intFromEnv(1_000, 600_000).default(30_000),
    retentionDays: intFromEnv(1, 3650).default(90),
  })
  .prefault({})
  .describe('ClickHouse: a server when url is set, otherwise the embedded chDB engine at dataPath.');

export const loggingSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
