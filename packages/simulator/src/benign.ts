/**
 * Benign message traffic, one simulated minute at a time. Per account and market the count is
 * Poisson with rate = base × diurnal(local time) × weekday × slow noise × occasional legitimate surge,
 * plus scheduled blasts, travelling recipients and launches in new markets. Draws come only from the
 * benign stream, so an attack injected into some accounts leaves every other account's traffic as is.
 */
import { type AccountRuntime, type MarketRuntime, purposes } from './account-runtime.ts';
import type { ApiKeyProfile } from './accounts.ts';
import { countryInfo, homeCountryCodes } from './countries.ts';
import { diurnalFactor, localMinuteOfDay, localWeekday } from './diurnal.ts';
import { fate } from './message-fate.ts';
import { type CompiledTemplate, type MessagePurpose, renderTemplate } from './message-template.ts';
import { randomMobileNumber } from './phone-numbers.ts';
import type { Prng } from './prng.ts';
import { emptyOutboundSpec, type OutboundSpec, type TrafficWriter } from './traffic-writer.ts';

const minuteMs = 60_000;
const dayMs = 86_400_000;
/** Mean reversion and step of the log-rate random walk: stationary spread ≈ 0.3 in log space. */
const noiseReversion = 0.01;
const noiseStep = 0.042;
/** Legitimate surges (a TV spot, a login storm, an outage notice): about one per account every 3 days. */
const surgeStartProbability = 1 / (3 * 1440);
/** Launch of a new market ramps up over six hours. */
const expansionRampMs = 6 * 3_600_000;
/** Same message submitted twice (client retry with a new request id, double-click). */
const duplicateSendProbability = 0.0005;

export interface BlastOccurrence {
  readonly accountId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly campaignId: string;
}

function isoDay(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 10).replaceAll('-', '');
}

/** Every occurrence of an account's blast schedule that starts inside [startMs, endMs). */
export function blastOccurrences(account: AccountRuntime, startMs: number, endMs: number): BlastOccurrence[] {
  const blast = account.profile.blast;
  if (blast === undefined) return [];
  const offsetMs = account.primary.utcOffsetMinutes * minuteMs;
  const occurrences: BlastOccurrence[] = [];
  // Walk local days from the day before the period so an occurrence at its very start is not missed.
  const firstLocalDay = Math.floor((startMs + offsetMs) / dayMs) - 1;
  const lastLocalDay = Math.floor((endMs + offsetMs) / dayMs);
  for (let localDay = firstLocalDay; localDay <= lastLocalDay; localDay++) {
    const weekday = (((localDay + 4) % 7) + 7) % 7;
    if (blast.periodDays === 7 && weekday !== blast.localWeekday) continue;
    const occurrenceStart = localDay * dayMs + blast.localStartMinute * minuteMs - offsetMs;
    if (occurrenceStart < startMs || occurrenceStart >= endMs) continue;
    occurrences.push({
      accountId: account.profile.accountId,
      startMs: occurrenceStart,
      endMs: occurrenceStart + blast.durationMinutes * minuteMs,
      campaignId: `cmp_${account.profile.accountId.slice(5)}_${isoDay(occurrenceStart + offsetMs)}`,
    });
  }
  return occurrences;
}

interface AccountBlasts {
  readonly account: AccountRuntime;
  readonly occurrences: readonly BlastOccurrence[];
  next: number;
}

export class BenignTraffic {
  readonly #accounts: readonly AccountRuntime[];
  readonly #writer: TrafficWriter;
  readonly #rng: Prng;
  readonly #blasts: AccountBlasts[];
  readonly #spec: OutboundSpec;
  readonly #roamingFate = fate({ undelivered: 0.03 });

  constructor(
    accounts: readonly AccountRuntime[],
    writer: TrafficWriter,
    rng: Prng,
    startMs: number,
    endMs: number,
  ) {
    this.#accounts = accounts;
    this.#writer = writer;
    this.#rng = rng;
    this.#blasts = accounts
      .map((account) => ({ account, occurrences: blastOccurrences(account, startMs, endMs), next: 0 }))
      .filter((entry) => entry.occurrences.length > 0);
    const first = accounts[0];
    if (first === undefined) throw new RangeError('benign traffic needs at least one account');
    this.#spec = emptyOutboundSpec(first, this.#roamingFate);
  }

