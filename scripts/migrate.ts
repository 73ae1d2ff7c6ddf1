/**
 * `pnpm migrate [--shorten-retention]` — applies infra/clickhouse/migrations to the configured
 * ClickHouse (server or embedded) and CLICKHOUSE_RETENTION_DAYS to existing tables (see floodgate migrate).
 */
import { createClickhouse, migrate, migrationReport } from '@floodgate/clickhouse';
import { ConfigError, clickhouseConnectionSchema, connectionEnv, loadConfig } from '@floodgate/config';
import { z } from 'zod';

async function main(): Promise<void> {
  const config = loadConfig(z.object({ clickhouse: clickhouseConnectionSchema }), connectionEnv);
  const clickhouse = await createClickhouse(config.clickhouse);
  try {
    const result = await migrate(clickhouse, config.clickhouse, undefined, {
      applyRetention: true,
      allowShorterRetention: process.argv.includes('--shorten-retention'),
    });
    for (const line of migrationReport(result, config.clickhouse)) console.log(line);
  } finally {
    await clickhouse.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
