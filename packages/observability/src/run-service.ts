/**
 * The thin `main.ts` of every service: load config (exit 2 with every problem when it is wrong),
 * log the effective config with secrets hidden, start the service and its admin endpoint, and stop
 * both on SIGTERM/SIGINT within 10 s.
 */
import type { Registry } from 'prom-client';
import { type AdminRoute, startAdminServer } from './admin-server.ts';
import { createLogger, type Logger } from './logger.ts';

export interface RunnableService<C> {
  service: string;
  defaultAdminAddress: string;
  loadConfig(): C;
  logLevel(config: C): string;
  redact(config: C): unknown;
  start(
    config: C,
    logger: Logger,
  ): Promise<{
    registry: Registry;
    ready(): { ready: boolean; reason: string };
    stop(): Promise<void>;
    /** Extra admin endpoints (e.g. the all-in-one runner's read-only /query). */
    adminRoutes?: Record<string, AdminRoute>;
    /** Called once the admin endpoint listens, with its URL. */
    onAdminUrl?(url: string): void;
  }>;
}

export function runServiceMain<C>(runnable: RunnableService<C>): void {
  const run = async (): Promise<void> => {
    const config = runnable.loadConfig();
    const logger = createLogger({ service: runnable.service, level: runnable.logLevel(config) as 'info' });
    logger.info({ config: runnable.redact(config) }, 'starting');
    const handle = await runnable.start(config, logger);
    const admin = await startAdminServer(
      process.env['ADMIN_ADDRESS'] ?? runnable.defaultAdminAddress,
      handle.registry,
      handle.ready,
      handle.adminRoutes,
    );
    handle.onAdminUrl?.(admin.url);
    logger.info({ admin: admin.url }, 'admin endpoint up');
    // Stop fetching, finish and flush the batch in hand, commit, checkpoint — or give up at 10 s.
    const shutdown = async (signal: string): Promise<void> => {
      const startedAt = Date.now();
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        logger.error({ signal }, 'shutdown took longer than 10 s; exiting anyway');
        process.exit(1);
      }, 10_000);
      let code = 0;
      try {
        await handle.stop();
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        code = 1;
      }
      await admin.close();
      clearTimeout(force);
      logger.info({ signal, tookMs: Date.now() - startedAt }, 'stopped');
      process.exit(code);
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  };
  run().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    const badConfig =
      typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'CONFIG_INVALID';
    process.exit(badConfig ? 2 : 1);
  });
}
