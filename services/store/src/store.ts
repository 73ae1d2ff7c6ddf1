/**
 * The store: the embedded engine on one data directory, served over ClickHouse's HTTP interface so
 * the other services run as processes of their own (each with `CLICKHOUSE_URL` pointing here) and
 * analysts' ClickHouse tools can query it. Requests are logged by statement keyword and outcome,
 * never by their SQL or data (statements carry message bodies and phone numbers).
 */
import { createClickhouse, type StoreRequestOutcome, startStoreServer } from '@floodgate/clickhouse';
import { Counter, createRegistry, Histogram, type Logger, type Registry } from '@floodgate/observability';
import type { StoreConfig } from './config.ts';

export interface StoreHandle {
  registry: Registry;
  /** The interface's URL, e.g. http://127.0.0.1:8123 (the port chosen when `listen` asks for 0). */
  url: string;
  ready(): { ready: boolean; reason: string };
  stop(): Promise<void>;
}

export async function startStore(config: StoreConfig, deps: { logger: Logger }): Promise<StoreHandle> {
  const { logger } = deps;
  const registry = createRegistry('store');
  const requests = new Counter({
    name: 'floodgate_store_requests_total',
    help: 'Requests to the store by statement keyword and HTTP status',
    labelNames: ['statement', 'status'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'floodgate_store_request_seconds',
    help: 'Time from a request to its response, by statement keyword',
    labelNames: ['statement'],
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60],
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'floodgate_store_bytes_total',
    help: 'Request and response body bytes',
    labelNames: ['direction'],
    registers: [registry],
  });

  const clickhouse = await createClickhouse({ ...config.clickhouse, url: undefined });
  // The engine's version for error texts, as a server's.
  const version = await clickhouse.client
    .query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
    .then((r) => r.json<{ v: string }>())
    .then((rows) => rows[0]?.v ?? 'embedded');
  const separator = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(config.listen.slice(separator + 1));
  const onRequest = (outcome: StoreRequestOutcome): void => {
    requests.inc({ statement: outcome.statement, status: String(outcome.status) });
    seconds.observe({ statement: outcome.statement }, outcome.seconds);
    bytes.inc({ direction: 'in' }, outcome.requestBytes);
    bytes.inc({ direction: 'out' }, outcome.responseBytes);
    if (outcome.status >= 500)
      logger.warn(
        { status: outcome.status, code: outcome.errorCode, error: outcome.errorName },
        'statement failed',
      );
    else if (outcome.status >= 400)
      logger.info(
        { status: outcome.status, code: outcome.errorCode, error: outcome.errorName },
        'request refused',
      );
    else logger.debug({ statement: outcome.statement, seconds: outcome.seconds }, 'statement done');
  };
  const server = await startStoreServer({
    client: clickhouse.client,
    database: clickhouse.database,
    host,
    port,
    user: config.clickhouse.user,
    password: config.clickhouse.password,
    maxBodyBytes: config.maxBodyMiB * 2 ** 20,
    version,
    onRequest,
  });
  logger.info(
    { url: server.url, dataPath: config.clickhouse.dataPath, database: clickhouse.database, engine: version },
    'store serving the embedded engine',
  );
  let stopped = false;
  return {
    registry,
    url: server.url,
    ready: () => (stopped ? { ready: false, reason: 'stopping' } : { ready: true, reason: 'serving' }),
    stop: async () => {
      stopped = true;
      // Requests in flight get 5 s (within the service's 10 s shutdown); the engine closes regardless.
      try {
        await server.close(5_000);
      } finally {
        await clickhouse.close();
      }
    },
  };
}
