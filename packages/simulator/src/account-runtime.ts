/**
 * The working state behind one account profile while traffic is generated: compiled templates,
 * pick tables, per-market fates, recipient populations and the few things that change over time
 * (rate noise, surges, opt-outs). Built once per simulation; the profile itself is never mutated here.
 */
import type { AccountProfile, ApiKeyProfile, MarketProfile, SenderProfile } from './accounts.ts';
import { type CountryInfo, countryInfo } from './countries.ts';
import { fate, type MessageFate } from './message-fate.ts';
import {
  type CompiledTemplate,
  compileTemplate,
  type MessagePurpose,
  type RenderContext,
} from './message-template.ts';
import { mobileNumberFor } from './phone-numbers.ts';
import type { Prng } from './prng.ts';

export const purposes: readonly MessagePurpose[] = ['otp', 'transactional', 'reminder', 'marketing'];

export interface MarketRuntime {
  readonly info: CountryInfo;
  readonly share: number;
  readonly poolSize: number;
  readonly poolSeed: number;
  readonly utcOffsetMinutes: number;
  readonly sender: SenderProfile;
  readonly renderContext: RenderContext;
  /** Fate per purpose, in `purposes` order. */
  readonly fates: readonly MessageFate[];
  /** Recipients who were not in the population before (sign-ups, new subscribers). */
  newRecipients: number;
}

interface TemplateChoice {
  readonly templates: readonly CompiledTemplate[];
  readonly activeFromMs: readonly number[];
  readonly cumulativeWeights: Float64Array;
}

interface KeyChoice {
  readonly keys: readonly ApiKeyProfile[];
  readonly cumulativeWeights: Float64Array;
}

function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let total = 0;
  for (let index = 0; index < weights.length; index++) {
    total += weights[index] as number;
    out[index] = total;
  }
  return out;
}

export class AccountRuntime {
  readonly profile: AccountProfile;
  readonly markets: readonly MarketRuntime[];
  readonly marketCumulativeShares: Float64Array;
  readonly purposeCumulativeWeights: Float64Array;
  readonly primary: MarketRuntime;
  readonly compiledById: ReadonlyMap<string, CompiledTemplate>;
  readonly #templatesByPurpose: readonly TemplateChoice[];
  readonly #keysByPurpose: readonly KeyChoice[];
  readonly #keysById: ReadonlyMap<string, ApiKeyProfile>;
  /** Recipient → time of their opt-out. */
  readonly optOuts = new Map<string, number>();
  /** Log of the slowly wandering rate multiplier (mean-reverting random walk). */
  logNoise = 0;
  surgeUntilMs = 0;
  surgeMultiplier = 1;
  blastCursor = 0;
  expansionMarket: MarketRuntime | undefined;

  constructor(profile: AccountProfile) {
    this.profile = profile;
    const marketFates = (info: CountryInfo): MessageFate[] => this.#fates(info);
    this.markets = profile.markets.map((market) =>
      this.#market(market, marketFates(countryInfo(market.country))),
    );
    this.primary = this.markets[0] as MarketRuntime;
    this.marketCumulativeShares = cumulative(this.markets.map((market) => market.share));
    this.purposeCumulativeWeights = cumulative(purposes.map((purpose) => profile.purposeWeights[purpose]));
    if (profile.expansion !== undefined) {
      const info = countryInfo(profile.expansion.country);
      this.expansionMarket = this.#market(
        {
          country: info.code,
          share: profile.expansion.share,
          poolSize: Math.max(40, Math.round(profile.baseRatePerMinute * 1440 * profile.expansion.share)),
          poolSeed: profile.expansion.poolSeed,
          utcOffsetMinutes: info.utcOffsetsMinutes[0] as number,
        },
        marketFates(info),
      );
    }

