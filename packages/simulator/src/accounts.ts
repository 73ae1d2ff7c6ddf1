/**
 * Sending accounts and everything that makes their traffic theirs: use, markets, base rate, keys
 * with their usual networks and clients, templates, senders, blast schedule, delivery quality.
 * Profiles are plain data (JSON-safe) and a pure function of the seed and the period.
 */
import { type AccountUse, BrandRegistry } from './brands.ts';
import { countryInfo, homeCountryWeights, type Language } from './countries.ts';
import type { MessagePurpose } from './message-template.ts';
import { hostIn, hostingNetwork, type Network, officeNetwork, serverNetwork } from './networks.ts';
import { numberInPrefix, randomMobileNumber } from './phone-numbers.ts';
import type { Prng } from './prng.ts';
import { templateCatalogue } from './template-catalogue.ts';
import { senderUserAgent, upgradedUserAgent } from './user-agents.ts';

export type { AccountUse } from './brands.ts';
export type SenderKind = 'long_code' | 'toll_free' | 'short_code' | 'alphanumeric';

export interface SenderProfile {
  readonly country: string;
  readonly kind: SenderKind;
  /** The `from` of outbound messages. */
  readonly address: string;
  /** Where replies arrive: the sender itself, or the account's opt-out number for alphanumeric ids. */
  readonly replyAddress: string;
}

export interface ApiKeyProfile {
  readonly keyId: string;
  readonly owner: string;
  /** Set when the key was shared with a partner (agency, reseller). */
  thirdParty?: string;
  readonly createdAtMs: number;
  /** Purposes the key sends; among keys serving a purpose, traffic splits by `weight`. */
  purposes: MessagePurpose[];
  weight: number;
  /** CIDRs of the networks the key is used from (what the inventory allows). */
  networks: string[];
  sourceIps: string[];
  userAgent: string;
  /** An SDK upgrade: from `atMs` the key sends with a newer version of the same client. */
  userAgentUpgrade?: { readonly atMs: number; readonly userAgent: string };
  /** Countries the key may send to; for shared keys, the agreed subset. */
  allowedCountries: string[];
  /** A rotated-in key carries traffic only from this time. */
  activeFromMs?: number;
  /** Rotation: from `atMs` the successor carries this key's traffic. */
  replacedBy?: { readonly keyId: string; readonly atMs: number };
  revokedAtMs?: number;
}

export interface TemplateProfile {
  readonly templateId: string;
  readonly purpose: MessagePurpose;
  readonly text: string;
  readonly linkDomain: string;
  readonly weight: number;
  /** A template introduced during the period (a new promotion, a new notification). */
  readonly activeFromMs?: number;
}

export interface MarketProfile {
  readonly country: string;
  /** Share of the account's traffic (shares of all markets sum to 1). */
  readonly share: number;
  /** Size of the recipient population: OTP users and subscribers come back. */
  poolSize: number;
  readonly poolSeed: number;
  readonly utcOffsetMinutes: number;
}

export interface BlastSchedule {
  /** 7 for a weekly newsletter, 1 for daily deals. */
  periodDays: 1 | 7;
  /** Local weekday (0 = Sunday) for weekly blasts. */
  localWeekday: number;
  /** Local minute of day the scheduler fires. */
  localStartMinute: number;
  durationMinutes: number;
  /** Blast rate as a multiple of the account's base rate. */
  multiplier: number;
  readonly templateId: string;
}

export interface DeliveryProfile {
  readonly filtered: number;
  readonly failed: number;
  readonly undelivered: number;
  /** The provider also reports `sent` before the final status. */
  readonly sentCallbacks: boolean;
  readonly statusIncludesRecipient: boolean;
  readonly feedbackIncludesRecipient: boolean;
}

