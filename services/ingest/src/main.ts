/** `node services/ingest/dist/main.js` — runs ingest alone (needs a ClickHouse server, or owns the embedded engine). */
import { ConfigError, redactConfig } from '@floodgate/config';
import { createLogger, startAdminServer } from '@floodgate/observability';
import { ingestSecretPaths, loadIngestConfig } from './config.ts';
import { startIngest } from './ingest.ts';

async function main(): Promise<void> {
  const config = loadIngestConfig();
  const logger = createLogger({ service: 'ingest', level: config.logging.level });
  logger.info({ config: redactConfig(config, ingestSecretPaths) }, 'starting');
  const handle = await startIngest(config, { logger });
  const admin = await startAdminServer(
    process.env['ADMIN_ADDRESS'] ?? '127.0.0.1:9464',
    handle.registry,
    handle.ready,
  );
  logger.info({ admin: admin.url }, 'admin endpoint up');
  const shutdown = async (): Promise<void> => {
    const force = setTimeout(() => process.exit(1), 10_000);
    await handle.stop();
    await admin.close();
    clearTimeout(force);
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
