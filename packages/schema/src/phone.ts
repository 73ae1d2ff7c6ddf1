/**
 * What analysis needs from a phone number, computed once at ingest: destination country, a prefix
 * of configurable length kept in clear (pumping shows up per prefix), the number type (premium and
 * special ranges matter for pumping) and the national digits for sequential-run detection.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type NumberType =
  | 'mobile'
  | 'fixed_line'
  | 'fixed_line_or_mobile'
  | 'premium_rate'
  | 'toll_free'
  | 'shared_cost'
  | 'voip'
  | 'personal_number'
  | 'pager'
  | 'uan'
  | 'voicemail'
  | 'unknown';

export interface Destination {
  /** ISO 3166-1 alpha-2, or 'ZZ' when libphonenumber cannot place the number. */
  country: string;
  callingCode: string;
  /** '+' and the first `prefixDigits` digits of the E.164 number, e.g. '+4479112'. */
  prefix: string;
  /** All E.164 digits as a number (safe: at most 15 digits < 2^53), for sequential-run detection. */
  numeric: number;
  numberType: NumberType;
  valid: boolean;
}

const typeNames: Record<string, NumberType> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed_line',
  FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile',
  PREMIUM_RATE: 'premium_rate',
  TOLL_FREE: 'toll_free',
  SHARED_COST: 'shared_cost',
  VOIP: 'voip',
  PERSONAL_NUMBER: 'personal_number',
  PAGER: 'pager',
  UAN: 'uan',
  VOICEMAIL: 'voicemail',
};

/** `e164` must already be schema-valid ('+' and 7-15 digits). */
export function destinationOf(e164: string, prefixDigits = 6): Destination {
  const digits = e164.slice(1);
  const prefix = `+${digits.slice(0, Math.max(1, prefixDigits))}`;
  const numeric = Number(digits);
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) {
    return { country: 'ZZ', callingCode: '', prefix, numeric, numberType: 'unknown', valid: false };
  }
  const type = parsed.getType();
  return {
    country: parsed.country ?? 'ZZ',
    callingCode: parsed.countryCallingCode,
    prefix,
    numeric,
    numberType: (type && typeNames[type]) ?? 'unknown',
    valid: parsed.isValid(),
  };
}
