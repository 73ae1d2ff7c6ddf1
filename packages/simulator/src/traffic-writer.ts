/**
 * Turns decisions into schema events: an outbound message and everything it causes later (status
 * callbacks, OTP feedback, replies and opt-outs), and console audit events. Ids are
 * `${prefix}_${seed}_${counter}` in generation order, so the same run always yields the same ids.
 */
import type {
  AccountAudit,
  AuditAction,
  Channel,
  ConversionFeedback,
  DeliveryStatus,
  InboundMessage,
  OutboundMessage,
} from '@floodgate/schema';
import type { AccountRuntime } from './account-runtime.ts';
import type { Language } from './countries.ts';
import { bodyDigest, hashString } from './hash.ts';
import { drawFinalStatus, errorCodeFor, type MessageFate, optedOutRecipientCode } from './message-fate.ts';
import type { MessagePurpose } from './message-template.ts';
import type { MinuteQueue } from './minute-queue.ts';
import type { Prng } from './prng.ts';
import {
  confirmationReply,
  everydayReply,
  isKeywordOptOut,
  optOutReply,
  suspiciousReply,
} from './reply-texts.ts';
import { segmentCount } from './segments.ts';

const secondMs = 1000;
const minuteMs = 60_000;

/** One outbound message to write. Callers reuse one instance (fields are overwritten per message). */
export interface OutboundSpec {
  account: AccountRuntime;
  timeMs: number;
  apiKeyId: string;
  sourceIp: string;
  userAgent: string;
  from: string;
  replyAddress: string;
  to: string;
  carriers: readonly string[];
  language: Language;
  channel: Channel;
  body: string;
  purpose: MessagePurpose;
  campaignId: string | undefined;
  /** Whether the sending client attaches the account's metadata (attack scripts do not). */
  withMetadata: boolean;
  fate: MessageFate;
}

export function emptyOutboundSpec(account: AccountRuntime, messageFate: MessageFate): OutboundSpec {
  return {
    account,
    timeMs: 0,
    apiKeyId: '',
    sourceIp: '',
    userAgent: '',
    from: '',
    replyAddress: '',
    to: '',
    carriers: [],
    language: 'en',
    channel: 'sms',
    body: '',
    purpose: 'transactional',
    campaignId: undefined,
    withMetadata: false,
    fate: messageFate,
  };
}

export interface AuditSpec {
  readonly account: AccountRuntime;
  readonly timeMs: number;
  readonly actor: string;
  readonly action: AuditAction;
  readonly mfaUsed?: boolean;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly targetApiKeyId?: string;
}

/** What happened to the last written message, for callers that react (OTP resends). */
export interface SendOutcome {
  messageId: string;
  delivered: boolean;
  converted: boolean;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

export class TrafficWriter {
  readonly #queue: MinuteQueue;
  readonly #idPrefix: string;
  #counter = 0;
  readonly lastOutcome: SendOutcome = { messageId: '', delivered: false, converted: false };

  constructor(seed: number, queue: MinuteQueue) {
    this.#queue = queue;
    this.#idPrefix = `_${seed}_`;
  }

  nextId(prefix: string): string {
    return prefix + this.#idPrefix + this.#counter++;
  }

  audit(spec: AuditSpec): void {
    const event: AccountAudit = {
      type: 'account.audit',
      schemaVersion: 1,
      eventId: this.nextId('aud'),
      eventTime: Math.round(spec.timeMs),
      accountId: spec.account.profile.accountId,
      actor: spec.actor,
      action: spec.action,
    };
    if (spec.mfaUsed !== undefined) event.mfaUsed = spec.mfaUsed;
    if (spec.sourceIp !== undefined) event.sourceIp = spec.sourceIp;
    if (spec.userAgent !== undefined) event.userAgent = spec.userAgent;
    if (spec.targetApiKeyId !== undefined) event.targetApiKeyId = spec.targetApiKeyId;
    this.#queue.push(event);
  }

