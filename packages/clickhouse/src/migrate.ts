/** Applies the repo's migrations with the configured retention: what `pnpm migrate` runs. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickhouseConnectionConfig } from '@floodgate/config';
import type { Clickhouse } from './client-factory.ts';
import { alignRetention, loadMigrations, type MigrationResult, runMigrations } from './migrations.ts';

export const defaultMigrationsDir = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../..'),
  'infra',
  'clickhouse',
  'migrations',
);

export async function migrate(
  clickhouse: Clickhouse,
  config: Pick<ClickhouseConnectionConfig, 'retentionDays'>,
  dir = defaultMigrationsDir,
): Promise<MigrationResult & { retentionAltered: string[] }> {
  const migrations = loadMigrations(dir, { retention_days: config.retentionDays });
  const result = await runMigrations(clickhouse.client, migrations);
  const retentionAltered = await alignRetention(
    clickhouse.client,
    migrations,
    config.retentionDays,
    result.skipped.length === 0,
  );
  return { ...result, retentionAltered };
}
