/**
 * An incident: one group (by default one account) of one rule, from its first match until it
 * resolves. Plain data, so it is stored as JSON in ClickHouse and restored as it was.
 */
import { createHash } from 'node:crypto';
import type { AlertSeverity } from '../rules/schema.ts';

export type IncidentState = 'pending' | 'firing' | 'resolved';
export type NotificationAction = 'trigger' | 'update' | 'resolve' | 'contain' | 'lift';
export type NotificationStatus = 'pending' | 'delivered' | 'failed' | 'silenced' | 'shadow';

export interface CountEvidence {
  value: string;
  count: number;
  isNew?: boolean;
}

/** What an engineer needs to judge the incident; nothing here is secret or personal (masked upstream). */
export interface IncidentEvidence {
  reason: string;
  topTemplates: { sample: string; count: number; isNew?: boolean }[];
  topCountries: CountEvidence[];
  apiKeys: CountEvidence[];
  linkDomains: CountEvidence[];
  counts: Record<string, number>;
  /** Columns of a SQL rule's row. */
  values: Record<string, string | number>;
}

export interface ContainmentState {
  action: string;
  mode: 'dry-run' | 'enforce';
  receiver: string;
  /** Active = applied and not lifted. */
  active: boolean;
  appliedAtMs: number;
  expiresAtMs: number;
  renewals: number;
}

export interface Incident {
  id: string;
  rule: string;
  ruleType: 'detection' | 'sql';
  groupKey: string;
  /** The group_by labels (and alertname): the incident's identity, stable for its whole life. */
  groupLabels: Record<string, string>;
  /** Labels every instance so far shares (silences match these). */
  labels: Record<string, string>;
  state: IncidentState;
  severity: AlertSeverity;
  mode: 'live' | 'shadow';
  summary: string;
  openedAtMs: number;
  firedAtMs: number | null;
  lastMatchAtMs: number;
  resolvedAtMs: number | null;
  /** Id of the silence that mutes it now ('' when none). */
  silencedBy: string;
  /** SQL rules: the last evaluation did not return this instance. */
  absent: boolean;
  detections: number;
  /** Most recent detection ids: a re-delivered detection is recognised and ignored. */
  recentDetectionIds: string[];
  kinds: string[];
  evidence: IncidentEvidence;
  /** Receivers that were sent (or, in shadow mode, would have been sent) the trigger. */
  notified: string[];
  lastNotifiedAtMs: number;
  /** Sequence of notifications created for this incident; part of their deterministic ids. */
  notificationSeq: number;
  containment: ContainmentState | null;
  /** Who acknowledged it ('' when nobody has, or the acknowledgement ended). */
  acknowledgedBy: string;
  acknowledgedAtMs: number | null;
  acknowledgedNote: string;
  /** Who resolved it by hand ('' when it resolved by itself). */
  resolvedBy: string;
  /** Ids of the people's actions (alert_actions) already applied: each is applied once, across restarts. */
  appliedActionIds: string[];
}

/** An action a person took on an incident (`floodgate incidents ack|resolve`), as stored in alert_actions. */
export type IncidentActionKind = 'ack' | 'unack' | 'resolve';

export interface IncidentAction {
  id: string;
  incidentId: string;
  action: IncidentActionKind;
  actor: string;
  note: string;
  atMs: number;
}

export interface NotificationRecord {
  id: string;
  incidentId: string;
  rule: string;
  receiver: string;
  receiverType: string;
  action: NotificationAction;
  status: NotificationStatus;
  attempts: number;
  reason: string;
  /** The body as it will be sent, without secrets (routing keys and signatures are added at delivery). */
  payload: string;
  createdAtMs: number;
  deliveredAtMs: number | null;
}

export interface Transition {
  incidentId: string;
  atMs: number;
  rule: string;
  accountId: string;
  from: IncidentState | 'none';
  to:
    | IncidentState
    | 'silenced'
    | 'unsilenced'
    | 'escalated'
    | 'contained'
    | 'lifted'
    | 'acknowledged'
    | 'unacknowledged';
  reason: string;
  /** The person behind the change ('' when the alerter decided it). */
  actor?: string;
}

export function hashId(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** Fills the fields added after an incident was stored (older versions of the JSON lack them). */
export function withDefaults(incident: Incident): Incident {
  incident.acknowledgedBy ??= '';
  incident.acknowledgedAtMs ??= null;
  incident.acknowledgedNote ??= '';
  incident.resolvedBy ??= '';
  incident.appliedActionIds ??= [];
  return incident;
}

export function emptyEvidence(): IncidentEvidence {
  return {
    reason: '',
    topTemplates: [],
    topCountries: [],
    apiKeys: [],
    linkDomains: [],
    counts: {},
    values: {},
  };
}