export interface AccountProfile {
  readonly accountId: string;
  readonly brand: string;
  readonly use: AccountUse;
  /** Business customers: traffic dips at weekends. */
  readonly businessCustomers: boolean;
  /** Weekend volume relative to weekdays. */
  readonly weekendFactor: number;
  readonly language: Language;
  readonly utcOffsetMinutes: number;
  readonly homeCountries: string[];
  readonly markets: MarketProfile[];
  /** Share of messages to other countries (travellers, foreign customers). */
  readonly roamingShare: number;
  /** A market launched during the period: real users, normal conversion, a new country all the same. */
  readonly expansion?: {
    readonly country: string;
    readonly startMs: number;
    readonly share: number;
    readonly poolSeed: number;
  };
  readonly baseRatePerMinute: number;
  readonly purposeWeights: Readonly<Record<MessagePurpose, number>>;
  readonly linkDomain: string;
  readonly shortLinkDomain?: string;
  readonly senders: SenderProfile[];
  readonly serverNetworks: string[];
  readonly officeNetwork: string;
  readonly apiKeys: ApiKeyProfile[];
  readonly templates: TemplateProfile[];
  readonly consoleUsers: string[];
  readonly mfaEnforced: boolean;
  blast?: BlastSchedule;
  readonly otpCodeLength: number;
  readonly otpConversionRate: number;
  readonly reportsFeedback: boolean;
  readonly delivery: DeliveryProfile;
  /** Opt-outs per marketing message. */
  readonly optOutRate: number;
  readonly providerFlagsOptOuts: boolean;
  readonly threadsReplies: boolean;
  /** The sender shares only a digest of bodies, never text. */
  readonly bodyHashOnly: boolean;
  readonly includesSegments: boolean;
  readonly includesMetadata: boolean;
  /** Share of OTPs sent over WhatsApp, of marketing over MMS. */
  readonly whatsappShare: number;
  readonly mmsShare: number;
  readonly supportPhone: string;
}

const uses: readonly AccountUse[] = ['otp', 'notifications', 'marketing', 'mixed'];
const useWeights = [35, 25, 20, 20];

const purposeWeightsByUse: Readonly<Record<AccountUse, Readonly<Record<MessagePurpose, number>>>> = {
  otp: { otp: 0.9, transactional: 0.1, reminder: 0, marketing: 0 },
  notifications: { otp: 0, transactional: 0.65, reminder: 0.35, marketing: 0 },
  marketing: { otp: 0, transactional: 0.15, reminder: 0, marketing: 0.85 },
  mixed: { otp: 0.45, transactional: 0.3, reminder: 0.05, marketing: 0.2 },
};

const lastNames = [
  'smith',
  'garcia',
  'mueller',
  'martin',
  'silva',
  'sharma',
  'okafor',
  'santos',
  'lee',
  'brown',
  'rossi',
  'dubois',
  'novak',
  'reyes',
  'khan',
];
const userFirstNames = [
  'anna',
  'ben',
  'carla',
  'dev',
  'elif',
  'femi',
  'gus',
  'hana',
  'ivan',
  'julia',
  'kofi',
  'lena',
  'marco',
  'nina',
  'omar',
  'paula',
];
const agencyNames = [
  'Brightline Marketing Ltd',
  'Nimbus Engage GmbH',
  'Clearpath Messaging LLC',
  'Orbital CRM Partners',
  'Harbourside Digital',
  'Peak Reach Agency',
];

const dayMs = 86_400_000;
const minTemplates = 3;
/** One slot is kept for a template introduced during the period. */
const maxTemplates = 12;

function accountIdFor(index: number): string {
  return `acct_${String(index + 1).padStart(4, '0')}`;
}

/** Key ids look alike whoever creates them (sender, rotation, attacker): `key_<account number>_<n>`. */
export function keyIdFor(accountId: string, keyNumber: number): string {
  return `key_${accountId.slice(5)}_${keyNumber}`;
}

function pickCountry(rng: Prng, exclude: readonly string[]): string {
  for (;;) {
    const code = rng.weightedPick(
      homeCountryWeights.map(([countryCode]) => countryCode),
      homeCountryWeights.map(([, weight]) => weight),
    );
    if (!exclude.includes(code)) return code;
  }
}

