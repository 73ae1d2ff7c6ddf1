export {
  type AdminRoute,
  type AdminServer,
  findRoute,
  type Readiness,
  startAdminServer,
} from './admin-server.ts';
export { type BatchClock, type BatchPhaseTimer, batchPhaseTimer } from './batch-phases.ts';
export { createLogger, type Logger, type LoggerConfig, redactPaths } from './logger.ts';
export { maskPhone } from './mask.ts';
export {
  Counter,
  consumerLagReporter,
  createRegistry,
  Gauge,
  Histogram,
  histogramTotals,
  type LagReport,
  Registry,
} from './metrics.ts';
export { type RunnableService, runServiceMain } from './run-service.ts';
