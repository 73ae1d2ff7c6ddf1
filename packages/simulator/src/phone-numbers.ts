/**
 * Valid-looking E.164 mobile numbers per country. A number is a pure function of (country, two
 * 32-bit values), so recipient populations are index→number maps that need no storage, and numbered
 * blocks (pumping ranges) are a prefix plus consecutive subscriber numbers.
 */
import type { CountryInfo } from './countries.ts';
import { mix2 } from './hash.ts';
import type { Prng } from './prng.ts';

const powersOfTen = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/** Digits after the prefix; never more than 9, so one 32-bit value covers them. */
export function subscriberLength(country: CountryInfo, prefix: string): number {
  return country.nationalLength - prefix.length;
}

/** North American exchanges start 2-9 and are not N11 service codes; other plans take any digits. */
function normalizeSubscriber(country: CountryInfo, subscriber: number, length: number): number {
  if (!country.nanp) return subscriber;
  const lineDigits = length - 3;
  const line = subscriber % (powersOfTen[lineDigits] as number);
  let exchange = Math.floor(subscriber / (powersOfTen[lineDigits] as number));
  exchange = 200 + (exchange % 800);
  if (exchange % 100 === 11) exchange += 1;
  return exchange * (powersOfTen[lineDigits] as number) + line;
}

/** The number made of `prefix` and `subscriber` (taken modulo the subscriber space). */
export function numberInPrefix(country: CountryInfo, prefix: string, subscriber: number): string {
  const length = subscriberLength(country, prefix);
  const space = powersOfTen[length] as number;
  const wrapped = normalizeSubscriber(country, ((subscriber % space) + space) % space, length);
  return `+${country.callingCode}${prefix}${String(wrapped).padStart(length, '0')}`;
}

/** Deterministic number for two 32-bit values (e.g. a population seed and a member index). */
export function mobileNumberFor(country: CountryInfo, first: number, second: number): string {
  const prefixes = country.mobilePrefixes;
  const prefixHash = mix2(first, second);
  const prefix = prefixes[prefixHash % prefixes.length] as string;
  return numberInPrefix(country, prefix, mix2(second, prefixHash ^ first));
}

/** A fresh random mobile number (attack targets, travellers, purchased lists). */
export function randomMobileNumber(rng: Prng, country: CountryInfo): string {
  return mobileNumberFor(country, rng.nextUint32(), rng.nextUint32());
}