function baseRate(rng: Prng): number {
  // A few large senders; the rest log-normal, most between 0.05 and 5 messages a minute.
  if (rng.chance(0.03)) return Math.exp(rng.uniform(Math.log(20), Math.log(100)));
  return Math.min(15, Math.max(0.03, rng.logNormal(0.45, 1.1)));
}

function senderFor(rng: Prng, country: string, alphaSenderId: string, optOutNumber: string): SenderProfile {
  const info = countryInfo(country);
  const roll = rng.next();
  if (info.nanp) {
    if (roll < 0.6) {
      const address = randomMobileNumber(rng, info);
      return { country, kind: 'long_code', address, replyAddress: address };
    }
    if (roll < 0.75) {
      const tollFree = { ...info, mobilePrefixes: ['833', '844', '855', '866', '877', '888'] };
      const address = randomMobileNumber(rng, tollFree);
      return { country, kind: 'toll_free', address, replyAddress: address };
    }
    const address = String(rng.int(20000, 999999));
    return { country, kind: 'short_code', address, replyAddress: address };
  }
  if (roll < 0.6 && alphaSenderId.length >= 3) {
    return { country, kind: 'alphanumeric', address: alphaSenderId, replyAddress: optOutNumber };
  }
  if (roll < 0.9) {
    const address = randomMobileNumber(rng, info);
    return { country, kind: 'long_code', address, replyAddress: address };
  }
  const address = String(rng.int(60000, 89999));
  return { country, kind: 'short_code', address, replyAddress: address };
}

function chooseTemplates(
  rng: Prng,
  accountId: string,
  language: Language,
  purposeWeights: Readonly<Record<MessagePurpose, number>>,
  linkDomain: string,
  marketingLinkDomain: string,
  periodStartMs: number,
  periodEndMs: number,
): TemplateProfile[] {
  const catalogue = templateCatalogue[language];
  const templates: TemplateProfile[] = [];
  const signature = rng.chance(0.2)
    ? rng.pick([' - {brand} Team', ' –{brand}', ' Msg&data rates may apply.'])
    : '';
  const dormant: Array<{ purpose: MessagePurpose; text: string }> = [];
  for (const purpose of ['otp', 'transactional', 'reminder', 'marketing'] as const) {
    if (purposeWeights[purpose] <= 0) continue;
    const available = [...catalogue[purpose]];
    const wanted = Math.min(available.length, purpose === 'otp' ? rng.int(1, 3) : rng.int(1, 4));
    for (let count = 0; count < wanted; count++) {
      const [text] = available.splice(rng.int(0, available.length - 1), 1) as [string];
      templates.push({
        templateId: `tpl_${accountId.slice(5)}_${templates.length + 1}`,
        purpose,
        text: purpose === 'otp' ? text : text + (purpose === 'marketing' ? '' : signature),
        linkDomain: purpose === 'marketing' ? marketingLinkDomain : linkDomain,
        weight: rng.logNormal(1, 0.8),
      });
    }
    for (const text of available) dormant.push({ purpose, text });
  }
  // Every sender keeps a handful of templates: top up from the unused ones of its purposes, cap at 12.
  while (templates.length < minTemplates && dormant.length > 0) {
    const [entry] = dormant.splice(rng.int(0, dormant.length - 1), 1) as [
      { purpose: MessagePurpose; text: string },
    ];
    templates.push({
      templateId: `tpl_${accountId.slice(5)}_${templates.length + 1}`,
      purpose: entry.purpose,
      text: entry.text,
      linkDomain: entry.purpose === 'marketing' ? marketingLinkDomain : linkDomain,
      weight: rng.logNormal(0.5, 0.8),
    });
  }
  templates.splice(maxTemplates - 1);
  // Some senders introduce a template during the period: new content from a trusted sender.
  if (rng.chance(0.25)) {
    const candidates = dormant.filter((entry) => entry.purpose !== 'otp');
    if (candidates.length > 0) {
      const entry = rng.pick(candidates);
      templates.push({
        templateId: `tpl_${accountId.slice(5)}_${templates.length + 1}`,
        purpose: entry.purpose,
        text: entry.text,
        linkDomain: entry.purpose === 'marketing' ? marketingLinkDomain : linkDomain,
        weight: rng.logNormal(1, 0.5),
        activeFromMs: Math.round(rng.uniform(periodStartMs, periodEndMs)),
      });
    }
  }
  return templates;
}

