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

type Classification = Pick<Destination, 'country' | 'callingCode' | 'numberType' | 'valid'>;

/**
 * Numbering plans assign country and number type by leading digits and length, so a cache keyed
 * by the first 8 digits plus the length answers almost every lookup without re-parsing (parsing
 * with full metadata costs tens of microseconds per number, the largest share of normalisation).
 */
const CACHE_PREFIX_DIGITS = 8;
const CACHE_LIMIT = 200_000;
const classificationCache = new Map<string, Classification>();

function classify(e164: string): Classification {
  const cacheKey = `${e164.slice(0, CACHE_PREFIX_DIGITS + 1)}/${e164.length}`;
  const cached = classificationCache.get(cacheKey);
  if (cached) return cached;
  const parsed = parsePhoneNumberFromString(e164);
  let result: Classification;
  if (!parsed) {
    result = { country: 'ZZ', callingCode: '', numberType: 'unknown', valid: false };
  } else {
    // With full metadata a number is valid exactly when it has a type (libphonenumber's
    // isValid() is getType() !== undefined), so one pattern walk answers both.
    const type = parsed.getType();
    result = {
      country: parsed.country ?? 'ZZ',
      callingCode: parsed.countryCallingCode,
      numberType: (type && typeNames[type]) ?? 'unknown',
      valid: type !== undefined,
    };
  }
  if (classificationCache.size >= CACHE_LIMIT) classificationCache.clear();
  classificationCache.set(cacheKey, result);
  return result;
}

/** `e164` must already be schema-valid ('+' and 7-15 digits). */
export function destinationOf(e164: string, prefixDigits = 6): Destination {
  const digits = e164.slice(1);
  const classification = classify(e164);
  return {
    country: classification.country,
    callingCode: classification.callingCode,
    prefix: `+${digits.slice(0, Math.max(1, prefixDigits))}`,
    numeric: Number(digits),
    numberType: classification.numberType,
    valid: classification.valid,
  };
}
