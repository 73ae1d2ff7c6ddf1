/**
 * (c) A bad marketing campaign by the sender itself: a new pushy template sent with the usual key
 * from the usual servers to a list padded with bought numbers. Within minutes a tenth of the
 * recipients answer STOP (in every spelling), some angrily, and carriers begin to filter.
 */
import type { Language } from '../countries.ts';
import { fate, type MessageFate } from '../message-fate.ts';
import { compileTemplate } from '../message-template.ts';
import { randomMobileNumber } from '../phone-numbers.ts';
import { AttackSender, marketFor } from './attack-traffic.ts';
import {
  arrivals,
  clipToPeriod,
  keyInUseAt,
  minuteMs,
  overlapWithMinute,
  type Scenario,
  type ScenarioSetup,
  type ScenarioWorld,
  usualKeyOf,
} from './scenario.ts';

export interface OptOutStormOptions {
  accountId?: string;
  /** Recipients of the campaign (default 1,500–5,000). */
  recipients?: number;
  /** How long the campaign takes to send (default 15–40 min). */
  durationMs?: number;
  /** Share of recipients who opt out (default 5–15 %). */
  optOutShare?: number;
}

const pushyTexts: Readonly<Record<Language, readonly string[]>> = {
  en: [
    '{brand}: CONGRATS {name}!! You have been selected for an exclusive {amount} gift card. Claim now: {link}',
    '{brand}: LAST CHANCE!!! {percent}% off ends at midnight. Don’t miss out -> {link}',
    'Hey {name}, it’s {brand}! We noticed you haven’t shopped in a while... here is {percent}% off, today only: {link}',
  ],
  es: ['{brand}: ¡¡ÚLTIMA OPORTUNIDAD!! {percent}% de descuento hasta medianoche -> {link}'],
  pt: ['{brand}: ÚLTIMA CHANCE!!! {percent}% OFF só até meia-noite -> {link}'],
  fr: ['{brand} : DERNIÈRE CHANCE !!! -{percent}% jusqu’à minuit -> {link}'],
  de: ['{brand}: LETZTE CHANCE!!! {percent}% Rabatt nur bis Mitternacht -> {link}'],
};

/** Opt-outs keep arriving after the last message; the label covers them. */
const replyTailMs = 30 * minuteMs;

export function optOutStorm(setup: ScenarioSetup, options: OptOutStormOptions = {}): Scenario {
  const { rng, atMs } = setup;
  const account = setup.claimAccount(
    (candidate) => candidate.purposeWeights.marketing > 0 && !candidate.bodyHashOnly,
    {
      requestedId: options.accountId,
      prefer: (candidate) => candidate.blast === undefined,
    },
  );
  const recipients = Math.round((options.recipients ?? rng.int(1500, 5000)) * setup.attackRateMultiplier);
  const durationMs = options.durationMs ?? rng.uniform(15, 40) * minuteMs;
  const optOutShare = options.optOutShare ?? rng.uniform(0.05, 0.15);
  const sendEndMs = clipToPeriod(setup, atMs + durationMs);
  const marketingTemplate = account.templates.find((template) => template.purpose === 'marketing');
  const linkDomain = marketingTemplate?.linkDomain ?? account.linkDomain;
  const text = rng.pick(pushyTexts[account.language]);
  const template = compileTemplate(`tpl_${account.accountId.slice(5)}_storm`, 'marketing', text, linkDomain);
  const usualKey = usualKeyOf(account, 'marketing');
  const apiKeyId = keyInUseAt(account, usualKey.keyId, atMs);
  const campaignId = `cmp_${account.accountId.slice(5)}_${rng.int(100, 999)}`;
  const boughtShare = rng.uniform(0.5, 0.8);
  const stormFate: MessageFate = fate({
    undelivered: 0.05,
    failed: 0.008,
    // Opt-outs only come from delivered messages; scale so the share of all recipients is as asked.
    optOut: Math.min(0.5, optOutShare / 0.93),
    reply: 0.015,
    suspiciousReplies: true,
    optOutDelayMedianSeconds: 100,
  });
  const ratePerSecond = (recipients / Math.max(1, sendEndMs - atMs)) * 1000;
  const sender = new AttackSender();

  return {
    label: {
      scenario: 'opt_out_storm',
      accountIds: [account.accountId],
      apiKeyIds: [apiKeyId],
      startMs: atMs,
      endMs: clipToPeriod(setup, sendEndMs + replyTailMs),
      mustDetect: true,
      expectedKinds: ['opt_out_spike', 'content_burst'],
      description:
        `Bad campaign ${campaignId} by ${account.accountId}: new pushy template to ~${recipients} recipients ` +
        `(${Math.round(boughtShare * 100)}% bought numbers) with the usual key ${apiKeyId}; ` +
        `~${Math.round(optOutShare * 100)}% reply STOP within minutes.`,
    },
    emitMinute(world: ScenarioWorld, minuteStartMs: number): void {
      const window = overlapWithMinute(minuteStartMs, atMs, sendEndMs);
      if (window === undefined) return;
      const runtime = world.runtime(account.accountId);
      stormFate.filtered = Math.min(0.08, 0.005 + (0.004 * (minuteStartMs - atMs)) / minuteMs);
      const key = runtime.currentKey(usualKey, minuteStartMs);
      const userAgent = runtime.userAgentOf(key, minuteStartMs);
      for (const at of arrivals(rng, window.fromMs, window.toMs, () => ratePerSecond)) {
        const market =
          runtime.markets[rng.cumulativeIndex(runtime.marketCumulativeShares)] ?? runtime.primary;
        const to = rng.chance(boughtShare)
          ? randomMobileNumber(rng, market.info)
          : runtime.nextSubscriber(market);
        sender.send(world, rng, {
          account: runtime,
          timeMs: at,
          apiKeyId: key.keyId,
          sourceIp: rng.pick(key.sourceIps),
          userAgent,
          to,
          country: marketFor(runtime, market.info.code).info,
          template,
          purpose: 'marketing',
          fate: stormFate,
          campaignId,
          viaAccountSoftware: true,
        });
      }
    },
  };
}
