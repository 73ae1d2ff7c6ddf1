/**
 * The analyst cookbook: named SQL files under infra/clickhouse/queries, each declaring its
 * parameters in `-- @param name Type description` lines. Queries run with query parameters only
 * (never string-built SQL) and read-only settings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { defaultMigrationsDir } from './migrate.ts';

export const defaultQueriesDir = join(defaultMigrationsDir, '..', 'queries');

export interface QueryParameter {
  name: string;
  type: string;
  description: string;
}

export interface CookbookQuery {
  name: string;
  description: string;
  parameters: QueryParameter[];
  sql: string;
}

const paramLine = /^--\s*@param\s+(\w+)\s+(\S+(?:\([^)]*\))?)\s*(.*)$/;

export function parseCookbookQuery(name: string, text: string): CookbookQuery {
  const lines = text.split('\n');
  const parameters: QueryParameter[] = [];
  const description: string[] = [];
  for (const line of lines) {
    if (!line.startsWith('--')) break;
    const match = paramLine.exec(line);
    if (match)
      parameters.push({ name: match[1] as string, type: match[2] as string, description: match[3] ?? '' });
    else description.push(line.replace(/^--\s?/, ''));
  }
  return { name, description: description.join(' ').trim(), parameters, sql: text };
}

export function loadCookbook(dir = defaultQueriesDir): CookbookQuery[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseCookbookQuery(basename(f, '.sql'), readFileSync(join(dir, f), 'utf8')));
}

/** Settings every analyst query runs with: no writes (ClickHouse enforces it), bounded time and rows. */
export function readOnlySettings(maxRows = 100_000) {
  return {
    readonly: '2',
    max_execution_time: 60,
    max_result_rows: String(maxRows),
    result_overflow_mode: 'break',
  } as const;
}

/**
 * Runs any SQL read-only (`readonly=2`: ClickHouse refuses writes and DDL) with query parameters —
 * the `floodgate query` path. Returns the rows and the column names in order.
 */
export async function runReadOnlyQuery(
  client: ClickHouseClient,
  sql: string,
  params: Record<string, unknown> = {},
  maxRows = 100_000,
): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const result = await client.query({
    query: sql,
    query_params: params,
    format: 'JSONCompactEachRowWithNames',
    clickhouse_settings: readOnlySettings(maxRows),
  });
  const [names, ...values] = await result.json<unknown[]>();
  const columns = (names ?? []).map(String);
  const rows = values.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
  return { columns, rows };
}

/** Runs a cookbook query read-only; every declared parameter must be given. */
export async function runCookbookQuery<T = Record<string, unknown>>(
  client: ClickHouseClient,
  query: CookbookQuery,
  params: Record<string, unknown>,
): Promise<T[]> {
  const missing = query.parameters.filter((p) => !(p.name in params)).map((p) => p.name);
  if (missing.length > 0) throw new TypeError(`query ${query.name} needs ${missing.join(', ')}`);
  const result = await client.query({
    query: query.sql,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: readOnlySettings(),
  });
  return result.json<T>();
}
