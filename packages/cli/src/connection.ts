/**
 * How CLI commands reach ClickHouse: the server at CLICKHOUSE_URL, or the embedded engine at
 * CLICKHOUSE_DATA_PATH. The embedded engine can be open in one process only; when a running
 * all-in-one service holds it, read-only queries go through that service's admin endpoint instead
 * (its URL and bearer token are in `<dataPath>/.floodgate-admin.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_FILE } from '@floodgate/all-in-one';
import { type Clickhouse, createClickhouse, runReadOnlyQuery } from '@floodgate/clickhouse';
import {
  type ClickhouseConnectionConfig,
  clickhouseConnectionSchema,
  connectionEnv,
  loadConfig,
} from '@floodgate/config';
import { z } from 'zod';

export function clickhouseConfig(): ClickhouseConnectionConfig {
  return loadConfig(z.object({ clickhouse: clickhouseConnectionSchema }), connectionEnv).clickhouse;
}

export async function openClickhouse(): Promise<{
  clickhouse: Clickhouse;
  config: ClickhouseConnectionConfig;
}> {
  const config = clickhouseConfig();
  try {
    return { clickhouse: await createClickhouse(config), config };
  } catch (error) {
    if (config.url) throw error;
    throw new Error(
      `cannot open the embedded ClickHouse engine at ${config.dataPath}: ${(error as Error).message}\n` +
        'If a Floodgate service is running on this data directory, stop it or use a command that goes through its admin endpoint.',
      { cause: error },
    );
  }
}

interface AdminEndpoint {
  url: string;
  token: string;
}

/** The running all-in-one's admin endpoint for this data directory, when one advertises itself. */
export function advertisedAdmin(config: ClickhouseConnectionConfig): AdminEndpoint | undefined {
  if (config.url) return undefined;
  const file = join(config.dataPath, ADMIN_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<AdminEndpoint>;
    return typeof parsed.url === 'string' && typeof parsed.token === 'string'
      ? { url: parsed.url, token: parsed.token }
      : undefined;
  } catch {
    return undefined;
  }
}

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  via: string;
}

export interface Reader {
  run(sql: string, params: Record<string, unknown>, maxRows?: number): Promise<Omit<QueryResult, 'via'>>;
  readonly via: string;
  close(): Promise<void>;
}

/**
 * A read-only query runner wherever ClickHouse is reachable: the server, the running service that
 * holds the embedded engine (through its admin endpoint), or the embedded engine opened here.
 */
export async function openReader(): Promise<Reader> {
  const config = clickhouseConfig();
  const admin = advertisedAdmin(config);
  if (admin) {
    const post = (body: unknown) =>
      fetch(`${admin.url}/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    let alive = false;
    try {
      alive = (await fetch(`${admin.url}/healthz`)).ok;
    } catch {
      // A stale file from a service that was killed: nobody holds the engine, open it directly.
    }
    if (alive)
      return {
        via: `service at ${admin.url}`,
        async run(sql, params, maxRows) {
          const response = await post({ sql, params, maxRows });
          const text = await response.text();
          if (!response.ok) throw new Error(`query failed (${response.status}): ${text.trim()}`);
          return JSON.parse(text) as Omit<QueryResult, 'via'>;
        },
        close: async () => undefined,
      };
  }
  const { clickhouse } = await openClickhouse();
  return {
    via: config.url ? 'server' : `embedded engine at ${config.dataPath}`,
    run: (sql, params, maxRows) => runReadOnlyQuery(clickhouse.client, sql, params, maxRows),
    close: () => clickhouse.close(),
  };
}

/** Runs SQL read-only wherever ClickHouse is reachable (see openReader). */
export async function readOnlyQuery(
  sql: string,
  params: Record<string, unknown>,
  maxRows?: number,
): Promise<QueryResult> {
  const reader = await openReader();
  try {
    return { ...(await reader.run(sql, params, maxRows)), via: reader.via };
  } finally {
    await reader.close();
  }
}
