/** The store as a runnable service: what `main.ts` and `floodgate run store` start. */
import { redactConfig, secretPaths } from '@floodgate/config';
import type { RunnableService } from '@floodgate/observability';
import { loadStoreConfig, type StoreConfig } from './config.ts';
import { startStore } from './store.ts';

export const storeService: RunnableService<StoreConfig> = {
  service: 'store',
  defaultAdminAddress: '127.0.0.1:9467',
  loadConfig: () => loadStoreConfig(),
  logLevel: (config) => config.logging.level,
  redact: (config) => redactConfig(config, secretPaths),
  start: (config, logger) => startStore(config, { logger }),
};
