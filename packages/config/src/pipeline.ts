/** Topic names and consumer settings shared by the pipeline services (all overridable by env). */
import { z } from 'zod';
import { intFromEnv } from './fields.ts';

export const topicsSchema = z
  .object({
    outbound: z.string().min(1).default('messages.outbound').describe('outbound message events'),
    inbound: z.string().min(1).default('messages.inbound').describe('replies (STOP, HELP, …)'),
    status: z.string().min(1).default('messages.status').describe('delivery receipts'),
    feedback: z.string().min(1).default('messages.feedback').describe('conversion feedback'),
    audit: z
      .string()
      .min(1)
      .default('accounts.audit')
      .describe('account audit events (logins, MFA, API keys)'),
    deadLetter: z
      .string()
      .min(1)
      .default('messages.dlq')
      .describe('dead-letter topic: invalid events with their reasons'),
    normalized: z
      .string()
      .min(1)
      .default('traffic.normalized')
      .describe('internal: normalised events, ingest → detector (short retention)'),
    detections: z
      .string()
      .min(1)
      .default('detections')
      .describe('detections, detector → alerter and your tools'),
    /** Repartition topic of the cross-account stage, keyed by template fingerprint. */
    observations: z
      .string()
      .min(1)
      .default('fingerprints.observations')
      .describe('internal: template observations keyed by fingerprint (campaign stage)'),
  })
  .prefault({});

export const topicsEnv = {
  TOPIC_OUTBOUND: 'topics.outbound',
  TOPIC_INBOUND: 'topics.inbound',
  TOPIC_STATUS: 'topics.status',
  TOPIC_FEEDBACK: 'topics.feedback',
  TOPIC_AUDIT: 'topics.audit',
  TOPIC_DLQ: 'topics.deadLetter',
  TOPIC_NORMALIZED: 'topics.normalized',
  TOPIC_DETECTIONS: 'topics.detections',
  TOPIC_OBSERVATIONS: 'topics.observations',
} as const;

export const retrySchema = z
  .object({
    initialBackoffMs: intFromEnv(10, 60_000)
      .default(200)
      .describe('first retry delay while ClickHouse fails (ms; doubles, with jitter)'),
    maxBackoffMs: intFromEnv(100, 600_000).default(15_000).describe('cap of the retry delay (ms)'),
  })
  .prefault({});

export type TopicsConfig = z.infer<typeof topicsSchema>;
export type RetryConfig = z.infer<typeof retrySchema>;

/** Every topic with `<prefix>.` in front of its default name (tests and demos that share a broker). */
export function prefixedTopics(prefix: string): TopicsConfig {
  const defaults = topicsSchema.parse({});
  return Object.fromEntries(
    Object.entries(defaults).map(([key, name]) => [key, `${prefix}.${name}`]),
  ) as TopicsConfig;
}
