export type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
export { type Clickhouse, type ClickhouseMode, createClickhouse, safeUrl } from './client-factory.ts';
export { ClickhouseAdapterError, type ClickhouseErrorCode } from './errors.ts';
export { InsertCoalescer, type InsertCoalescerOptions } from './insert-coalescer.ts';
export {
  defaultMigrationsDir,
  type MigrateOptions,
  migrate,
  migrationReport,
  serviceClickhouse,
  warnRetention,
} from './migrate.ts';
export {
  alignRetention,
  loadMigrations,
  type Migration,
  type MigrationResult,
  type RetentionStatus,
  runMigrations,
  splitStatements,
  tableTtls,
  ttlDays,
} from './migrations.ts';
export {
  type CookbookQuery,
  defaultQueriesDir,
  loadCookbook,
  parseCookbookQuery,
  type QueryParameter,
  readOnlySettings,
  runCookbookQuery,
  runReadOnlyQuery,
} from './queries.ts';
export {
  httpOnlySettings,
  settingsClause,
  splitEngineSettings,
  withSettingsClause,
} from './query-settings.ts';
export {
  dateTimeParam,
  defaultMinNetworks,
  type SecurityReportOptions,
  type SecurityReportSection,
  type SecurityReportStep,
  securityReport,
  securityReportPlan,
  securityReportSections,
} from './security-report.ts';
export { isolateStdinFromEngine, type StdinIsolation } from './stdin-guard.ts';
export {
  type StoreRequestOutcome,
  type StoreServer,
  type StoreServerOptions,
  startStoreServer,
} from './store-server.ts';
