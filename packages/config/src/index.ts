export {
  type ClickhouseConnectionConfig,
  clickhouseConnectionSchema,
  connectionEnv,
  type KafkaConnectionConfig,
  kafkaConnectionSchema,
  type LoggingConfig,
  loggingSchema,
  secretPaths,
} from './connections.ts';
export { ConfigError, type ConfigProblem } from './errors.ts';
export { booleanFromEnv, hostPort, intFromEnv, listFromEnv } from './fields.ts';
export { type EnvMap, type LoadOptions, loadConfig, redactConfig } from './load.ts';
export {
  prefixedTopics,
  type RetryConfig,
  retrySchema,
  type TopicsConfig,
  topicsEnv,
  topicsSchema,
} from './pipeline.ts';
export { configReference, type ReferenceSection, undocumentedVariables } from './reference.ts';
