/**
 * One factory for every ClickHouse client in Floodgate: a server over HTTP(S) when a URL is
 * configured, otherwise the embedded chDB engine (ClickHouse 26.x in-process) on a data directory.
 * Callers get the same @clickhouse/client API and write the same SQL either way.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { ClickhouseConnectionConfig } from '@floodgate/config';
import { ClickhouseAdapterError } from './errors.ts';
import { isolateStdinFromEngine } from './stdin-guard.ts';

export type ClickhouseMode = 'server' | 'embedded';

export interface Clickhouse {
  readonly client: ClickHouseClient;
  readonly mode: ClickhouseMode;
  readonly database: string;
  close(): Promise<void>;
}

/**
 * The embedded engine's module, loaded on the first embedded session only: importing chDB maps its
 * ~540 MB library and faults in ~170 MiB of it, which a service talking to a ClickHouse server
 * should not carry (test/clickhouse-client.test.ts).
 */
let embeddedModule: Promise<typeof import('./embedded-connection.ts')> | undefined;

/** The embedded engine allows one session per process; every caller shares it. */
const embeddedSessions = new Map<string, { clickhouse: Clickhouse; users: number }>();

export async function createClickhouse(config: ClickhouseConnectionConfig): Promise<Clickhouse> {
  if (!config.url) return openEmbedded(config);
  const tls = config.tlsCaFile ? { ca_cert: readFileSync(config.tlsCaFile) } : undefined;
  const common = {
    url: config.url,
    username: config.user,
    password: config.password,
    request_timeout: config.requestTimeoutMs,
    ...(tls ? { tls } : {}),
  };
  const bootstrap = createClient(common);
  try {
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
  } catch (cause) {
    throw new ClickhouseAdapterError(
      'CLICKHOUSE_UNREACHABLE',
      `cannot reach ClickHouse at ${safeUrl(config.url)}`,
      {
        cause,
      },
    );
  } finally {
    await bootstrap.close();
  }
  const client = createClient({ ...common, database: config.database });
  return { client, mode: 'server', database: config.database, close: () => client.close() };
}

async function openEmbedded(config: ClickhouseConnectionConfig): Promise<Clickhouse> {
  embeddedModule ??= import('./embedded-connection.ts');
  const { createEmbeddedConnection } = await embeddedModule;
  // From here on synchronous: callers that raced to the await above share one session.
  const path = resolve(config.dataPath);
  const existing = embeddedSessions.get(path);
  if (existing) {
    existing.users++;
    return { ...existing.clickhouse, close: releaseEmbedded(path) };
  }
  const stdin = isolateStdinFromEngine();
  if (stdin.state === 'failed')
    throw new Error(
      `cannot keep standard input away from the embedded ClickHouse engine (${stdin.reason}); start the process with stdin from /dev/null`,
    );
  const client = createClient({ connection: createEmbeddedConnection(path, config.database) });
  const clickhouse: Clickhouse = {
    client,
    mode: 'embedded',
    database: config.database,
    close: releaseEmbedded(path),
  };
  embeddedSessions.set(path, { clickhouse, users: 1 });
  return clickhouse;
}

function releaseEmbedded(path: string): () => Promise<void> {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const entry = embeddedSessions.get(path);
    if (!entry) return;
    entry.users--;
    if (entry.users === 0) {
      embeddedSessions.delete(path);
      await entry.clickhouse.client.close();
    }
  };
}

/** The URL without credentials, for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