  /** All blast occurrences of all accounts in the period (scheduled marketing, benign). */
  get blastOccurrences(): BlastOccurrence[] {
    return this.#blasts.flatMap((entry) => entry.occurrences);
  }

  emitMinute(minuteStartMs: number): void {
    const rng = this.#rng;
    for (const account of this.#accounts) {
      const profile = account.profile;
      account.logNoise = account.logNoise * (1 - noiseReversion) + noiseStep * rng.normal();
      if (minuteStartMs >= account.surgeUntilMs) {
        account.surgeMultiplier = 1;
        if (rng.chance(surgeStartProbability)) {
          account.surgeMultiplier = rng.uniform(2, 4);
          account.surgeUntilMs = minuteStartMs + Math.round(rng.logNormal(15, 0.6)) * minuteMs;
        }
      }
      const weekday = localWeekday(minuteStartMs, account.primary.utcOffsetMinutes);
      const weekFactor = weekday === 0 || weekday === 6 ? profile.weekendFactor : 1;
      const rate =
        profile.baseRatePerMinute * weekFactor * Math.exp(account.logNoise) * account.surgeMultiplier;

      for (const market of account.markets) {
        const local = localMinuteOfDay(minuteStartMs, market.utcOffsetMinutes);
        const count = rng.poisson(rate * market.share * diurnalFactor(profile.use, local));
        for (let index = 0; index < count; index++) {
          this.#sendRegular(account, market, minuteStartMs + rng.int(0, minuteMs - 1));
        }
      }

      const primaryLocal = localMinuteOfDay(minuteStartMs, account.primary.utcOffsetMinutes);
      const roaming = rng.poisson(rate * profile.roamingShare * diurnalFactor(profile.use, primaryLocal));
      for (let index = 0; index < roaming; index++) {
        this.#sendRoaming(account, minuteStartMs + rng.int(0, minuteMs - 1));
      }

      const expansion = account.expansionMarket;
      if (
        expansion !== undefined &&
        profile.expansion !== undefined &&
        minuteStartMs >= profile.expansion.startMs
      ) {
        const ramp = Math.min(1, (minuteStartMs - profile.expansion.startMs) / expansionRampMs);
        const local = localMinuteOfDay(minuteStartMs, expansion.utcOffsetMinutes);
        const count = rng.poisson(rate * expansion.share * ramp * diurnalFactor(profile.use, local));
        for (let index = 0; index < count; index++) {
          this.#sendRegular(account, expansion, minuteStartMs + rng.int(0, minuteMs - 1));
        }
      }
    }
    this.#emitBlasts(minuteStartMs);
  }