    const compiled = new Map<string, CompiledTemplate>();
    for (const template of profile.templates) {
      compiled.set(
        template.templateId,
        compileTemplate(template.templateId, template.purpose, template.text, template.linkDomain),
      );
    }
    this.compiledById = compiled;
    this.#templatesByPurpose = purposes.map((purpose) => {
      const own = profile.templates.filter((template) => template.purpose === purpose);
      return {
        templates: own.map((template) => compiled.get(template.templateId) as CompiledTemplate),
        activeFromMs: own.map((template) => template.activeFromMs ?? Number.NEGATIVE_INFINITY),
        cumulativeWeights: cumulative(own.map((template) => template.weight)),
      };
    });
    this.#keysById = new Map(profile.apiKeys.map((key) => [key.keyId, key]));
    this.#keysByPurpose = this.#keyChoices();
  }

  #market(market: MarketProfile, fates: readonly MessageFate[]): MarketRuntime {
    const info = countryInfo(market.country);
    const sender =
      this.profile.senders.find((candidate) => candidate.country === market.country) ??
      (this.profile.senders[0] as SenderProfile);
    return {
      info,
      share: market.share,
      poolSize: market.poolSize,
      poolSeed: market.poolSeed,
      utcOffsetMinutes: market.utcOffsetMinutes,
      sender,
      renderContext: {
        brand: this.profile.brand,
        country: info,
        language: this.profile.language,
        codeLength: this.profile.otpCodeLength,
        supportPhone: this.profile.supportPhone,
      },
      fates,
      newRecipients: 0,
    };
  }

  #fates(info: CountryInfo): MessageFate[] {
    const { delivery, otpConversionRate, reportsFeedback, optOutRate } = this.profile;
    const base = {
      filtered: delivery.filtered,
      failed: delivery.failed,
      undelivered: delivery.undelivered + info.undeliveredBias,
    };
    const byPurpose: Record<MessagePurpose, MessageFate> = {
      otp: fate({
        ...base,
        conversion: reportsFeedback ? otpConversionRate : undefined,
        resend: 0.25,
        optOut: 0.0001,
        reply: 0.0004,
      }),
      transactional: fate({ ...base, optOut: 0.0003, reply: 0.002 }),
      reminder: fate({ ...base, optOut: 0.0005, reply: 0.003, confirm: 0.2 }),
      marketing: fate({ ...base, filtered: base.filtered * 1.5, optOut: optOutRate, reply: 0.002 }),
    };
    return purposes.map((purpose) => byPurpose[purpose]);
  }

  #keyChoices(): KeyChoice[] {
    // Rotated-in keys inherit their predecessor's traffic, so they are reached through `replacedBy`.
    const original = this.profile.apiKeys.filter((key) => key.activeFromMs === undefined);
    return purposes.map((purpose) => {
      let keys = original.filter((key) => key.purposes.includes(purpose));
      if (keys.length === 0) keys = original.slice(0, 1);
      return { keys, cumulativeWeights: cumulative(keys.map((key) => key.weight)) };
    });
  }

  /** The key a message of `purpose` to `country` goes out with at `timeMs`. */
  pickKey(rng: Prng, purposeIndex: number, country: string, timeMs: number): ApiKeyProfile {
    const choice = this.#keysByPurpose[purposeIndex] as KeyChoice;
    let key = choice.keys[rng.cumulativeIndex(choice.cumulativeWeights)] as ApiKeyProfile;
    if (key.thirdParty !== undefined && !key.allowedCountries.includes(country)) {
      // Partners send only where agreed; everything else goes through the sender's own key.
      key = this.mainKey();
    }
    return this.currentKey(key, timeMs);
  }

  /** Follows rotations: the key that carries `key`'s traffic at `timeMs`. */
  currentKey(key: ApiKeyProfile, timeMs: number): ApiKeyProfile {
    let current = key;
    while (current.replacedBy !== undefined && timeMs >= current.replacedBy.atMs) {
      const next = this.#keysById.get(current.replacedBy.keyId);
      if (next === undefined) break;
      current = next;
    }
    return current;
  }

  mainKey(): ApiKeyProfile {
    return this.profile.apiKeys[0] as ApiKeyProfile;
  }

  /** The key most of `purpose`'s traffic goes through (what a sign-up form or a campaign tool uses). */
  usualKey(purpose: MessagePurpose): ApiKeyProfile {
    const choice = this.#keysByPurpose[purposes.indexOf(purpose)] as KeyChoice;
    let best = choice.keys[0] as ApiKeyProfile;
    for (const key of choice.keys) {
      if (key.weight > best.weight && key.thirdParty === undefined) best = key;
    }
    return best;
  }

  userAgentOf(key: ApiKeyProfile, timeMs: number): string {
    const upgrade = key.userAgentUpgrade;
    return upgrade !== undefined && timeMs >= upgrade.atMs ? upgrade.userAgent : key.userAgent;
  }

  /** A template of `purpose` live at `timeMs`; templates introduced later fall back to the first. */
  pickTemplate(rng: Prng, purposeIndex: number, timeMs: number): CompiledTemplate | undefined {
    const choice = this.#templatesByPurpose[purposeIndex] as TemplateChoice;
    if (choice.templates.length === 0) return undefined;
    const index = rng.cumulativeIndex(choice.cumulativeWeights);
    if ((choice.activeFromMs[index] as number) > timeMs) return choice.templates[0];
    return choice.templates[index];
  }

  /**
   * A recipient from the market's population: OTP users skew towards frequent users, others are
   * uniform; a few are new each time (sign-ups, new customers).
   */
  pickRecipient(rng: Prng, market: MarketRuntime, purpose: MessagePurpose): string {
    let index: number;
    if (rng.chance(purpose === 'otp' ? 0.05 : 0.03)) {
      index = market.poolSize + market.newRecipients++;
    } else {
      const draw = rng.next();
      index = Math.floor(market.poolSize * (purpose === 'otp' ? draw ** 1.6 : draw));
    }
    return mobileNumberFor(market.info, market.poolSeed, index);
  }

  /** The next subscriber in list order, for blasts that go to each subscriber once. */
  nextSubscriber(market: MarketRuntime): string {
    const index = (this.blastCursor++ * 7919) % market.poolSize;
    return mobileNumberFor(market.info, market.poolSeed, index);
  }

  optedOutBefore(recipient: string, timeMs: number): boolean {
    const optOutMs = this.optOuts.get(recipient);
    return optOutMs !== undefined && optOutMs <= timeMs;
  }

  purposeFate(market: MarketRuntime, purpose: MessagePurpose): MessageFate {
    return market.fates[purposes.indexOf(purpose)] as MessageFate;
  }
}
