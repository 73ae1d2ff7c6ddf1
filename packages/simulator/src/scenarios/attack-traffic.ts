/**
 * Writing abusive messages through a victim account: the account's own senders and delivery path,
 * with the attacker's key, address, client and content. Abuse goes through the same writer as
 * benign traffic, so event shapes never give it away; only what the attacker chooses differs.
 */
import type { AccountRuntime, MarketRuntime } from '../account-runtime.ts';
import { type CountryInfo, countryInfo } from '../countries.ts';
import type { MessageFate } from '../message-fate.ts';
import {
  type CompiledTemplate,
  type MessagePurpose,
  type RenderContext,
  renderTemplate,
} from '../message-template.ts';
import type { Prng } from '../prng.ts';
import { emptyOutboundSpec, type OutboundSpec, type SendOutcome } from '../traffic-writer.ts';
import type { ScenarioWorld } from './scenario.ts';

export interface AttackMessage {
  readonly account: AccountRuntime;
  readonly timeMs: number;
  readonly apiKeyId: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly to: string;
  readonly country: CountryInfo;
  readonly template: CompiledTemplate;
  readonly purpose: MessagePurpose;
  readonly fate: MessageFate;
  readonly campaignId?: string;
  /** Country whose currency and names the text uses (a lure keeps its own), else the recipient's. */
  readonly textCountry?: CountryInfo;
  /** True when the account's own software sends (abused public form), false for attacker scripts. */
  readonly viaAccountSoftware: boolean;
}

/** The market of `country` if the account serves it, else its primary market (same sender id). */
export function marketFor(account: AccountRuntime, country: string): MarketRuntime {
  return account.markets.find((market) => market.info.code === country) ?? account.primary;
}

const contextCache = new WeakMap<AccountRuntime, Map<string, RenderContext>>();

/** Rendering context for the account's brand with amounts and names of the recipient's country. */
export function renderContextFor(account: AccountRuntime, country: CountryInfo): RenderContext {
  let byCountry = contextCache.get(account);
  if (byCountry === undefined) {
    byCountry = new Map();
    contextCache.set(account, byCountry);
  }
  let context = byCountry.get(country.code);
  if (context === undefined) {
    context = { ...account.primary.renderContext, country };
    byCountry.set(country.code, context);
  }
  return context;
}

export class AttackSender {
  #spec: OutboundSpec | undefined;

  send(world: ScenarioWorld, rng: Prng, message: AttackMessage): SendOutcome {
    const account = message.account;
    const spec = this.#spec ?? emptyOutboundSpec(account, message.fate);
    this.#spec = spec;
    const market = marketFor(account, message.country.code);
    spec.account = account;
    spec.timeMs = message.timeMs;
    spec.apiKeyId = message.apiKeyId;
    spec.sourceIp = message.sourceIp;
    spec.userAgent = message.userAgent;
    spec.from = market.sender.address;
    spec.replyAddress = market.sender.replyAddress;
    spec.to = message.to;
    spec.carriers = message.country.carriers;
    spec.language = message.country.language;
    spec.channel = 'sms';
    spec.body = renderTemplate(
      message.template,
      renderContextFor(account, message.textCountry ?? message.country),
      rng,
    );
    spec.purpose = message.purpose;
    spec.campaignId = message.campaignId;
    spec.withMetadata = message.viaAccountSoftware;
    spec.fate = message.fate;
    return world.writer.send(rng, spec);
  }
}

/** Destination country for untargeted abuse: mostly the account's markets, some others. */
export function attackCountry(
  rng: Prng,
  account: AccountRuntime,
  foreignShare: number,
  foreign: readonly string[],
): CountryInfo {
  if (rng.chance(foreignShare)) return countryInfo(rng.pick(foreign));
  return (account.markets[rng.cumulativeIndex(account.marketCumulativeShares)] as MarketRuntime).info;
}
