/** The detector as a runnable service: what `main.ts` and `floodgate run detector` start. */
import { redactConfig, secretPaths } from '@floodgate/config';
import type { RunnableService } from '@floodgate/observability';
import { type DetectorConfig, loadDetectorConfig } from './config.ts';
import { startDetector } from './detector.ts';

export const detectorService: RunnableService<DetectorConfig> = {
  service: 'detector',
  defaultAdminAddress: '127.0.0.1:9465',
  loadConfig: () => loadDetectorConfig(),
  logLevel: (config) => config.logging.level,
  redact: (config) => redactConfig(config, secretPaths),
  start: (config, logger) => startDetector(config, { logger }),
};
