/**
 * Abusive content: smishing lures (parcel fees, unpaid tolls, account locks in the sender's own
 * name) and spam offers, each with a few wording variants and one freshly registered link domain.
 * Messages of one lure differ only in names, amounts and link paths, as real campaigns do.
 */
import type { Language } from '../countries.ts';
import { type CompiledTemplate, compileTemplate } from '../message-template.ts';
import type { Prng } from '../prng.ts';

export interface Lure {
  readonly family: string;
  /** The registrable domain every link of this lure uses. */
  readonly domain: string;
  readonly variants: readonly CompiledTemplate[];
}

interface LureFamily {
  readonly family: string;
  readonly languages: readonly Language[];
  readonly countries: readonly string[] | 'any';
  readonly domainWords: readonly string[];
  readonly texts: readonly string[];
}

const cheapTlds = ['top', 'xyz', 'info', 'icu', 'live', 'shop', 'vip', 'sbs', 'cfd', 'cc', 'club', 'online'];

const phishingFamilies: readonly LureFamily[] = [
  {
    family: 'parcel_us',
    languages: ['en'],
    countries: ['US', 'CA'],
    domainWords: ['usps-redelivery', 'usps-parcelcare', 'usps-trackhelp'],
    texts: [
      'USPS: Your package is on hold due to an incomplete address. Update within 12 hours: https://{domain}/x/{token}',
      'USPS: your parcel could not be delivered, a {amount} redelivery fee is due. Pay at https://{domain}/x/{token}',
      'USPS Notice: {name}, we attempted delivery of your package. Reschedule here https://{domain}/i/{token}',
    ],
  },
  {
    family: 'toll_us',
    languages: ['en'],
    countries: ['US'],
    domainWords: ['ezpass-tollpay', 'tollservices-pay', 'sunpass-balance'],
    texts: [
      'E-ZPass: You have an unpaid toll of {amount}. Pay now to avoid a late fee: https://{domain}/pay/{token}',
      'Toll Services: FINAL NOTICE - outstanding toll balance of {amount}. Settle today: https://{domain}/{token}',
      'E-ZPass: {name}, your account has an overdue toll of {amount}. Avoid penalties: https://{domain}/pay/{token}',
    ],
  },
  {
    family: 'parcel_gb',
    languages: ['en'],
    countries: ['GB', 'IE', 'AU', 'NZ'],
    domainWords: ['royalmail-reschedule', 'evri-redelivery', 'parcel-fee-uk'],
    texts: [
      'Royal Mail: your parcel is awaiting a {amount} shipping fee. Pay here: https://{domain}/rm/{token}',
      'Evri: we missed you today! Rebook your delivery: https://{domain}/{token}',
      'Royal Mail: {name}, your item could not be delivered. Arrange redelivery: https://{domain}/rm/{token}',
    ],
  },
  {
    family: 'parcel_in',
    languages: ['en'],
    countries: ['IN'],
    domainWords: ['indiapost-update', 'ipost-delivery'],
    texts: [
      'India Post: your package is held at our warehouse due to an incomplete address. Update within 24 hours: https://{domain}/in/{token}',
      'India Post: delivery failed. Pay {amount} to reschedule: https://{domain}/{token}',
    ],
  },
  {
    family: 'parcel_de',
    languages: ['de'],
    countries: 'any',
    domainWords: ['dhl-paket-zustellung', 'dhl-sendung'],
    texts: [
      'DHL: Ihr Paket wartet auf Zustellung. Bitte bestätigen Sie die Versandkosten von {amount}: https://{domain}/de/{token}',
      'DHL: Zustellung fehlgeschlagen. Neuen Termin wählen: https://{domain}/{token}',
    ],
  },
  {
    family: 'parcel_fr',
    languages: ['fr'],
    countries: 'any',
    domainWords: ['laposte-suivi', 'colissimo-livraison'],
    texts: [
      'La Poste : votre colis est en attente. Frais de livraison de {amount} à régler : https://{domain}/lp/{token}',
      'Colissimo : {name}, votre colis n’a pas pu être livré. Reprogrammez : https://{domain}/{token}',
    ],
  },
  {
    family: 'parcel_es',
    languages: ['es'],
    countries: 'any',
    domainWords: ['correos-envio', 'correos-aduana'],
    texts: [
      'Correos: su paquete está retenido. Pague {amount} de gastos de envío en https://{domain}/c/{token}',
      'Correos: {name}, no pudimos entregar su envío. Reprograme aquí: https://{domain}/{token}',
    ],
  },
  {
    family: 'parcel_br',
    languages: ['pt'],
    countries: 'any',
    domainWords: ['correios-rastreio', 'correios-taxa'],
    texts: [
      'Correios: sua encomenda foi taxada em {amount}. Regularize em https://{domain}/{token}',
      'Correios: {name}, sua encomenda está retida. Libere em https://{domain}/r/{token}',
    ],
  },
];

