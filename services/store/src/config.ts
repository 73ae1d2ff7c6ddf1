/** services/store configuration: the embedded engine's data directory and the HTTP interface it is served on. */
import {
  clickhouseConnectionSchema,
  connectionEnv,
  hostPort,
  intFromEnv,
  type LoadOptions,
  loadConfig,
  loggingSchema,
} from '@floodgate/config';
import { z } from 'zod';

const LOOPBACK = /^(127\.[0-9.]+|localhost|\[::1\]):[0-9]+$/;

export const storeConfigSchema = z
  .object({
    clickhouse: clickhouseConnectionSchema,
    logging: loggingSchema,
    listen: hostPort
      .default('127.0.0.1:8123')
      .describe("host:port of the store's ClickHouse HTTP interface (port 0: any free port)"),
    maxBodyMiB: intFromEnv(1, 512)
      .default(256)
      .describe(
        'largest request body (an insert batch) accepted, in MiB (at most 512: it is read as one string)',
      ),
  })
  .superRefine((config, ctx) => {
    if (config.clickhouse.url)
      ctx.addIssue({
        code: 'custom',
        path: ['clickhouse', 'url'],
        message: 'the store serves the embedded engine at clickhouse.dataPath; unset CLICKHOUSE_URL for it',
      });
    if (!LOOPBACK.test(config.listen) && config.clickhouse.password === '')
      ctx.addIssue({
        code: 'custom',
        path: ['clickhouse', 'password'],
        message: `listening on ${config.listen} (not loopback) needs a password (CLICKHOUSE_PASSWORD): the interface runs any SQL`,
      });
  });

export type StoreConfig = z.infer<typeof storeConfigSchema>;

const SHARED = [
  'CLICKHOUSE_URL',
  'CLICKHOUSE_USER',
  'CLICKHOUSE_PASSWORD',
  'CLICKHOUSE_DATABASE',
  'CLICKHOUSE_DATA_PATH',
  'LOG_LEVEL',
] as const;

/** The store reads the ClickHouse and logging variables (no Kafka) and its own. */
export const storeEnv = {
  ...Object.fromEntries(SHARED.map((name) => [name, connectionEnv[name]])),
  STORE_LISTEN: 'listen',
  STORE_MAX_BODY_MIB: 'maxBodyMiB',
} as const;

export function loadStoreConfig(options?: LoadOptions): StoreConfig {
  return loadConfig(storeConfigSchema, storeEnv, options);
}
