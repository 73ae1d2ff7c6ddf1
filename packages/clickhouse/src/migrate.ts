/** Applies the repo's migrations with the configured retention: what `pnpm migrate` runs. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickhouseConnectionConfig } from '@floodgate/config';
import { type Clickhouse, createClickhouse, safeUrl } from './client-factory.ts';
import {
  alignRetention,
  loadMigrations,
  type MigrationResult,
  type RetentionStatus,
  runMigrations,
} from './migrations.ts';

export const defaultMigrationsDir = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../..'),
  'infra',
  'clickhouse',
  'migrations',
);

export interface MigrateOptions {
  /**
   * Alter existing tables whose TTL carries another retention than `retentionDays` (what
   * `floodgate migrate` and `pnpm migrate` do). Services only report the difference: a service
   * started without CLICKHOUSE_RETENTION_DAYS must not cut a longer retention to the default.
   */
  applyRetention?: boolean;
  /** Allow that to shorten a retention (ClickHouse then deletes the older rows). */
  allowShorterRetention?: boolean;
}

export async function migrate(
  clickhouse: Clickhouse,
  config: Pick<ClickhouseConnectionConfig, 'retentionDays'>,
  dir = defaultMigrationsDir,
  options: MigrateOptions = {},
): Promise<MigrationResult & { retention: RetentionStatus }> {
  const migrations = loadMigrations(dir, { retention_days: config.retentionDays });
  const result = await runMigrations(clickhouse.client, migrations);
  const retention = await alignRetention(clickhouse.client, migrations, config.retentionDays, {
    apply: options.applyRetention ?? false,
    allowShorter: options.allowShorterRetention ?? false,
  });
  return { ...result, retention };
}

/**
 * Services call this after `migrate`: a warning when the tables carry another retention than the
 * service was configured with (it applies none itself; `floodgate migrate` does).
 */
export function warnRetention(
  logger: { warn(fields: object, message: string): void },
  result: { retention: RetentionStatus },
): void {
  const { configuredDays, differing } = result.retention;
  if (differing.length === 0) return;
  logger.warn(
    { configuredDays, tables: Object.fromEntries(differing.map((d) => [d.table, d.days])) },
    'CLICKHOUSE_RETENTION_DAYS differs from the retention the tables keep; `floodgate migrate` applies it (--shorten-retention to shorten)',
  );
}

/**
 * A service's ClickHouse: the one it was given (whose owner migrated it), or its own from config,
 * migrated, with a warning when the tables keep another retention than configured. `owned` says
 * whether the service must close it.
 */
export async function serviceClickhouse(
  config: ClickhouseConnectionConfig,
  given: Clickhouse | undefined,
  logger: { warn(fields: object, message: string): void },
): Promise<{ clickhouse: Clickhouse; owned: boolean }> {
  if (given) return { clickhouse: given, owned: false };
  const clickhouse = await createClickhouse(config);
  warnRetention(logger, await migrate(clickhouse, config));
  return { clickhouse, owned: true };
}

/** What `floodgate migrate` and `pnpm migrate` print: where, what was applied, which TTLs changed. */
export function migrationReport(
  result: MigrationResult & { retention: RetentionStatus },
  config: Pick<ClickhouseConnectionConfig, 'url' | 'dataPath' | 'retentionDays'>,
): string[] {
  const where = config.url ? safeUrl(config.url) : `embedded engine at ${config.dataPath}`;
  return [
    `migrations on ${where}: applied ${result.applied.length}, already applied ${result.skipped.length}`,
    ...result.applied.map((name) => `  applied ${name}`),
    ...result.retention.altered.map(
      (table) => `  TTL of ${table} re-applied with CLICKHOUSE_RETENTION_DAYS=${config.retentionDays}`,
    ),
  ];
}
