/**
 * Writes of CLI commands (silences, incident actions). While a running all-in-one service holds the
 * embedded engine and advertises its admin endpoint, the write goes there (same bearer token as
 * `floodgate query`); otherwise the command opens ClickHouse itself. Either way the alerter's own
 * functions do the write, so both paths validate and store the same thing.
 */
import type { Clickhouse } from '@floodgate/clickhouse';
import { advertisedAdmin, clickhouseConfig, openClickhouse } from './connection.ts';

export interface WriteResult<T> {
  value: T;
  /** Where the write went, for the confirmation message. */
  via: string;
}

/** A write the service answered with an error (not found, already resolved, invalid): exit status 1. */
export class WriteRefused extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'WriteRefused';
    this.status = status;
  }
}

function refusal(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // plain text
  }
  return text.trim();
}

function withMigrationHint(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (/UNKNOWN_TABLE|Unknown table/i.test(message))
    return new Error(`${message}\nThe alerting tables are missing: run \`floodgate migrate\` first.`, {
      cause: error,
    });
  return error;
}

export async function writeThroughServiceOrDirect<T>(
  route: string,
  body: unknown,
  direct: (clickhouse: Clickhouse) => Promise<T>,
): Promise<WriteResult<T>> {
  const config = clickhouseConfig();
  const admin = advertisedAdmin(config);
  if (admin) {
    let response: Response | undefined;
    try {
      response = await fetch(`${admin.url}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch {
      // A stale file from a service that was killed: nobody holds the engine, write directly.
    }
    if (response) {
      const text = await response.text();
      if (!response.ok) throw new WriteRefused(refusal(text), response.status);
      return { value: JSON.parse(text) as T, via: `service at ${admin.url}` };
    }
  }
  const { clickhouse } = await openClickhouse();
  try {
    return {
      value: await direct(clickhouse).catch((error: unknown) => {
        throw withMigrationHint(error);
      }),
      via: config.url ? 'server' : `embedded engine at ${config.dataPath}`,
    };
  } finally {
    await clickhouse.close();
  }
}

/** Who is acting: --by, else $USER; a usage error names both when neither is there. */
export function actorFrom(given: unknown): string | undefined {
  if (typeof given === 'string' && given.trim() !== '') return given.trim();
  const user = process.env['USER'] ?? process.env['LOGNAME'];
  return user && user.trim() !== '' ? user.trim() : undefined;
}
