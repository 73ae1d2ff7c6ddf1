/** Typed errors of the Kafka adapter: a stable `code` for callers and logs, the cause kept. */
export const kafkaErrorCodes = [
  'KAFKA_POM_INVALID',
  'KAFKA_JARS_UNRESOLVED',
  'KAFKA_FORMAT_FAILED',
  'KAFKA_START_TIMEOUT',
  'KAFKA_EXITED',
  'KAFKA_NO_BROKER',
  'KAFKA_TOPIC_MISSING',
] as const;
export type KafkaErrorCode = (typeof kafkaErrorCodes)[number];

export class KafkaSetupError extends Error {
  readonly code: KafkaErrorCode;
  constructor(code: KafkaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaSetupError';
    this.code = code;
  }
}
