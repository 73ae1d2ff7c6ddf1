/** `node services/ingest/dist/main.js` — runs ingest alone (a ClickHouse server, or it owns the embedded engine). */
import { redactConfig } from '@floodgate/config';
import { runServiceMain } from '@floodgate/observability';
import { ingestSecretPaths, loadIngestConfig } from './config.ts';
import { startIngest } from './ingest.ts';

runServiceMain({
  service: 'ingest',
  defaultAdminAddress: '127.0.0.1:9464',
  loadConfig: () => loadIngestConfig(),
  logLevel: (config) => config.logging.level,
  redact: (config) => redactConfig(config, ingestSecretPaths),
  start: (config, logger) => startIngest(config, { logger }),
});
