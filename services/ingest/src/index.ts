export {
  type IngestConfig,
  ingestConfigSchema,
  ingestEnv,
  ingestSecretPaths,
  loadIngestConfig,
} from './config.ts';
export { DEFAULT_FORWARD_RECORD_BYTES, forwardRecords } from './forward-records.ts';
export { type IngestDependencies, type IngestHandle, loadInventory, startIngest } from './ingest.ts';
export {
  apiKeyRow,
  type BodyStorage,
  RAW_COLUMNS,
  type RawRow,
  rawColumnsOf,
  rawRowOf,
} from './raw-rows.ts';
export { ingestService } from './service.ts';
