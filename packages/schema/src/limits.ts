/**
 * Size limits that are part of the event contract. The JSON Schemas carry them too (lengths,
 * maxProperties; the body's byte limit in its description); the whole event's limit, which JSON
 * Schema cannot state, is in the README's event contract.
 */
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
