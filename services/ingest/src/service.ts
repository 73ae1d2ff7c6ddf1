/** Ingest as a runnable service: what `main.ts` and `floodgate run ingest` start. */
import { redactConfig } from '@floodgate/config';
import type { RunnableService } from '@floodgate/observability';
import { type IngestConfig, ingestSecretPaths, loadIngestConfig } from './config.ts';
import { startIngest } from './ingest.ts';

export const ingestService: RunnableService<IngestConfig> = {
  service: 'ingest',
  defaultAdminAddress: '127.0.0.1:9464',
  loadConfig: () => loadIngestConfig(),
  logLevel: (config) => config.logging.level,
  redact: (config) => redactConfig(config, ingestSecretPaths),
  start: (config, logger) => startIngest(config, { logger }),
};
