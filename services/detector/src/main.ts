/** `node services/detector/dist/main.js` — runs the detector alone. */
import { ConfigError, redactConfig, secretPaths } from '@floodgate/config';
import { createLogger, startAdminServer } from '@floodgate/observability';
import { loadDetectorConfig } from './config.ts';
import { startDetector } from './detector.ts';

async function main(): Promise<void> {
  const config = loadDetectorConfig();
  const logger = createLogger({ service: 'detector', level: config.logging.level });
  logger.info({ config: redactConfig(config, secretPaths) }, 'starting');
  const handle = await startDetector(config, { logger });
  const admin = await startAdminServer(
    process.env['ADMIN_ADDRESS'] ?? '127.0.0.1:9465',
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
