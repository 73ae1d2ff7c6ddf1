/** `node services/detector/dist/main.js` — runs the detector alone. */
import { redactConfig, secretPaths } from '@floodgate/config';
import { runServiceMain } from '@floodgate/observability';
import { loadDetectorConfig } from './config.ts';
import { startDetector } from './detector.ts';

runServiceMain({
  service: 'detector',
  defaultAdminAddress: '127.0.0.1:9465',
  loadConfig: () => loadDetectorConfig(),
  logLevel: (config) => config.logging.level,
  redact: (config) => redactConfig(config, secretPaths),
  start: (config, logger) => startDetector(config, { logger }),
});
