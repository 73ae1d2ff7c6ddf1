export {
  isReplayedCopy,
  type StageLogic,
  type StageOptions,
  startCheckpointedStage,
} from './checkpointed-stage.ts';
export { type DetectorConfig, detectorConfigSchema, detectorEnv, loadDetectorConfig } from './config.ts';
export { detectionRow } from './detection-rows.ts';
export { type DetectorDependencies, type DetectorHandle, startDetector } from './detector.ts';
export { detectorService } from './service.ts';
