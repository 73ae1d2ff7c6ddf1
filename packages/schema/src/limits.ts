/** Size limits that are part of the event contract: producers learn them from the JSON Schemas too. */
export const limits = {
  /** Largest Kafka record value Floodgate will try to parse; larger ones are dead-lettered unparsed. */
  maxEventBytes: 256 * 1024,
  maxBodyBytes: 64 * 1024,
  maxMetadataKeys: 32,
  maxMetadataKeyLength: 64,
  maxMetadataValueLength: 1024,
  maxIdLength: 128,
  maxUserAgentLength: 512,
} as const;