function keyNetworkIps(rng: Prng, network: Network): string[] {
  const ips = new Set<string>();
  const count = rng.int(1, 3);
  while (ips.size < count) ips.add(hostIn(rng, network));
  return [...ips];
}

export interface AccountGenerationOptions {
  readonly count: number;
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  /** Multiplies every account's base rate (load tests). */
  readonly rateMultiplier: number;
}

export function generateAccounts(rng: Prng, options: AccountGenerationOptions): AccountProfile[] {
  const brands = new BrandRegistry();
  const accounts: AccountProfile[] = [];
  for (let index = 0; index < options.count; index++) {
    accounts.push(generateAccount(rng.fork(index), index, brands, options));
  }
  return accounts;
}

function generateAccount(
  rng: Prng,
  index: number,
  brands: BrandRegistry,
  { periodStartMs, periodEndMs, rateMultiplier }: AccountGenerationOptions,
): AccountProfile {
  const accountId = accountIdFor(index);
  const use = rng.weightedPick(uses, useWeights);
  const primary = pickCountry(rng, []);
  const primaryInfo = countryInfo(primary);
  const homeCountries = [primary];
  const extraMarkets = rng.chance(0.7) ? 0 : rng.weightedPick([1, 2, 3], [60, 28, 12]);
  for (let count = 0; count < extraMarkets; count++) homeCountries.push(pickCountry(rng, homeCountries));
  const rawShares = homeCountries.map((_, position) => (position === 0 ? 1 : rng.uniform(0.05, 0.5)));
  const shareTotal = rawShares.reduce((sum, share) => sum + share, 0);

  const offsets = primaryInfo.utcOffsetsMinutes;
  const utcOffsetMinutes = rng.chance(0.6) ? (offsets[0] as number) : rng.pick(offsets);
  const language = primaryInfo.language;
  const brand = brands.create(rng, use, primary);
  const marketingLinkDomain =
    brand.shortLinkDomain !== undefined && rng.chance(0.7) ? brand.shortLinkDomain : brand.linkDomain;

  let baseRatePerMinute = baseRate(rng) * rateMultiplier;
  const purposeWeights = purposeWeightsByUse[use];
  const templates = chooseTemplates(
    rng,
    accountId,
    language,
    purposeWeights,
    brand.linkDomain,
    marketingLinkDomain,
    periodStartMs,
    periodEndMs,
  );

  let blast: BlastSchedule | undefined;
  if (use === 'marketing' || use === 'mixed') {
    const roll = rng.next();
    if (roll < 0.17) {
      const marketing = templates.filter((template) => template.purpose === 'marketing');
      const template = marketing[0];
      if (template !== undefined) {
        baseRatePerMinute = Math.max(baseRatePerMinute, 0.3 * rateMultiplier);
        blast = {
          periodDays: roll < 0.13 ? 7 : 1,
          localWeekday: rng.int(0, 6),
          // Schedulers fire on round times.
          localStartMinute: rng.int(9, 19) * 60 + rng.pick([0, 0, 0, 15, 30, 30, 45]),
          durationMinutes: rng.int(10, 30),
          multiplier: rng.uniform(10, 50),
          templateId: template.templateId,
        };
      }
    }
  }

  const poolDays =
    use === 'otp' ? rng.uniform(0.7, 3) : use === 'marketing' ? rng.uniform(5, 30) : rng.uniform(2, 10);
  const markets: MarketProfile[] = homeCountries.map((country, position) => {
    const share = (rawShares[position] as number) / shareTotal;
    const info = countryInfo(country);
    let poolSize = Math.max(40, Math.round(baseRatePerMinute * 1440 * share * poolDays));
    if (blast !== undefined) {
      poolSize = Math.max(
        poolSize,
        Math.ceil(baseRatePerMinute * blast.multiplier * blast.durationMinutes * share * 1.5),
      );
    }
    return {
      country,
      share,
      poolSize,
      poolSeed: rng.nextUint32(),
      utcOffsetMinutes: position === 0 ? utcOffsetMinutes : (info.utcOffsetsMinutes[0] as number),
    };
  });

  const optOutNumber = rng.chance(0.5) ? String(rng.int(20000, 99999)) : randomMobileNumber(rng, primaryInfo);
  const senders = homeCountries.map((country) => senderFor(rng, country, brand.alphaSenderId, optOutNumber));

  const emailDomain = brand.linkDomain;
  const consoleUsers: string[] = [];
  const userCount = rng.int(1, 4);
  while (consoleUsers.length < userCount) {
    const email = `${rng.pick(userFirstNames)}.${rng.pick(lastNames)}@${emailDomain}`;
    if (!consoleUsers.includes(email)) consoleUsers.push(email);
  }

  const serverNetworks = [serverNetwork(rng)];
  if (rng.chance(0.3)) serverNetworks.push(serverNetwork(rng));
  const office = officeNetwork(rng);

  const apiKeys: ApiKeyProfile[] = [];
  const keyCount = rng.weightedPick([1, 2, 3, 4], [35, 35, 20, 10]);
  const mainUserAgent = senderUserAgent(rng);
  const allPurposes: MessagePurpose[] = ['otp', 'transactional', 'reminder', 'marketing'];
  for (let keyNumber = 1; keyNumber <= keyCount; keyNumber++) {
    const network = rng.pick(serverNetworks);
    const kind =
      keyNumber === 1 ? 'main' : rng.weightedPick(['service', 'staging', 'purpose'] as const, [45, 20, 35]);
    const purposes =
      kind === 'purpose'
        ? [
            rng.weightedPick(
              allPurposes,
              allPurposes.map((purpose) => purposeWeights[purpose] + 0.001),
            ),
          ]
        : allPurposes;
    const staging = kind === 'staging';
    const userAgent = rng.chance(0.6) ? mainUserAgent : senderUserAgent(rng);
    const key: ApiKeyProfile = {
      keyId: keyIdFor(accountId, keyNumber),
      owner: rng.chance(0.5) ? rng.pick(consoleUsers) : `platform@${emailDomain}`,
      createdAtMs: periodStartMs - Math.round(rng.uniform(20, 900) * dayMs),
      purposes,
      // Staging keys send a trickle of test messages from the office network.
      weight: staging ? 0.005 : kind === 'main' ? 1 : rng.uniform(0.2, 1),
      networks: [staging ? office.cidr : network.cidr],
      sourceIps: keyNetworkIps(rng, staging ? office : network),
      userAgent,
      allowedCountries: [...homeCountries],
    };
    if (rng.chance(0.04)) {
      key.userAgentUpgrade = {
        atMs: Math.round(rng.uniform(periodStartMs, periodEndMs)),
        userAgent: upgradedUserAgent(rng, userAgent),
      };
    }
    apiKeys.push(key);
  }
  if (rng.chance(0.04))
    apiKeys.push(thirdPartyKey(rng, accountId, apiKeys.length + 1, purposeWeights, primary, periodStartMs));

  let expansion: AccountProfile['expansion'];
  if (rng.chance(0.03)) {
    expansion = {
      country: pickCountry(rng, homeCountries),
      startMs: Math.round(rng.uniform(periodStartMs, periodEndMs)),
      share: rng.uniform(0.05, 0.2),
      poolSeed: rng.nextUint32(),
    };
  }

  const sendsOtp = purposeWeights.otp > 0;
  const businessCustomers = use === 'notifications' ? rng.chance(0.6) : rng.chance(0.15);
  const whatsappCountries = ['BR', 'IN', 'MX', 'ID', 'NG'];
  const supportPhone = primaryInfo.nanp
    ? `1-800-${rng.int(200, 999)}-${String(rng.int(0, 9999)).padStart(4, '0')}`
    : numberInPrefix(primaryInfo, rng.pick(primaryInfo.mobilePrefixes), rng.nextUint32());

  return {
    accountId,
    brand: brand.name,
    use,
    businessCustomers,
    weekendFactor: businessCustomers ? rng.uniform(0.3, 0.6) : rng.uniform(0.9, 1.15),
    language,
    utcOffsetMinutes,
    homeCountries,
    markets,
    roamingShare: rng.uniform(0.001, 0.008),
    ...(expansion === undefined ? {} : { expansion }),
    baseRatePerMinute,
    purposeWeights,
    linkDomain: brand.linkDomain,
    ...(brand.shortLinkDomain === undefined ? {} : { shortLinkDomain: brand.shortLinkDomain }),
    senders,
    serverNetworks: serverNetworks.map((network) => network.cidr),
    officeNetwork: office.cidr,
    apiKeys,
    templates,
    consoleUsers,
    mfaEnforced: rng.chance(0.85),
    ...(blast === undefined ? {} : { blast }),
    otpCodeLength: rng.weightedPick([6, 4, 5, 8], [75, 10, 5, 10]),
    otpConversionRate: rng.uniform(0.7, 0.9),
    reportsFeedback: sendsOtp && rng.chance(0.75),
    delivery: {
      filtered: rng.uniform(0.0005, 0.004),
      failed: rng.uniform(0.002, 0.01),
      undelivered: rng.uniform(0.01, 0.028),
      sentCallbacks: rng.chance(0.15),
      statusIncludesRecipient: rng.chance(0.7),
      feedbackIncludesRecipient: rng.chance(0.3),
    },
    optOutRate: rng.uniform(0.0015, 0.008),
    providerFlagsOptOuts: rng.chance(0.3),
    threadsReplies: rng.chance(0.5),
    bodyHashOnly: use !== 'marketing' && rng.chance(0.03),
    includesSegments: rng.chance(0.8),
    includesMetadata: rng.chance(0.5),
    whatsappShare:
      sendsOtp && whatsappCountries.includes(primary) && rng.chance(0.25) ? rng.uniform(0.1, 0.4) : 0,
    mmsShare: primary === 'US' && purposeWeights.marketing > 0 && rng.chance(0.15) ? 0.2 : 0,
    supportPhone,
  };
}

