/** One valid example of each event type: documentation, JSON Schema examples and test fixtures. */
import type { FloodgateEvent, FloodgateEventInput } from './events.ts';
import { parseEvent } from './parse.ts';

export const exampleEvents = {
  'message.outbound': {
    type: 'message.outbound',
    schemaVersion: 1,
    eventId: 'msg_01J9Z6M4W7Q5X2',
    eventTime: '2026-11-25T14:03:12.345Z',
    accountId: 'acct_acme',
    campaignId: 'cmp_winter_sale',
    apiKeyId: 'key_live_7f3a',
    sourceIp: '203.0.113.24',
    userAgent: 'acme-sdk-python/4.2.0',
    from: '+14155550100',
    to: '+14155550123',
    channel: 'sms',
    body: 'Your Acme code is 482913. It expires in 10 minutes.',
    segments: 1,
    metadata: { purpose: 'otp' },
  },
  'message.inbound': {
    type: 'message.inbound',
    schemaVersion: 1,
    eventId: 'in_01J9Z6N1',
    eventTime: '2026-11-25T14:05:40.000Z',
    accountId: 'acct_acme',
    from: '+14155550123',
    to: '+14155550100',
    body: 'STOP',
    providerOptOut: true,
  },
  'message.status': {
    type: 'message.status',
    schemaVersion: 1,
    eventId: 'st_01J9Z6M9',
    eventTime: '2026-11-25T14:03:15.001Z',
    accountId: 'acct_acme',
    messageId: 'msg_01J9Z6M4W7Q5X2',
    status: 'delivered',
    carrier: 'Example Mobile',
    to: '+14155550123',
  },
  'message.feedback': {
    type: 'message.feedback',
    schemaVersion: 1,
    eventId: 'fb_01J9Z6P2',
    eventTime: '2026-11-25T14:04:02.000Z',
    accountId: 'acct_acme',
    messageId: 'msg_01J9Z6M4W7Q5X2',
    converted: true,
  },
  'account.audit': {
    type: 'account.audit',
    schemaVersion: 1,
    eventId: 'aud_01J9Z5Z0',
    eventTime: '2026-11-25T13:58:00.000Z',
    accountId: 'acct_acme',
    actor: 'ops@acme.example',
    action: 'api_key_created',
    mfaUsed: false,
    sourceIp: '198.51.100.7',
    userAgent: 'Mozilla/5.0',
    targetApiKeyId: 'key_live_9c1d',
  },
} as const satisfies Record<string, FloodgateEventInput>;

/** The example of `type` with `overrides`, validated as ingest validates events (a test fixture). */
export function exampleEvent(
  type: keyof typeof exampleEvents,
  overrides: Record<string, unknown> = {},
): FloodgateEvent {
  const parsed = parseEvent({ ...exampleEvents[type], ...overrides });
  if (!parsed.ok)
    throw new Error(`the ${type} example does not validate: ${JSON.stringify(parsed.problems)}`);
  return parsed.value;
}

export const exampleApiKeyInventory = [
  {
    keyId: 'key_live_7f3a',
    accountId: 'acct_acme',
    owner: 'platform-team@acme.example',
    allowedNetworks: ['203.0.113.0/24'],
    allowedCountries: ['US', 'CA'],
    createdAt: '2026-01-10T09:00:00Z',
  },
  {
    keyId: 'key_partner_01',
    accountId: 'acct_acme',
    owner: 'marketing@acme.example',
    thirdParty: 'Example Agency Ltd',
    allowedNetworks: ['192.0.2.0/24'],
    allowedCountries: ['US'],
    createdAt: '2026-06-01T09:00:00Z',
  },
];
