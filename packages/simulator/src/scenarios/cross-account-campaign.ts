/**
 * (f) One smishing campaign through many compromised accounts at once: the same lure and link
 * domain with small variations, each account at a modest rate (small on its own), some through keys
 * the attacker just created, from a shared pool of proxies. Obvious only across accounts.
 */
import { type AccountProfile, keyIdFor } from '../accounts.ts';
import { countryInfo } from '../countries.ts';
import { fate, type MessageFate } from '../message-fate.ts';
import { hostIn, hostingNetwork, residentialNetwork } from '../networks.ts';
import { randomMobileNumber } from '../phone-numbers.ts';
import { attackerUserAgent, browserUserAgent, scriptingUserAgent } from '../user-agents.ts';
import { AttackSender } from './attack-traffic.ts';
import { campaignLure } from './lures.ts';
import {
  AuditPlan,
  arrivals,
  clipToPeriod,
  keyInUseAt,
  keysLiveDuring,
  minuteMs,
  overlapWithMinute,
  ramp,
  type Scenario,
  type ScenarioSetup,
  type ScenarioWorld,
} from './scenario.ts';

export interface CrossAccountCampaignOptions {
  /** Accounts used (default 6–15). */
  accountCount?: number;
  /** Specific accounts to use (overrides `accountCount`). */
  accountIds?: string[];
  /** Country the campaign targets (default US, GB or CA). */
  country?: string;
  /** Window in which the accounts start (default 30 min). */
  windowMs?: number;
  /** Per-account rate range in messages per second (default [0.5, 3]). */
  ratePerSecond?: [number, number];
  /** Per-account sending time (default 10–30 min). */
  durationMs?: number;
}

interface Participant {
  readonly account: AccountProfile;
  readonly apiKeyId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly ratePerSecond: number;
  readonly sourceIps: readonly string[];
  readonly userAgent: string;
}

export function crossAccountCampaign(
  setup: ScenarioSetup,
  options: CrossAccountCampaignOptions = {},
): Scenario {
  const { rng, atMs } = setup;
  const count = options.accountIds?.length ?? options.accountCount ?? rng.int(6, 15);
  const windowMs = options.windowMs ?? 30 * minuteMs;
  const [minRate, maxRate] = options.ratePerSecond ?? [0.5, 3];
  const target = options.country ?? rng.weightedPick(['US', 'GB', 'CA'], [6, 3, 1]);
  const targetCountry = countryInfo(target);
  const lure = campaignLure(rng, target);
  // One crew, one toolkit: a shared proxy pool and mostly the same client.
  const proxies: string[] = [];
  for (let index = rng.int(5, 12); index > 0; index--) {
    proxies.push(hostIn(rng, rng.chance(0.6) ? hostingNetwork(rng) : residentialNetwork(rng)));
  }
  const toolAgent = scriptingUserAgent(rng);
  const audits = new AuditPlan();
  const participants: Participant[] = [];
  for (let index = 0; index < count; index++) {
    const account = setup.claimAccount((candidate) => !candidate.bodyHashOnly, {
      requestedId: options.accountIds?.[index],
      prefer: (candidate) => candidate.baseRatePerMinute < 30,
    });
    const startMs = Math.round(atMs + rng.uniform(0, windowMs * 0.8));
    const endMs = clipToPeriod(setup, startMs + (options.durationMs ?? rng.uniform(10, 30) * minuteMs));
    const sourceIps = Array.from({ length: rng.int(1, 3) }, () => rng.pick(proxies));
    let apiKeyId: string;
    let usualAgent = account.apiKeys[0]?.userAgent ?? toolAgent;
    const live = keysLiveDuring(account, startMs, endMs);
    if (live.length === 0 || rng.chance(0.4)) {
      apiKeyId = keyIdFor(account.accountId, setup.allocateKeyNumber(account));
      const consoleIp = rng.pick(proxies);
      const consoleAgent = browserUserAgent(rng);
      const actor = rng.pick(account.consoleUsers);
      const loginMs = startMs - rng.int(3, 20) * minuteMs;
      audits.add({
        accountId: account.accountId,
        timeMs: loginMs,
        actor,
        action: 'login',
        mfaUsed: false,
        sourceIp: consoleIp,
        userAgent: consoleAgent,
      });
      audits.add({
        accountId: account.accountId,
        timeMs: loginMs + rng.int(30, 120) * 1000,
        actor,
        action: 'api_key_created',
        mfaUsed: false,
        sourceIp: consoleIp,
        userAgent: consoleAgent,
        targetApiKeyId: apiKeyId,
      });
    } else {
      const leaked = rng.pick(live);
      apiKeyId = keyInUseAt(account, leaked.keyId, startMs);
      usualAgent = leaked.userAgent;
    }
    participants.push({
      account,
      apiKeyId,
      startMs,
      endMs,
      ratePerSecond: rng.uniform(minRate, maxRate) * setup.attackRateMultiplier,
      sourceIps,
      userAgent: rng.chance(0.7) ? toolAgent : attackerUserAgent(rng, usualAgent),
    });
  }
  const campaignFate: MessageFate = fate({
    undelivered: 0.05,
    failed: 0.01,
    optOut: 0.008,
    reply: 0.006,
    suspiciousReplies: true,
    optOutDelayMedianSeconds: 150,
  });
  const sender = new AttackSender();
  const firstAuditMs = audits.entries.reduce((earliest, entry) => Math.min(earliest, entry.timeMs), atMs);
  const endMs = participants.reduce((latest, participant) => Math.max(latest, participant.endMs), atMs);

  return {
    label: {
      scenario: 'cross_account_campaign',
      accountIds: participants.map((participant) => participant.account.accountId),
      apiKeyIds: participants.map((participant) => participant.apiKeyId),
      startMs: clipToPeriod(setup, firstAuditMs),
      endMs,
      mustDetect: true,
      expectedKinds: [
        'cross_account_campaign',
        'content_burst',
        'new_link_domain',
        'credential_anomaly',
        'volume_spike',
      ],
      description:
        `'${lure.family}' smishing via ${lure.domain} to ${target} through ${participants.length} accounts ` +
        `at ${minRate}-${maxRate} msg/s each, from a pool of ${proxies.length} proxies.`,
    },
    emitMinute(world: ScenarioWorld, minuteStartMs: number): void {
      audits.emitMinute(world, minuteStartMs);
      campaignFate.filtered = Math.min(0.3, 0.01 + (0.01 * Math.max(0, minuteStartMs - atMs)) / minuteMs);
      for (const participant of participants) {
        const window = overlapWithMinute(minuteStartMs, participant.startMs, participant.endMs);
        if (window === undefined) continue;
        const runtime = world.runtime(participant.account.accountId);
        const rate = (at: number): number =>
          participant.ratePerSecond * ramp(at, participant.startMs, 60_000);
        for (const at of arrivals(rng, window.fromMs, window.toMs, rate)) {
          const country = rng.chance(0.75)
            ? targetCountry
            : (runtime.markets[rng.cumulativeIndex(runtime.marketCumulativeShares)] ?? runtime.primary).info;
          sender.send(world, rng, {
            account: runtime,
            timeMs: at,
            apiKeyId: participant.apiKeyId,
            sourceIp: rng.pick(participant.sourceIps),
            userAgent: participant.userAgent,
            to: randomMobileNumber(rng, country),
            country,
            template: rng.pick(lure.variants),
            purpose: 'transactional',
            fate: campaignFate,
            textCountry: targetCountry,
            viaAccountSoftware: false,
          });
        }
      }
    },
  };
}