  /** Writes the message and schedules what it causes; `lastOutcome` tells how it went. */
  send(rng: Prng, spec: OutboundSpec): SendOutcome {
    const profile = spec.account.profile;
    const accountId = profile.accountId;
    const timeMs = Math.floor(spec.timeMs);
    const messageId = this.nextId('msg');
    const outbound: OutboundMessage = {
      type: 'message.outbound',
      schemaVersion: 1,
      eventId: messageId,
      eventTime: timeMs,
      accountId,
      apiKeyId: spec.apiKeyId,
      sourceIp: spec.sourceIp,
      userAgent: spec.userAgent,
      from: spec.from,
      to: spec.to,
      channel: spec.channel,
    };
    if (spec.campaignId !== undefined) outbound.campaignId = spec.campaignId;
    if (profile.bodyHashOnly) outbound.bodyHash = bodyDigest(spec.body);
    else outbound.body = spec.body;
    if (profile.includesSegments) outbound.segments = Math.min(255, segmentCount(spec.body));
    if (spec.withMetadata && profile.includesMetadata) outbound.metadata = { purpose: spec.purpose };
    this.#queue.push(outbound);

    const outcome = this.lastOutcome;
    outcome.messageId = messageId;
    outcome.delivered = false;
    outcome.converted = false;

    if (spec.account.optedOutBefore(spec.to, timeMs)) {
      this.#status(spec, messageId, timeMs + rng.int(1000, 2500), 'failed', optedOutRecipientCode, false);
      return outcome;
    }
    if (profile.delivery.sentCallbacks) {
      this.#status(spec, messageId, timeMs + rng.int(200, 1500), 'sent', undefined, true);
    }
    const messageFate = spec.fate;
    const status = drawFinalStatus(rng, messageFate);
    const statusDelayMs =
      status === 'failed'
        ? rng.int(1000, 3000)
        : clamp(rng.logNormal(status === 'delivered' ? 4000 : 9000, 0.7), secondMs, 30 * secondMs);
    const statusMs = timeMs + Math.round(statusDelayMs);
    this.#status(spec, messageId, statusMs, status, errorCodeFor(rng, status), status !== 'failed');
    const delivered = status === 'delivered';
    outcome.delivered = delivered;

    if (spec.purpose === 'otp' && messageFate.conversion !== undefined) {
      const converted = delivered && rng.chance(messageFate.conversion);
      outcome.converted = converted;
      // A used code is reported when it is entered; an unused one when it expires.
      const feedbackMs = converted
        ? statusMs + Math.round(clamp(rng.logNormal(30 * secondMs, 0.6), 8 * secondMs, 115 * secondMs))
        : timeMs + Math.round(rng.uniform(5, 10) * minuteMs);
      const feedback: ConversionFeedback = {
        type: 'message.feedback',
        schemaVersion: 1,
        eventId: this.nextId('fb'),
        eventTime: feedbackMs,
        accountId,
        messageId,
        converted,
      };
      if (profile.delivery.feedbackIncludesRecipient) feedback.to = spec.to;
      this.#queue.push(feedback);
    }

    if (delivered) this.#maybeReply(rng, spec, messageId, statusMs);
    return outcome;
  }

  #status(
    spec: OutboundSpec,
    messageId: string,
    timeMs: number,
    status: DeliveryStatus['status'],
    errorCode: string | undefined,
    withCarrier: boolean,
  ): void {
    const event: DeliveryStatus = {
      type: 'message.status',
      schemaVersion: 1,
      eventId: this.nextId('st'),
      eventTime: timeMs,
      accountId: spec.account.profile.accountId,
      messageId,
      status,
    };
    if (errorCode !== undefined) event.errorCode = errorCode;
    if (withCarrier && spec.carriers.length > 0) {
      // A number stays on its carrier: derive it from the number rather than drawing it.
      event.carrier = spec.carriers[hashString(spec.to) % spec.carriers.length] as string;
    }
    if (spec.account.profile.delivery.statusIncludesRecipient) event.to = spec.to;
    this.#queue.push(event);
  }

  #maybeReply(rng: Prng, spec: OutboundSpec, messageId: string, deliveredMs: number): void {
    const messageFate = spec.fate;
    const roll = rng.next();
    let body: string;
    let delayMs: number;
    if (roll < messageFate.optOut) {
      body = optOutReply(rng, spec.language);
      delayMs = clamp(
        rng.logNormal(messageFate.optOutDelayMedianSeconds * secondMs, 1),
        5 * secondMs,
        12 * 3_600_000,
      );
      spec.account.optOuts.set(spec.to, deliveredMs + delayMs);
    } else if (roll < messageFate.optOut + messageFate.confirm) {
      body = confirmationReply(rng, spec.language);
      delayMs = clamp(rng.logNormal(15 * minuteMs, 1.2), 10 * secondMs, 12 * 3_600_000);
    } else if (roll < messageFate.optOut + messageFate.confirm + messageFate.reply) {
      body = messageFate.suspiciousReplies ? suspiciousReply(rng) : everydayReply(rng);
      delayMs = clamp(rng.logNormal(8 * minuteMs, 1.2), 10 * secondMs, 12 * 3_600_000);
    } else {
      return;
    }
    const profile = spec.account.profile;
    const inbound: InboundMessage = {
      type: 'message.inbound',
      schemaVersion: 1,
      eventId: this.nextId('in'),
      eventTime: Math.round(deliveredMs + delayMs),
      accountId: profile.accountId,
      from: spec.to,
      to: spec.replyAddress,
      body,
    };
    if (profile.providerFlagsOptOuts && isKeywordOptOut(body) && rng.chance(0.85))
      inbound.providerOptOut = true;
    if (profile.threadsReplies) inbound.inReplyToMessageId = messageId;
    this.#queue.push(inbound);
  }
}
