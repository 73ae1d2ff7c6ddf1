/**
 * Versioned schema migrations: `NNNN_name.sql` files applied in order, each recorded with its
 * checksum in `schema_migrations`. Re-running is a no-op; editing an applied file is an error
 * (write a new migration instead). `{{name}}` placeholders are filled from `variables` (retention).
 * A changed retention reaches tables made by earlier runs through `alignRetention`.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { ClickhouseAdapterError } from './errors.ts';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

const fileName = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Splits a file into statements on `;` at a line end; `--` comments are kept with their statement. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((statement) =>
      statement
        .split('\n')
        .filter((line) => !/^\s*--/.test(line))
        .join('\n')
        .trim(),
    )
    .filter((statement) => statement.length > 0);
}

export function loadMigrations(dir: string, variables: Record<string, string | number> = {}): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  return files.map((file) => {
    const match = fileName.exec(file);
    if (!match) {
      throw new ClickhouseAdapterError(
        'CLICKHOUSE_BAD_MIGRATION_NAME',
        `${file}: expected NNNN_snake_case_name.sql`,
      );
    }
    const text = readFileSync(join(dir, file), 'utf8');
    const filled = text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) =>
      name in variables ? String(variables[name]) : whole,
    );
    return {
      version: Number(match[1]),
      name: match[2] as string,
      statements: splitStatements(filled),
      // The checksum covers the file as written, so changing a variable (retention) is not an edit.
      checksum: createHash('sha256').update(text).digest('hex'),
    };
  });
}

export async function runMigrations(
  client: ClickHouseClient,
  migrations: Migration[],
): Promise<MigrationResult> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (
      version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const rows = await (
    await client.query({
      query: 'SELECT version, name, checksum FROM schema_migrations FINAL',
      format: 'JSONEachRow',
    })
  ).json<{ version: number; name: string; checksum: string }>();
  const applied = new Map(rows.map((row) => [Number(row.version), row]));
  const result: MigrationResult = { applied: [], skipped: [] };
  for (const migration of migrations) {
    const label = `${String(migration.version).padStart(4, '0')}_${migration.name}`;
    const previous = applied.get(migration.version);
    if (previous) {
      if (previous.checksum !== migration.checksum) {
        throw new ClickhouseAdapterError(
          'CLICKHOUSE_MIGRATION_CHANGED',
          `migration ${label} was edited after it was applied; add a new migration instead`,
        );
      }
      result.skipped.push(label);
      continue;
    }
    for (const statement of migration.statements) {
      try {
        await client.command({ query: statement });
      } catch (cause) {
        throw new ClickhouseAdapterError(
          'CLICKHOUSE_MIGRATION_FAILED',
          `migration ${label} failed at: ${statement.slice(0, 120)}…`,
          { cause },
        );
      }
    }
    await client.insert({
      table: 'schema_migrations',
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
    });
    result.applied.push(label);
  }
  return result;
}

/** The TTL clause of each table the migrations leave (created, exchanged and dropped in order). */
export function tableTtls(migrations: readonly Migration[]): Map<string, string> {
  const ttls = new Map<string, string>();
  for (const migration of migrations)
    for (const statement of migration.statements) {
      const exchange = /^EXCHANGE TABLES\s+(\w+)\s+AND\s+(\w+)/i.exec(statement);
      if (exchange) {
        const [, a, b] = exchange as unknown as [string, string, string];
        const ttlA = ttls.get(a);
        const ttlB = ttls.get(b);
        ttls.delete(a);
        ttls.delete(b);
        if (ttlB !== undefined) ttls.set(a, ttlB);
        if (ttlA !== undefined) ttls.set(b, ttlA);
        continue;
      }
      const dropped = /^DROP TABLE\s+(?:IF EXISTS\s+)?(\w+)/i.exec(statement)?.[1];
      if (dropped) {
        ttls.delete(dropped);
        continue;
      }
      const table = /^CREATE TABLE IF NOT EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(statement)?.[1];
      if (!table) continue;
      const ttl = ttlClause(statement);
      if (ttl) ttls.set(table, ttl);
      else ttls.delete(table);
    }
  return ttls;
}

export interface RetentionStatus {
  configuredDays: number;
  /** Tables whose TTL carries another retention, with the days it carries (null: unreadable). */
  differing: { table: string; days: number | null }[];
  /** Tables given the configured retention by this run. */
  altered: string[];
}

/** A CREATE TABLE statement's TTL clause: from `TTL` to `SETTINGS` or the end, on one line. */
function ttlClause(statement: string): string | undefined {
  const start = /^\s*TTL\s+/m.exec(statement);
  if (!start) return undefined;
  const rest = statement.slice(start.index + start[0].length);
  const settings = /^\s*SETTINGS\b/m.exec(rest);
  return (settings ? rest.slice(0, settings.index) : rest).replace(/\s+/g, ' ').trim();
}

/** Days in a table's TTL as ClickHouse shows it: `toIntervalDay(90)` or `toIntervalDay(greatest(90, 400))`. */
export function ttlDays(createTableQuery: string): number | null {
  const days = /\bTTL\b[\s\S]*?toIntervalDay\((?:greatest\()?(\d+)/.exec(createTableQuery)?.[1];
  return days === undefined ? null : Number(days);
}

/**
 * Compares the retention each table's TTL carries with the configured one and, with `apply`,
 * alters the tables that differ (`ALTER TABLE … MODIFY TTL` with the clause re-filled from the
 * migrations; ClickHouse re-evaluates existing parts in the background). Migrations fill
 * `{{retention_days}}` only when they create a table, so a CLICKHOUSE_RETENTION_DAYS changed later
 * needs this. Shortening deletes data, so it also needs `allowShorter`; without it the call fails
 * naming the tables, before altering any.
 */
export async function alignRetention(
  client: ClickHouseClient,
  migrations: readonly Migration[],
  retentionDays: number,
  options: { apply: boolean; allowShorter?: boolean },
): Promise<RetentionStatus> {
  const ttls = tableTtls(migrations);
  const live = await (
    await client.query({
      query: 'SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase()',
      format: 'JSONEachRow',
    })
  ).json<{ name: string; create_table_query: string }>();
  const differing: RetentionStatus['differing'] = [];
  for (const { name, create_table_query } of live) {
    if (!ttls.has(name)) continue;
    const days = ttlDays(create_table_query);
    if (days !== retentionDays) differing.push({ table: name, days });
  }
  const status: RetentionStatus = { configuredDays: retentionDays, differing, altered: [] };
  if (!options.apply || differing.length === 0) return status;
  const shortened = differing.filter((d) => d.days === null || d.days > retentionDays);
  if (shortened.length > 0 && !options.allowShorter)
    throw new ClickhouseAdapterError(
      'CLICKHOUSE_RETENTION_SHORTER',
      `CLICKHOUSE_RETENTION_DAYS=${retentionDays} would shorten the retention of ${shortened
        .map((d) => `${d.table} (${d.days ?? 'unknown'} days)`)
        .join(
          ', ',
        )}: ClickHouse would delete the older rows. Confirm with \`floodgate migrate --shorten-retention\`.`,
    );
  for (const { table } of differing) {
    try {
      await client.command({ query: `ALTER TABLE ${table} MODIFY TTL ${ttls.get(table)}` });
    } catch (cause) {
      throw new ClickhouseAdapterError(
        'CLICKHOUSE_MIGRATION_FAILED',
        `setting the retention of ${table} to ${retentionDays} days failed`,
        { cause },
      );
    }
    status.altered.push(table);
  }
  return status;
}
