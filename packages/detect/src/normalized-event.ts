/**
 * What the engine consumes: events normalised once at ingest (phone → country/prefix/number type,
 * body → template/fingerprint/link domains, recipients → keyed hash). This is also the value of the
 * internal `traffic.normalized` topic, so it carries only what detection needs: no clear-text
 * recipient number beyond its digits' numeric value (for sequential-run detection) and no raw body.
 */
import type { AuditAction, DeliveryStatusValue } from '@floodgate/schema';

export type ReplyClassification = 'opt_out' | 'opt_in' | 'help' | 'other';
export type ErrorCategory =
  | 'unreachable'
  | 'invalid_number'
  | 'carrier_filtered'
  | 'rate_limited'
  | 'unknown'
  | '';

export interface NormalizedOutbound {
  kind: 'outbound';
  eventId: string;
  timeMs: number;
  accountId: string;
  apiKeyId: string;
  sourceIp: string;
  /** /24 for IPv4, /48 for IPv6: "the same network" for novelty. */
  sourceNetwork: string;
  userAgent: string;
  /** Keyed HMAC of the recipient (hex). */
  recipientKey: string;
  /** E.164 digits as a number, for sequential-run detection only. */
  recipientNumeric: number;
  country: string;
  prefix: string;
  numberType: string;
  /** 16 hex chars of the 64-bit SimHash of the template ('' when the body is absent). */
  fingerprint: string;
  template: string;
  maskedBody: string;
  linkDomains: string[];
  segments: number;
  campaignId: string;
}

export interface NormalizedInbound {
  kind: 'inbound';
  eventId: string;
  timeMs: number;
  accountId: string;
  /** Keyed HMAC of the recipient who replied (same key space as outbound recipientKey). */
  recipientKey: string;
  country: string;
  classification: ReplyClassification;
}

export interface NormalizedStatus {
  kind: 'status';
  eventId: string;
  timeMs: number;
  accountId: string;
  messageId: string;
  status: DeliveryStatusValue;
  errorCode: string;
  errorCategory: ErrorCategory;
  country: string;
}

export interface NormalizedFeedback {
  kind: 'feedback';
  eventId: string;
  timeMs: number;
  accountId: string;
  messageId: string;
  converted: boolean;
  country: string;
}

export interface NormalizedAudit {
  kind: 'audit';
  eventId: string;
  timeMs: number;
  accountId: string;
  actor: string;
  action: AuditAction;
  mfaUsed: boolean | null;
  sourceIp: string;
  sourceNetwork: string;
  userAgent: string;
  targetApiKeyId: string;
}

export type NormalizedEvent =
  | NormalizedOutbound
  | NormalizedInbound
  | NormalizedStatus
  | NormalizedFeedback
  | NormalizedAudit;
