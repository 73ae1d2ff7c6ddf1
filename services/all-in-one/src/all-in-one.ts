/**
 * Ingest, detector and (when a rules file is configured) the alerter in one process, sharing one
 * ClickHouse client — what the embedded engine needs, since one process holds its data directory.
 * Each service keeps its own config section (the same environment variables as when run alone) and
 * its metrics live in one registry. With the embedded engine the runner also serves read-only SQL on
 * its admin endpoint (`POST /query`, bearer token) so `floodgate query` works while it holds the
 * engine; the token and URL are written to `<dataPath>/.floodgate-admin.json` (mode 0600). The same
 * token guards the writes the CLI sends while the service holds the engine: `POST /silences`,
 * `POST /silences/expire` and `POST /incidents/action` (acknowledge / resolve). With the alerter and
 * CONSOLE_TOKEN or CONSOLE_USERS set, the same address serves the incident console (@floodgate/console).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AlerterError,
  type AlerterHandle,
  type AlerterSetup,
  createSilence,
  expireSilence,
  incidentConsoleRoutes,
  recordIncidentAction,
  type SilenceInput,
  startAlerter,
} from '@floodgate/alerter';
import { type Clickhouse, runReadOnlyQuery, serviceClickhouse } from '@floodgate/clickhouse';
import { type DetectorConfig, startDetector } from '@floodgate/detector';
import { type IngestConfig, startIngest } from '@floodgate/ingest';
import {
  type AdminRoute,
  createLogger,
  createRegistry,
  type Logger,
  type Registry,
} from '@floodgate/observability';

/** Where a running all-in-one advertises its admin endpoint to CLI commands on the same data directory. */
export const ADMIN_FILE = '.floodgate-admin.json';

export interface AllInOneHandle {
  registry: Registry;
  /** The ClickHouse the services share (closed by stop). */
  clickhouse: Clickhouse;
  ready(): { ready: boolean; reason: string };
  stop(): Promise<void>;
  adminRoutes: Record<string, AdminRoute>;
  onAdminUrl(url: string): void;
  alerter?: AlerterHandle;
}