  #emitBlasts(minuteStartMs: number): void {
    const rng = this.#rng;
    for (const entry of this.#blasts) {
      let occurrence = entry.occurrences[entry.next];
      while (occurrence !== undefined && occurrence.endMs <= minuteStartMs) {
        entry.next++;
        occurrence = entry.occurrences[entry.next];
      }
      if (occurrence === undefined || occurrence.startMs >= minuteStartMs + minuteMs) continue;
      const account = entry.account;
      const blast = account.profile.blast;
      if (blast === undefined) continue;
      const windowStart = Math.max(minuteStartMs, occurrence.startMs);
      const windowEnd = Math.min(minuteStartMs + minuteMs, occurrence.endMs);
      const ratePerMs = (account.profile.baseRatePerMinute * blast.multiplier) / minuteMs;
      const count = rng.poisson(ratePerMs * (windowEnd - windowStart));
      const template = account.compiledById.get(blast.templateId);
      if (template === undefined) continue;
      for (let index = 0; index < count; index++) {
        const market = account.markets[rng.cumulativeIndex(account.marketCumulativeShares)] as MarketRuntime;
        const timeMs = windowStart + rng.int(0, windowEnd - windowStart - 1);
        const recipient = account.nextSubscriber(market);
        // A campaign tool sends the whole blast with the one key it is configured with.
        const key = account.currentKey(account.usualKey('marketing'), timeMs);
        this.#send(account, market, timeMs, 'marketing', template, recipient, occurrence.campaignId, key);
      }
    }
  }

  #sendRegular(account: AccountRuntime, market: MarketRuntime, timeMs: number): void {
    const rng = this.#rng;
    const purposeIndex = rng.cumulativeIndex(account.purposeCumulativeWeights);
    const purpose = purposes[purposeIndex] as MessagePurpose;
    const template = account.pickTemplate(rng, purposeIndex, timeMs);
    if (template === undefined) return;
    let recipient = account.pickRecipient(rng, market, purpose);
    // Most senders suppress opted-out numbers themselves; the rest learn it from the provider's error.
    if (account.optedOutBefore(recipient, timeMs) && rng.chance(0.7)) {
      recipient = account.pickRecipient(rng, market, purpose);
    }
    this.#send(account, market, timeMs, purpose, template, recipient, undefined);
  }

  #sendRoaming(account: AccountRuntime, timeMs: number): void {
    const rng = this.#rng;
    const profile = account.profile;
    let country = rng.pick(homeCountryCodes);
    if (profile.homeCountries.includes(country)) country = rng.pick(homeCountryCodes);
    const purposeIndex = rng.cumulativeIndex(account.purposeCumulativeWeights);
    const purpose = purposes[purposeIndex] as MessagePurpose;
    const template = account.pickTemplate(rng, purposeIndex, timeMs);
    if (template === undefined) return;
    const info = countryInfo(country);
    const key = account.pickKey(rng, purposeIndex, country, timeMs);
    const spec = this.#spec;
    spec.account = account;
    spec.timeMs = timeMs;
    spec.apiKeyId = key.keyId;
    spec.sourceIp = rng.pick(key.sourceIps);
    spec.userAgent = account.userAgentOf(key, timeMs);
    spec.from = account.primary.sender.address;
    spec.replyAddress = account.primary.sender.replyAddress;
    spec.to = randomMobileNumber(rng, info);
    spec.carriers = info.carriers;
    spec.language = profile.language;
    spec.channel = 'sms';
    spec.body = renderTemplate(template, account.primary.renderContext, rng);
    spec.purpose = purpose;
    spec.campaignId = undefined;
    spec.withMetadata = true;
    const messageFate = account.purposeFate(account.primary, purpose);
    this.#roamingFate.conversion = messageFate.conversion;
    this.#roamingFate.optOut = messageFate.optOut;
    this.#roamingFate.reply = messageFate.reply;
    spec.fate = this.#roamingFate;
    this.#writer.send(rng, spec);
  }

  #send(
    account: AccountRuntime,
    market: MarketRuntime,
    timeMs: number,
    purpose: MessagePurpose,
    template: CompiledTemplate,
    recipient: string,
    campaignId: string | undefined,
    fixedKey?: ApiKeyProfile,
  ): void {
    const rng = this.#rng;
    const profile = account.profile;
    const key = fixedKey ?? account.pickKey(rng, purposes.indexOf(purpose), market.info.code, timeMs);
    const spec = this.#spec;
    spec.account = account;
    spec.timeMs = timeMs;
    spec.apiKeyId = key.keyId;
    spec.sourceIp = key.sourceIps.length === 1 ? (key.sourceIps[0] as string) : rng.pick(key.sourceIps);
    spec.userAgent = account.userAgentOf(key, timeMs);
    spec.from = market.sender.address;
    spec.replyAddress = market.sender.replyAddress;
    spec.to = recipient;
    spec.carriers = market.info.carriers;
    spec.language = profile.language;
    spec.channel =
      purpose === 'otp' && profile.whatsappShare > 0 && rng.chance(profile.whatsappShare)
        ? 'whatsapp'
        : purpose === 'marketing' && profile.mmsShare > 0 && rng.chance(profile.mmsShare)
          ? 'mms'
          : 'sms';
    spec.body = renderTemplate(template, market.renderContext, rng);
    spec.purpose = purpose;
    spec.campaignId = campaignId;
    spec.withMetadata = true;
    spec.fate = account.purposeFate(market, purpose);
    const outcome = this.#writer.send(rng, spec);

    if (purpose === 'otp' && !outcome.converted && rng.chance(spec.fate.resend)) {
      // The user did not get or did not enter the code and asks for a new one.
      spec.timeMs = timeMs + rng.int(30_000, 90_000);
      spec.body = renderTemplate(template, market.renderContext, rng);
      this.#writer.send(rng, spec);
    } else if (rng.chance(duplicateSendProbability)) {
      spec.timeMs = timeMs + rng.int(200, 3000);
      this.#writer.send(rng, spec);
    }
  }
}
