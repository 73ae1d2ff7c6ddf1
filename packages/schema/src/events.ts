/**
 * The v1 events producers put on Kafka. Every event carries a literal `type` and `schemaVersion`, so a
 * mixed stream (a replay file, a DLQ re-drive) parses through one discriminated union.
 */
import { z } from 'zod';
import {
  countryCode,
  e164,
  eventTime,
  identifier,
  ipAddress,
  messageBody,
  metadata,
  schemaVersion,
  senderAddress,
  userAgent,
} from './common.ts';
import { limits } from './limits.ts';

export const channels = ['sms', 'mms', 'rcs', 'whatsapp', 'other'] as const;
export const deliveryStatuses = ['queued', 'sent', 'delivered', 'undelivered', 'failed', 'filtered'] as const;
export const auditActions = [
  'login',
  'login_failed',
  'logout',
  'mfa_enrolled',
  'mfa_disabled',
  'password_changed',
  'password_reset',
  'api_key_created',
  'api_key_revoked',
  'api_key_scope_changed',
  'webhook_changed',
  'user_added',
  'user_removed',
  'role_changed',
  'other',
] as const;

const base = {
  schemaVersion,
  eventId: identifier.describe('Unique id of this event; producer retries reuse it (deduplication key).'),
  eventTime,
  accountId: identifier.describe('The sending account (tenant) the event belongs to.'),
};

export const outboundMessageSchema = z
  .object({
    type: z.literal('message.outbound'),
    ...base,
    subAccountId: identifier.optional(),
    campaignId: identifier.optional(),
    apiKeyId: identifier.describe('The API key (credential) that submitted the message.'),
    sourceIp: ipAddress.optional().describe('Address the API request came from.'),
    userAgent: userAgent.optional(),
    from: senderAddress,
    to: e164,
    channel: z.enum(channels).default('sms'),
    body: messageBody
      .optional()
      .describe(
        `Message text, at most ${limits.maxBodyBytes.toLocaleString('en-US')} bytes of UTF-8; optional when the sender shares only a hash.`,
      ),
    bodyHash: z
      .string()
      .regex(/^[0-9a-f]{16,128}$/, 'lower-case hex digest')
      .optional(),
    segments: z.number().int().min(1).max(255).optional(),
    metadata: metadata.optional(),
  })
  .strict();

export const inboundMessageSchema = z
  .object({
    type: z.literal('message.inbound'),
    ...base,
    from: e164.describe('The recipient who replied.'),
    to: senderAddress.describe("The sender's number the reply went to."),
    body: messageBody,
    providerOptOut: z
      .boolean()
      .optional()
      .describe('The provider already classified this reply as an opt-out.'),
    inReplyToMessageId: identifier.optional(),
  })
  .strict();

export const deliveryStatusSchema = z
  .object({
    type: z.literal('message.status'),
    ...base,
    messageId: identifier.describe('eventId of the outbound message this status is for.'),
    status: z.enum(deliveryStatuses),
    errorCode: z.string().max(32).optional(),
    carrier: z.string().max(128).optional(),
    to: e164
      .optional()
      .describe('Recipient, when the provider repeats it (lets the detector attribute by country).'),
  })
  .strict();

export const conversionFeedbackSchema = z
  .object({
    type: z.literal('message.feedback'),
    ...base,
    messageId: identifier,
    converted: z.boolean().describe('The recipient completed the action (OTP entered, link followed).'),
    to: e164.optional(),
  })
  .strict();

export const accountAuditSchema = z
  .object({
    type: z.literal('account.audit'),
    ...base,
    actor: z.string().min(1).max(256).describe('User or system that performed the action.'),
    action: z.enum(auditActions),
    mfaUsed: z.boolean().optional(),
    sourceIp: ipAddress.optional(),
    userAgent: userAgent.optional(),
    targetApiKeyId: identifier.optional(),
  })
  .strict();

export const eventSchema = z.discriminatedUnion('type', [
  outboundMessageSchema,
  inboundMessageSchema,
  deliveryStatusSchema,
  conversionFeedbackSchema,
  accountAuditSchema,
]);

/** One entry of the API key inventory a sender maintains (a file or table, not a Kafka event). */
export const apiKeyInventoryEntrySchema = z
  .object({
    keyId: identifier,
    accountId: identifier,
    owner: z.string().min(1).max(256),
    thirdParty: z.string().min(1).max(256).optional().describe('Set when the key was shared with a partner.'),
    allowedNetworks: z
      .array(z.union([z.cidrv4(), z.cidrv6()]))
      .max(256)
      .default([]),
    allowedCountries: z.array(countryCode).max(300).default([]),
    createdAt: eventTime,
  })
  .strict();

export const apiKeyInventorySchema = z.array(apiKeyInventoryEntrySchema);

export type OutboundMessage = z.infer<typeof outboundMessageSchema>;
export type InboundMessage = z.infer<typeof inboundMessageSchema>;
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;
export type ConversionFeedback = z.infer<typeof conversionFeedbackSchema>;
export type AccountAudit = z.infer<typeof accountAuditSchema>;
export type FloodgateEvent = z.infer<typeof eventSchema>;
export type FloodgateEventInput = z.input<typeof eventSchema>;
export type EventType = FloodgateEvent['type'];
export type ApiKeyInventoryEntry = z.infer<typeof apiKeyInventoryEntrySchema>;
export type DeliveryStatusValue = (typeof deliveryStatuses)[number];
export type AuditAction = (typeof auditActions)[number];
export type Channel = (typeof channels)[number];

export const eventTypes = [
  'message.outbound',
  'message.inbound',
  'message.status',
  'message.feedback',
  'account.audit',
] as const satisfies readonly EventType[];