/** A key shared with an agency: its own network, an agreed country subset, one purpose. */
export function thirdPartyKey(
  rng: Prng,
  accountId: string,
  keyNumber: number,
  purposeWeights: Readonly<Record<MessagePurpose, number>>,
  country: string,
  periodStartMs: number,
): ApiKeyProfile {
  const agencyNetwork = rng.chance(0.5) ? hostingNetwork(rng) : serverNetwork(rng);
  const purpose: MessagePurpose =
    purposeWeights.marketing > 0 ? 'marketing' : purposeWeights.reminder > 0 ? 'reminder' : 'transactional';
  const agency = rng.pick(agencyNames);
  return {
    keyId: keyIdFor(accountId, keyNumber),
    owner: `integrations@${agency.toLowerCase().replace(/[^a-z]+/g, '')}.com`,
    thirdParty: agency,
    createdAtMs: periodStartMs - Math.round(rng.uniform(10, 300) * dayMs),
    purposes: [purpose],
    weight: rng.uniform(0.4, 1.2),
    networks: [agencyNetwork.cidr],
    sourceIps: keyNetworkIps(rng, agencyNetwork),
    userAgent: rng.chance(0.5)
      ? `Apache-HttpClient/4.5.${rng.int(12, 14)} (Java/17.0.${rng.int(5, 11)})`
      : senderUserAgent(rng),
    allowedCountries: [country],
  };
}
