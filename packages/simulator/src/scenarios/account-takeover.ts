/**
 * (a) Console takeover: failed logins, a login without MFA from a hosting network, MFA switched off
 * and/or a new key created, then minutes later a smishing blast through that key (or an existing
 * one read from the console) ramping to tens of messages a second to many fresh recipients.
 */
import { keyIdFor } from '../accounts.ts';
import { countryInfo } from '../countries.ts';
import { fate, type MessageFate } from '../message-fate.ts';
import { hostIn, hostingNetwork } from '../networks.ts';
import { randomMobileNumber } from '../phone-numbers.ts';
import { attackerUserAgent, browserUserAgent } from '../user-agents.ts';
import { AttackSender, attackCountry } from './attack-traffic.ts';
import { phishingLure } from './lures.ts';
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

export interface AccountTakeoverOptions {
  accountId?: string;
  /** Peak rate of the blast in messages per second (default 20–60). */
  peakRatePerSecond?: number;
  /** From the first message to the peak rate (default 60–120 s). */
  rampMs?: number;
  /** Length of the blast (default 15–40 min). */
  burstDurationMs?: number;
  /** From the no-MFA login to the first message (default 5–30 min). */
  delayToBurstMs?: number;
  /** How the attacker gets a key (default: drawn, mostly a new key). */
  keyMethod?: 'new_key' | 'mfa_disabled_new_key' | 'mfa_disabled_existing_key';
}

const foreignTargets = ['US', 'GB', 'CA', 'AU', 'ES', 'FR', 'DE'];

