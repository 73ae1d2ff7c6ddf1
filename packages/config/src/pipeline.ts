/** Topic names and consumer settings shared by the pipeline services (all overridable by env). */
import { z } from 'zod';
import { intFromEnv } from './fields.ts';

export const topicsSchema = z
  .object({
    outbound: z.string().min(1).default('messages.outbound'),
    inbound: z.string().min(1).default('messages.inbound'),
    status: z.string().min(1).default('messages.status'),
    feedback: z.string().min(1).default('messages.feedback'),
    audit: z.string().min(1).default('accounts.audit'),
    deadLetter: z.string().min(1).default('messages.dlq'),
    normalized: z.string().min(1).default('traffic.normalized'),
    detections: z.string().min(1).default('detections'),
    /** Repartition topic of the cross-account stage, keyed by template fingerprint. */
    observations: z.string().min(1).default('fingerprints.observations'),
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
    initialBackoffMs: intFromEnv(10, 60_000).default(200),
    maxBackoffMs: intFromEnv(100, 600_000).default(15_000),
  })
  .prefault({});

export type TopicsConfig = z.infer<typeof topicsSchema>;
export type RetryConfig = z.infer<typeof retrySchema>;
