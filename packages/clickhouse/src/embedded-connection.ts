/**
 * The embedded engine behind @clickhouse/client's `connection` hook: chDB's connection, with
 * per-query settings turned into SETTINGS clauses (see query-settings.ts) and a default database
 * selected once for the process-wide session, since chDB ignores the client's `database` option.
 * `default_format` stays with chDB's connection (it picks the output format of a statement without
 * FORMAT), and settings that only mean something to an HTTP server are dropped.
 */
import type { ClickHouseClientConfigOptions } from '@clickhouse/client';
import { drainPending } from 'chdb';
import { createChdbConnection } from 'chdb/connection';
import { checkReadOnly, splitEngineSettings, withSettingsClause } from './query-settings.ts';

export type ClientConnection = NonNullable<ClickHouseClientConfigOptions['connection']>;
type Params<K extends keyof ClientConnection> = ClientConnection[K] extends (p: infer P) => unknown
  ? P
  : never;

/** How long a close waits for the engine's work in flight. */
const CLOSE_WAIT_MS = 3_000;

/** Waits for `promise` (its outcome ignored) until `deadline` (performance.now() time) at most. */
async function settledBefore(promise: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - performance.now())))),
  ]);
  clearTimeout(timer);
}

export function createEmbeddedConnection(path: string, database: string): ClientConnection {
  const inner = createChdbConnection({ path }) as unknown as ClientConnection;
  let ready: Promise<unknown> | undefined;
  const init = (): Promise<unknown> => {
    ready ??= inner
      .command({
        query: `CREATE DATABASE IF NOT EXISTS ${database}`,
        query_id: 'init-db',
      } as Params<'command'>)
      .then(() => inner.command({ query: `USE ${database}`, query_id: 'init-use' } as Params<'command'>));
    return ready;
  };
  const scoped = <P extends { query: string; clickhouse_settings?: unknown }>(params: P): P => {
    const { clause, defaultFormat } = splitEngineSettings(params.clickhouse_settings as never);
    checkReadOnly(params.query, clause);
    return {
      ...params,
      query: withSettingsClause(params.query, clause),
      clickhouse_settings: defaultFormat === undefined ? undefined : { default_format: defaultFormat },
    };
  };
  // Every operation from its call to its end, so a close can wait for those begun before it.
  const running = new Set<Promise<unknown>>();
  let closing = false;
  const tracked = <T>(operation: () => Promise<T>): Promise<T> => {
    if (closing) return Promise.reject(new Error('the embedded ClickHouse engine is closing'));
    const promise = operation();
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    running.add(settled);
    void settled.then(() => running.delete(settled));
    return promise;
  };
  // The statements go to chDB scoped (settings as a SETTINGS clause), after the database is made.
  type Statement = { query: string; clickhouse_settings?: unknown };
  const through = <K extends 'query' | 'exec' | 'command' | 'insert'>(method: K) => {
    const send = (inner[method] as unknown as (params: Statement) => Promise<unknown>).bind(inner);
    return ((params: Statement) =>
      tracked(async () => {
        await init();
        return send(scoped(params));
      })) as unknown as ClientConnection[K];
  };
  const connection: ClientConnection = {
    ...inner,
    query: through('query'),
    exec: through('exec'),
    command: through('command'),
    insert: through('insert'),
    ping: (params) => inner.ping(params),
    // chDB's close returns at once and tears the connection down once the queries and inserts still
    // running on it finish (there is no interrupt). Closed here means that has happened, for every
    // operation begun before the close: a process that exits while one runs dies in the engine's
    // teardown (SIGSEGV or abort at exit). Operations begun once it has started are refused (the
    // admin endpoint's queries may still be arriving), and it waits CLOSE_WAIT_MS at most: a query
    // that runs on past that is left to the engine (the process's own shutdown deadline comes next).
    close: async () => {
      closing = true;
      const deadline = performance.now() + CLOSE_WAIT_MS;
      await settledBefore(Promise.all(running), deadline);
      await inner.close();
      await settledBefore(drainPending(), deadline);
    },
  } as ClientConnection;
  return connection;
}
