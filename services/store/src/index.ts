export { loadStoreConfig, type StoreConfig, storeConfigSchema, storeEnv } from './config.ts';
export { storeService } from './service.ts';
export { type StoreHandle, startStore } from './store.ts';
