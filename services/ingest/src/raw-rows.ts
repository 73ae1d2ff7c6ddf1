/**
 * Raw table rows from validated events, with the privacy settings applied: recipients as keyed
 * HMACs beside country, prefix and number type; bodies none/masked/full. Pure: no I/O.
 */
import type { NormalizedEvent } from '@floodgate/detect';
import type { ApiKeyInventoryEntry, FloodgateEvent } from '@floodgate/schema';

export type BodyStorage = 'none' | 'masked' | 'full';

export type RawTable =
  | 'messages_outbound'
  | 'messages_inbound'
  | 'messages_status'
  | 'messages_feedback'
  | 'accounts_audit';

export interface RawRow {
  table: RawTable;
  row: Record<string, unknown>;
}

/**
 * Each raw table's columns, as rawRowOf writes them: ingest's INSERTs name these columns and send
 * each row's values for them as JSONCompactEachRow (see InsertCoalescerOptions.columnsOf), so a row
 * field missing here would not be stored (raw-rows.test.ts keeps the two equal). Columns left out
 * (`ingested_at`) take their defaults.
 */
export const RAW_COLUMNS: Readonly<Record<RawTable, readonly string[]>> = {
  messages_outbound: [
    'event_id',
    'event_time',
    'account_id',
    'sub_account_id',
    'campaign_id',
    'api_key_id',
    'source_ip',
    'user_agent',
    'sender',
    'recipient_hash',
    'recipient_country',
    'recipient_prefix',
    'recipient_type',
    'channel',
    'body',
    'body_hash',
    'template',
    'fingerprint',
    'link_domains',
    'segments',
    'metadata',
  ],
  messages_inbound: [
    'event_id',
    'event_time',
    'account_id',
    'sender_hash',
    'sender_country',
    'sender_prefix',
    'recipient',
    'body',
    'classification',
    'provider_opt_out',
    'in_reply_to',
  ],
  messages_status: [
    'event_id',
    'event_time',
    'account_id',
    'message_id',
    'status',
    'error_code',
    'error_category',
    'carrier',
    'recipient_country',
  ],
  messages_feedback: ['event_id', 'event_time', 'account_id', 'message_id', 'converted', 'recipient_country'],
  accounts_audit: [
    'event_id',
    'event_time',
    'account_id',
    'actor',
    'action',
    'mfa_used',
    'source_ip',
    'user_agent',
    'target_api_key_id',
  ],
};

/** The columns ingest names in its INSERT into `table`, if it is a raw table. */
export function rawColumnsOf(table: string): readonly string[] | undefined {
  return Object.hasOwn(RAW_COLUMNS, table) ? RAW_COLUMNS[table as RawTable] : undefined;
}

function bodyFor(mode: BodyStorage, full: string | undefined, masked: string): string {
  if (mode === 'none' || full === undefined) return '';
  return mode === 'full' ? full : masked;
}

/** `normalized` is normalizeEvent(event): the row reuses its hashes, template and destination. */
export function rawRowOf(
  event: FloodgateEvent,
  normalized: NormalizedEvent,
  bodyStorage: BodyStorage,
): RawRow {
  switch (event.type) {
    case 'message.outbound': {
      const n = normalized as Extract<NormalizedEvent, { kind: 'outbound' }>;
      return {
        table: 'messages_outbound',
        row: {
          event_id: event.eventId,
          event_time: event.eventTime,
          account_id: event.accountId,
          sub_account_id: event.subAccountId ?? '',
          campaign_id: event.campaignId ?? '',
          api_key_id: event.apiKeyId,
          source_ip: event.sourceIp ?? '',
          user_agent: event.userAgent ?? '',
          sender: event.from,
          recipient_hash: n.recipientKey,
          recipient_country: n.country,
          recipient_prefix: n.prefix,
          recipient_type: n.numberType,
          channel: event.channel,
          body: bodyFor(bodyStorage, event.body, n.maskedBody),
          body_hash: event.bodyHash ?? '',
          template: n.template,
          fingerprint: n.fingerprint ? BigInt(`0x${n.fingerprint}`).toString() : '0',
          link_domains: n.linkDomains,
          segments: event.segments ?? 1,
          metadata: Object.fromEntries(Object.entries(event.metadata ?? {}).map(([k, v]) => [k, String(v)])),
        },
      };
    }
    case 'message.inbound': {
      const n = normalized as Extract<NormalizedEvent, { kind: 'inbound' }>;
      return {
        table: 'messages_inbound',
        row: {
          event_id: event.eventId,
          event_time: event.eventTime,
          account_id: event.accountId,
          sender_hash: n.recipientKey,
          sender_country: n.country,
          sender_prefix: '',
          recipient: event.to,
          // Replies are short and personal; keep only the classification unless full storage is on.
          body: bodyStorage === 'full' ? event.body : '',
          classification: n.classification,
          provider_opt_out: event.providerOptOut ?? false,
          in_reply_to: event.inReplyToMessageId ?? '',
        },
      };
    }
    case 'message.status': {
      const n = normalized as Extract<NormalizedEvent, { kind: 'status' }>;
      return {
        table: 'messages_status',
        row: {
          event_id: event.eventId,
          event_time: event.eventTime,
          account_id: event.accountId,
          message_id: event.messageId,
          status: event.status,
          error_code: event.errorCode ?? '',
          error_category: n.errorCategory,
          carrier: event.carrier ?? '',
          recipient_country: n.country,
        },
      };
    }
    case 'message.feedback': {
      const n = normalized as Extract<NormalizedEvent, { kind: 'feedback' }>;
      return {
        table: 'messages_feedback',
        row: {
          event_id: event.eventId,
          event_time: event.eventTime,
          account_id: event.accountId,
          message_id: event.messageId,
          converted: event.converted,
          recipient_country: n.country,
        },
      };
    }
    case 'account.audit':
      return {
        table: 'accounts_audit',
        row: {
          event_id: event.eventId,
          event_time: event.eventTime,
          account_id: event.accountId,
          actor: event.actor,
          action: event.action,
          mfa_used: event.mfaUsed ?? null,
          source_ip: event.sourceIp ?? '',
          user_agent: event.userAgent ?? '',
          target_api_key_id: event.targetApiKeyId ?? '',
        },
      };
  }
}

/** An API key inventory entry as an `api_keys` row (ReplacingMergeTree by account and key). */
export function apiKeyRow(entry: ApiKeyInventoryEntry): Record<string, unknown> {
  return {
    key_id: entry.keyId,
    account_id: entry.accountId,
    owner: entry.owner,
    third_party: entry.thirdParty ?? '',
    allowed_networks: entry.allowedNetworks,
    allowed_countries: entry.allowedCountries,
    created_at: entry.createdAt,
  };
}