export async function startAllInOne(
  ingestConfig: IngestConfig,
  detectorConfig: DetectorConfig,
  logger?: Logger,
  alerter?: AlerterSetup,
): Promise<AllInOneHandle> {
  const log = logger ?? createLogger({ service: 'all-in-one', level: ingestConfig.logging.level });
  const { clickhouse } = await serviceClickhouse(ingestConfig.clickhouse, undefined, log);
  // One registry: process metrics once, each service's own metrics beside them.
  const registry = createRegistry('all-in-one');
  const ingest = await startIngest(ingestConfig, {
    clickhouse,
    registry,
    logger: log.child({ component: 'ingest' }),
  });
  const detector = await startDetector(detectorConfig, {
    clickhouse,
    registry,
    logger: log.child({ component: 'detector' }),
  });
  const alerterHandle = alerter
    ? await startAlerter(alerter.config, {
        clickhouse,
        registry,
        rules: alerter.rules,
        logger: log.child({ component: 'alerter' }),
      })
    : undefined;

  const token = randomBytes(24).toString('base64url');
  const adminFile =
    clickhouse.mode === 'embedded' ? join(ingestConfig.clickhouse.dataPath, ADMIN_FILE) : undefined;
  const authorized = (header: string | string[] | undefined): boolean => {
    const given = Buffer.from(String(header ?? '').replace(/^Bearer\s+/i, ''));
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const query: AdminRoute = async (request) => {
    if (request.method !== 'POST') return { status: 405, type: 'text/plain', body: 'POST only\n' };
    if (!authorized(request.headers['authorization']))
      return { status: 401, type: 'text/plain', body: 'missing or wrong bearer token\n' };
    let input: { sql?: unknown; params?: unknown; maxRows?: unknown };
    try {
      input = JSON.parse(request.body) as typeof input;
    } catch {
      return { status: 400, type: 'text/plain', body: 'expected a JSON body {sql, params}\n' };
    }
    if (typeof input.sql !== 'string' || input.sql.trim() === '')
      return { status: 400, type: 'text/plain', body: 'expected "sql" to be a non-empty string\n' };
    try {
      const result = await runReadOnlyQuery(
        clickhouse.client,
        input.sql,
        (input.params ?? {}) as Record<string, unknown>,
        typeof input.maxRows === 'number' ? input.maxRows : undefined,
      );
      return { status: 200, type: 'application/json', body: JSON.stringify(result) };
    } catch (error) {
      return { status: 422, type: 'text/plain', body: `${(error as Error).message}\n` };
    }
  };

  // Writes from the CLI: authenticated like /query, JSON in and out; the alerter (when this process
  // runs one) picks the change up at once instead of at its next refresh.
  const jsonWrite =
    (write: (input: Record<string, unknown>) => Promise<{ status: number; body: unknown }>): AdminRoute =>
    async (request) => {
      if (request.method !== 'POST') return { status: 405, type: 'text/plain', body: 'POST only\n' };
      if (!authorized(request.headers['authorization']))
        return { status: 401, type: 'text/plain', body: 'missing or wrong bearer token\n' };
      let input: unknown;
      try {
        input = JSON.parse(request.body);
      } catch {
        return { status: 400, type: 'text/plain', body: 'expected a JSON object\n' };
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input))
        return { status: 400, type: 'text/plain', body: 'expected a JSON object\n' };
      try {
        const answer = await write(input as Record<string, unknown>);
        return { status: answer.status, type: 'application/json', body: JSON.stringify(answer.body) };
      } catch (error) {
        if (error instanceof AlerterError) {
          const status =
            error.code === 'ALERT_INCIDENT_NOT_FOUND'
              ? 404
              : error.code === 'ALERT_INCIDENT_RESOLVED'
                ? 409
                : 400;
          return { status, type: 'text/plain', body: `${error.message}\n` };
        }
        throw error;
      }
    };
  const refreshAlerter = async (what: 'silences' | 'actions'): Promise<void> => {
    if (!alerterHandle) return;
    try {
      await (what === 'silences' ? alerterHandle.refreshSilences() : alerterHandle.refreshActions());
    } catch (error) {
      log.warn(
        { err: error, what },
        'alerter refresh after an admin write failed; it catches up at its next refresh',
      );
    }
  };
  const silences = jsonWrite(async (input) => {
    const silence = await createSilence(clickhouse, input as unknown as SilenceInput);
    await refreshAlerter('silences');
    return { status: 201, body: silence };
  });
  const expire = jsonWrite(async (input) => {
    if (typeof input['id'] !== 'string' || input['id'] === '')
      return { status: 400, body: { error: 'expected "id" to be a silence id' } };
    const expired = await expireSilence(clickhouse, input['id']);
    if (expired) await refreshAlerter('silences');
    return expired
      ? { status: 200, body: { id: input['id'], expired: true } }
      : { status: 404, body: { error: `no silence with id ${input['id']}` } };
  });
  const incidentAction = jsonWrite(async (input) => {
    const action = await recordIncidentAction(clickhouse, {
      incidentId: String(input['incidentId'] ?? ''),
      action: input['action'] as 'ack',
      actor: String(input['actor'] ?? ''),
      note: typeof input['note'] === 'string' ? input['note'] : '',
    });
    await refreshAlerter('actions');
    return { status: 201, body: action };
  });

  return {
    registry,
    clickhouse,
    ...(alerterHandle ? { alerter: alerterHandle } : {}),
    adminRoutes: {
      // The incident console (when the alerter runs here and CONSOLE_TOKEN/CONSOLE_USERS is set).
      ...(alerter
        ? incidentConsoleRoutes(
            alerter.config,
            clickhouse,
            alerterHandle,
            registry,
            log.child({ component: 'alerter' }),
          )
        : {}),
      '/query': query,
      '/silences': silences,
      '/silences/expire': expire,
      '/incidents/action': incidentAction,
    },
    onAdminUrl: (url) => {
      if (adminFile)
        writeFileSync(adminFile, JSON.stringify({ url, token, pid: process.pid }), { mode: 0o600 });
    },
    ready: () => {
      const states = [ingest.ready(), detector.ready(), ...(alerterHandle ? [alerterHandle.ready()] : [])];
      const notReady = states.find((s) => !s.ready);
      return notReady ?? { ready: true, reason: 'ready' };
    },
    stop: async () => {
      if (adminFile) rmSync(adminFile, { force: true });
      // All at once: each drains its own consumers; the shutdown budget is 10 s for the process.
      await Promise.all([ingest.stop(), detector.stop(), alerterHandle?.stop()]);
      await clickhouse.close();
    },
  };
}
