/**
 * `pnpm migrate [--shorten-retention]` — applies infra/clickhouse/migrations to the configured
 * ClickHouse (server or embedded) and CLICKHOUSE_RETENTION_DAYS to existing tables (see floodgate migrate).
 */
import { createClickhouse, migrate, safeUrl } from '@floodgate/clickhouse';
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
    const where = config.clickhouse.url
      ? safeUrl(config.clickhouse.url)
      : `embedded engine at ${config.clickhouse.dataPath}`;
    console.log(
      `migrations on ${where}: applied ${result.applied.length}, already applied ${result.skipped.length}`,
    );
    for (const name of result.applied) console.log(`  applied ${name}`);
    for (const table of result.retention.altered)
      console.log(
        `  TTL of ${table} re-applied with CLICKHOUSE_RETENTION_DAYS=${config.clickhouse.retentionDays}`,
      );
  } finally {
    await clickhouse.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