/** Lures in the sender's own name: the most convincing kind after a console takeover. */
const ownBrandTexts = [
  '{brand}: your account has been locked due to unusual activity. Verify now: https://{domain}/secure/{token}',
  '{brand} Security: a new device signed in to your account. If this wasn’t you, confirm at https://{domain}/{token}',
  '{brand}: {name}, your payment of {amount} was declined. Update your billing details: https://{domain}/b/{token}',
];

const spamFamilies: readonly LureFamily[] = [
  {
    family: 'job_scam',
    languages: ['en'],
    countries: 'any',
    domainWords: ['quick-hire', 'remote-jobs-now', 'easywork-hub'],
    texts: [
      'Hi {name}, your profile was shortlisted for a remote job: earn {amount}/day, 1-2h daily. Details: https://{domain}/j/{token}',
      'Hello {name}! We are hiring part-time online assistants, {amount} per day, no experience needed: https://{domain}/{token}',
    ],
  },
  {
    family: 'loan_offer',
    languages: ['en'],
    countries: 'any',
    domainWords: ['fastloan-approve', 'cash-now-direct'],
    texts: [
      'Congrats! You qualify for a personal loan with no credit check. Apply in 2 min: https://{domain}/{token}',
      '{name}, your pre-approved credit line expires today. Claim it now: https://{domain}/a/{token}',
    ],
  },
  {
    family: 'crypto_bonus',
    languages: ['en'],
    countries: 'any',
    domainWords: ['coin-bonus-claim', 'wallet-rewards'],
    texts: [
      '{name}, your wallet received a bonus of {amount}. Claim before midnight: https://{domain}/c/{token}',
      'Your {amount} crypto reward is pending. Withdraw now: https://{domain}/{token}',
    ],
  },
];

function randomLabel(rng: Prng, length: number): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  let out = '';
  for (let index = 0; index < length; index++) out += alphabet[rng.int(0, alphabet.length - 1)];
  return out;
}

/** A registrable domain registered for the campaign: lure words, a random tail, a cheap TLD. */
function freshDomain(rng: Prng, words: readonly string[]): string {
  return `${rng.pick(words)}-${randomLabel(rng, rng.int(3, 5))}.${rng.pick(cheapTlds)}`;
}

function compileLure(rng: Prng, family: string, domain: string, texts: readonly string[]): Lure {
  const variants = texts.map((text, index) =>
    compileTemplate(`lure_${family}_${index}`, 'transactional', text, domain),
  );
  return { family, domain, variants: rng.chance(0.3) ? variants.slice(0, 2) : variants };
}

/** A phishing lure suited to the victim's market and language (or impersonating the victim). */
export function phishingLure(rng: Prng, language: Language, country: string, brandSlug: string): Lure {
  const suited = phishingFamilies.filter(
    (family) =>
      family.languages.includes(language) &&
      (family.countries === 'any' || family.countries.includes(country)),
  );
  if (suited.length === 0 || rng.chance(0.25)) {
    const domain = `${brandSlug}-${rng.pick(['verify', 'secure', 'account', 'help'])}-${randomLabel(rng, 3)}.${rng.pick(cheapTlds)}`;
    return compileLure(rng, 'own_brand', domain, ownBrandTexts);
  }
  const family = rng.pick(suited);
  return compileLure(rng, family.family, freshDomain(rng, family.domainWords), family.texts);
}

/** Spam that tolerates any audience (job scams, loans, crypto), with a fresh domain. */
export function spamLure(rng: Prng): Lure {
  const family = rng.pick(spamFamilies);
  return compileLure(rng, family.family, freshDomain(rng, family.domainWords), family.texts);
}

/** A phishing lure for a country regardless of any one sender (cross-account campaigns). */
export function campaignLure(rng: Prng, country: string): Lure {
  const suited = phishingFamilies.filter(
    (family) => family.countries !== 'any' && family.countries.includes(country),
  );
  const family = suited.length > 0 ? rng.pick(suited) : rng.pick(phishingFamilies.slice(0, 2));
  return compileLure(rng, family.family, freshDomain(rng, family.domainWords), family.texts);
}
