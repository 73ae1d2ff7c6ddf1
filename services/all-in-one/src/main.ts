/** `node services/all-in-one/dist/main.js` — ingest and detector in one process (embedded ClickHouse by default). */
import { redactConfig } from '@floodgate/config';
import { loadDetectorConfig } from '@floodgate/detector';
import { ingestSecretPaths, loadIngestConfig } from '@floodgate/ingest';
import { runServiceMain } from '@floodgate/observability';
import { startAllInOne } from './all-in-one.ts';

runServiceMain({
  service: 'all-in-one',
  defaultAdminAddress: '127.0.0.1:9464',
  loadConfig: () => ({ ingest: loadIngestConfig(), detector: loadDetectorConfig() }),
  logLevel: (config) => config.ingest.logging.level,
  redact: (config) => redactConfig(config.ingest, ingestSecretPaths),
  start: (config, logger) => startAllInOne(config.ingest, config.detector, logger),
});
