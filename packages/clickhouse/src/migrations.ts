/**
 * Versioned schema migrations: `NNNN_name.sql` files applied in order, each recorded with its
 * checksum in `schema_migrations`. Re-running is a no-op; editing an applied file is an error
 * (write a new migration instead). `{{name}}` placeholders are filled from `variables` (retention).
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
