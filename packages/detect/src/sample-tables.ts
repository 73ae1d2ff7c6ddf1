/**
 * Sample tables shipped as defaults: SMS prices per segment by destination country (USD, order of
 * magnitude of public list prices in 2025-26) and a provider error-code map. Replace both with your
 * provider's own through the config; they only size evidence and classify failures.
 */
export const samplePricePerSegmentUsd: Record<string, number> = {
  default: 0.05,
  US: 0.0083,
  CA: 0.0083,
  GB: 0.04,
  DE: 0.09,
  FR: 0.08,
  ES: 0.08,
  IT: 0.08,
  NL: 0.1,
  BR: 0.05,
  MX: 0.04,
  IN: 0.003,
  AU: 0.05,
  NG: 0.2,
  PH: 0.2,
  ID: 0.4,
  TJ: 0.3,
  BD: 0.3,
  SY: 0.25,
  TG: 0.2,
  UZ: 0.3,
  KG: 0.3,
  AZ: 0.3,
};

/** A Twilio-like set of delivery error codes, as a starting point. */
export const sampleErrorCodeCategories: Record<
  string,
  'unreachable' | 'invalid_number' | 'carrier_filtered' | 'rate_limited' | 'unknown'
> = {
  '30003': 'unreachable',
  '30005': 'invalid_number',
  '30006': 'invalid_number',
  '30007': 'carrier_filtered',
  '30008': 'unknown',
  '30022': 'rate_limited',
  '30024': 'carrier_filtered',
  '30032': 'carrier_filtered',
  '21610': 'unreachable',
  '21614': 'invalid_number',
};
