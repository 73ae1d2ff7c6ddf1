/**
 * The engine's output. A detection's id is a hash of (kind, key, window start): the same input
 * gives the same ids, so a replay or a restarted detector overwrites instead of duplicating.
 */
import { createHash } from 'node:crypto';
import type { DetectionKind, Severity } from './config.ts';

export const DETECTOR_VERSION = 'floodgate-detect/0.1.0';

export interface CountItem {
  value: string;
  count: number;
  /** Never seen for this account/key before the anomaly. */
  isNew?: boolean;
}

export interface TemplateEvidence {
  fingerprint: string;
  /** A masked sample: codes, amounts, link paths and emails never survive masking. */
  sample: string;
  count: number;
  isNew?: boolean;
}

export interface AuditEvidence {
  eventId: string;
  timeMs: number;
  action: string;
  actor: string;
  mfaUsed: boolean | null;
  sourceNetwork: string;
  newNetwork: boolean;
  targetApiKeyId: string;
}

export interface Evidence {
  reason: string;
  topTemplates: TemplateEvidence[];
  topCountries: CountItem[];
  topPrefixes: CountItem[];
  distinctRecipients: number;
  apiKeys: CountItem[];
  sourceIps: CountItem[];
  userAgents: CountItem[];
  linkDomains: CountItem[];
  auditEvents: AuditEvidence[];
  /** Estimated cost of the window's traffic from the configured price table, USD. */
  estimatedCostUsd: number;
  /** Messages sent from the anomaly's estimated start until this detection. */
  messagesBeforeDetection: number;
  anomalyStartMs: number;
  /** Signal-specific numbers (rates, shares, run lengths), for people and rules. */
  metrics: Record<string, number>;
  accountIds?: string[];
  detectorVersion: string;
}

export interface Detection {
  id: string;
  kind: DetectionKind;
  accountId: string;
  /** What the detection is about: 'account', 'api_key:<id>', 'country:<cc>', 'fingerprint:<hex>', ... */
  key: string;
  windowStartMs: number;
  windowEndMs: number;
  /** Event time of the event that triggered the detection. */
  detectedAtMs: number;
  observed: number;
  expected: number;
  score: number;
  severity: Severity;
  labels: Record<string, string>;
  evidence: Evidence;
}

/**
 * The id of a detection: a hash of its kind, account, key and window (start and length), so the
 * same detection replayed or re-emitted after a restart overwrites itself, and two windows of one
 * key that start together (a 1-minute and a 5-minute spike) stay two detections.
 */
export function detectionId(
  kind: DetectionKind,
  accountId: string,
  key: string,
  windowStartMs: number,
  windowMs: number,
): string {
  return createHash('sha256')
    .update(`${kind}\u0000${accountId}\u0000${key}\u0000${windowStartMs}\u0000${windowMs}`)
    .digest('hex')
    .slice(0, 32);
}
