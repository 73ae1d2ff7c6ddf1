export { deleteOldest, LruMap } from './bounded-map.ts';
export {
  type DetectConfig,
  type DetectConfigInput,
  type DetectionKind,
  detectConfigSchema,
  detectionKinds,
  parseDetectConfig,
  type Severity,
  severities,
} from './config.ts';
export * from './content/index.ts';
export { type CrossAccountSnapshot, CrossAccountStage } from './cross-account.ts';
export {
  type AuditEvidence,
  type CountItem,
  DETECTOR_VERSION,
  type Detection,
  detectionId,
  type Evidence,
  type TemplateEvidence,
} from './detection.ts';
export {
  DetectionEngine,
  type EngineOptions,
  type EngineStats,
  type FingerprintObservation,
} from './engine/engine.ts';
export type { EngineSnapshot } from './engine/snapshot.ts';
export {
  type ForwardedRecord,
  forwardedBatchValue,
  forwardedValue,
  parseForwardedRecords,
} from './forwarded.ts';
export { type NormalizeOptions, networkOf, normalizeEvent, recipientKeyOf } from './normalize.ts';
export type * from './normalized-event.ts';
export { sampleErrorCodeCategories, samplePricePerSegmentUsd } from './sample-tables.ts';