export function accountTakeover(setup: ScenarioSetup, options: AccountTakeoverOptions = {}): Scenario {
  const { rng, atMs } = setup;
  const account = setup.claimAccount((candidate) => !candidate.bodyHashOnly, {
    requestedId: options.accountId,
    prefer: (candidate) => candidate.baseRatePerMinute < 20,
  });
  const keyMethod =
    options.keyMethod ??
    rng.weightedPick(['new_key', 'mfa_disabled_new_key', 'mfa_disabled_existing_key'] as const, [60, 25, 15]);
  const peakRatePerSecond = (options.peakRatePerSecond ?? rng.uniform(20, 60)) * setup.attackRateMultiplier;
  const rampMs = options.rampMs ?? rng.uniform(60_000, 120_000);
  const burstDurationMs = options.burstDurationMs ?? rng.uniform(15, 40) * minuteMs;
  const delayToBurstMs = options.delayToBurstMs ?? rng.uniform(5, 30) * minuteMs;

  const consoleNetwork = hostingNetwork(rng);
  const consoleIp = hostIn(rng, consoleNetwork);
  const consoleAgent = rng.chance(0.8)
    ? browserUserAgent(rng)
    : `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/${rng.int(118, 126)}.0.0.0 Safari/537.36`;
  const actor = rng.pick(account.consoleUsers);
  const audits = new AuditPlan();
  const failures = rng.int(2, 6);
  let timeMs = atMs;
  for (let attempt = 0; attempt < failures; attempt++) {
    audits.add({
      accountId: account.accountId,
      timeMs,
      actor,
      action: 'login_failed',
      sourceIp: consoleIp,
      userAgent: consoleAgent,
    });
    timeMs += rng.int(5, 40) * 1000;
  }
  const loginMs = timeMs + rng.int(10, 60) * 1000;
  audits.add({
    accountId: account.accountId,
    timeMs: loginMs,
    actor,
    action: 'login',
    mfaUsed: false,
    sourceIp: consoleIp,
    userAgent: consoleAgent,
  });
  let consoleMs = loginMs + rng.int(60, 240) * 1000;
  if (keyMethod !== 'new_key') {
    audits.add({
      accountId: account.accountId,
      timeMs: consoleMs,
      actor,
      action: 'mfa_disabled',
      mfaUsed: false,
      sourceIp: consoleIp,
      userAgent: consoleAgent,
    });
    consoleMs += rng.int(30, 180) * 1000;
  }
  const burstStartMs = Math.round(Math.max(consoleMs + minuteMs, loginMs + delayToBurstMs));
  const burstEndMs = clipToPeriod(setup, burstStartMs + burstDurationMs);

  let apiKeyId: string;
  let usualAgent = account.apiKeys[0]?.userAgent ?? 'twilio-python/9.0.0';
  if (keyMethod === 'mfa_disabled_existing_key') {
    const live = keysLiveDuring(account, burstStartMs, burstEndMs);
    const key = live[0] ?? account.apiKeys[0];
    if (key === undefined) throw new RangeError(`account ${account.accountId} has no key`);
    apiKeyId = keyInUseAt(account, key.keyId, burstStartMs);
    usualAgent = key.userAgent;
  } else {
    apiKeyId = keyIdFor(account.accountId, setup.allocateKeyNumber(account));
    audits.add({
      accountId: account.accountId,
      timeMs: consoleMs,
      actor,
      action: 'api_key_created',
      mfaUsed: false,
      sourceIp: consoleIp,
      userAgent: consoleAgent,
      targetApiKeyId: apiKeyId,
    });
  }

  // The blast often runs from the same provider as the console session, sometimes from a few boxes.
  const sendingIps = [rng.chance(0.5) ? hostIn(rng, consoleNetwork) : hostIn(rng, hostingNetwork(rng))];
  for (let extra = rng.int(0, 2); extra > 0; extra--) sendingIps.push(hostIn(rng, hostingNetwork(rng)));
  const userAgent = attackerUserAgent(rng, usualAgent);
  const brandSlug = account.brand.toLowerCase().replace(/[^a-z0-9]+/g, '');
  const lure = phishingLure(rng, account.language, account.homeCountries[0] as string, brandSlug);
  const lureCountry = countryInfo(account.homeCountries[0] as string);
  const foreignShare = rng.uniform(0.05, 0.25);
  const phishingFate: MessageFate = fate({
    undelivered: 0.06,
    failed: 0.01,
    optOut: 0.008,
    reply: 0.006,
    suspiciousReplies: true,
    optOutDelayMedianSeconds: 150,
  });
  const sender = new AttackSender();

  return {
    label: {
      scenario: 'account_takeover',
      accountIds: [account.accountId],
      apiKeyIds: [apiKeyId],
      startMs: atMs,
      endMs: burstEndMs,
      trafficStartMs: burstStartMs,
      mustDetect: true,
      expectedKinds: ['credential_anomaly', 'content_burst', 'new_link_domain', 'volume_spike'],
      description:
        `Takeover of ${account.accountId}: ${failures} failed logins and a login without MFA from ${consoleIp}, ` +
        `${keyMethod.replaceAll('_', ' ')} (${apiKeyId}), then '${lure.family}' smishing via ${lure.domain} ` +
        `from ${sendingIps.join(', ')} at up to ${peakRatePerSecond.toFixed(0)} msg/s.`,
    },
    emitMinute(world: ScenarioWorld, minuteStartMs: number): void {
      audits.emitMinute(world, minuteStartMs);
      const window = overlapWithMinute(minuteStartMs, burstStartMs, burstEndMs);
      if (window === undefined) return;
      const runtime = world.runtime(account.accountId);
      // Carriers catch on: filtering climbs as the campaign runs.
      phishingFate.filtered = Math.min(0.35, 0.01 + (0.012 * (minuteStartMs - burstStartMs)) / minuteMs);
      const times = arrivals(
        rng,
        window.fromMs,
        window.toMs,
        (at) => peakRatePerSecond * ramp(at, burstStartMs, rampMs),
      );
      for (const at of times) {
        const country = attackCountry(rng, runtime, foreignShare, foreignTargets);
        sender.send(world, rng, {
          account: runtime,
          timeMs: at,
          apiKeyId,
          sourceIp: sendingIps.length === 1 ? (sendingIps[0] as string) : rng.pick(sendingIps),
          userAgent,
          to: randomMobileNumber(rng, country),
          country,
          template: rng.pick(lure.variants),
          purpose: 'transactional',
          fate: phishingFate,
          textCountry: lureCountry,
          viaAccountSoftware: false,
        });
      }
    },
  };
}
