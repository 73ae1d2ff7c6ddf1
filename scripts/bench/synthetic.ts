/** Synthetic normalised events shared by the benchmarks. */
import type { NormalizedOutbound } from '@floodgate/detect';

/**
 * A normalised outbound SMS to a US mobile number with no body (so no template or fingerprint):
 * what the rate path sees. `fields` gives the identity, time and sender of the message.
 */
export function bodylessOutbound(
  fields: Pick<
    NormalizedOutbound,
    | 'eventId'
    | 'timeMs'
    | 'accountId'
    | 'apiKeyId'
    | 'sourceIp'
    | 'sourceNetwork'
    | 'userAgent'
    | 'recipientKey'
    | 'recipientNumeric'
    | 'country'
  >,
): NormalizedOutbound {
  return {
    kind: 'outbound',
    ...fields,
    prefix: '+141555',
    numberType: 'mobile',
    fingerprint: '',
    template: '',
    maskedBody: '',
    linkDomains: [],
    segments: 1,
    campaignId: '',
  };
}
