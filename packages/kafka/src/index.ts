export type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
export { backoffDelayMs, sleep } from './backoff.ts';
export { createKafka, type KafkaLogSink } from './client-factory.ts';
export {
  type LagSample,
  type LagTracker,
  type LagTrackerOptions,
  partitionLag,
  startLagTracker,
} from './consumer-lag.ts';
export {
  DeferredCommits,
  type DeferredCommitsOptions,
  type TopicPartitionOffset,
} from './deferred-commits.ts';
export { type KafkaErrorCode, KafkaSetupError } from './errors.ts';
export {
  DEFAULT_MAX_BYTES_PER_REQUEST,
  DEFAULT_MAX_RECORDS_PER_REQUEST,
  type GroupedSends,
  groupedSends,
} from './grouped-sends.ts';
export {
  ensureKafkaJars,
  freePort,
  type LocalBroker,
  type LocalBrokerOptions,
  startLocalBroker,
} from './local-broker.ts';
export { murmur2, partitionOfKey } from './murmur2.ts';
export {
  createRecordSender,
  type KeyedRecord,
  type RecordSender,
  UnknownPartitionError,
} from './record-sender.ts';
export { restartingConsumerRetry, retrySink, type SinkRetryOptions } from './sink-retry.ts';
export { ensureTopics, type TopicSpec, topicPartitionCount } from './topics.ts';
