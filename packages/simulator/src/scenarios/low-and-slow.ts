/**
 * (d) A careful attacker with a leaked key: spam with a fresh link domain from one unusual network,
 * ramping over hours from a little above to several times the account's normal rate, so early on
 * it hides under any burst threshold. Often with the account's own SDK user agent copied.
 */
import { countryInfo } from '../countries.ts';
import { fate, type MessageFate } from '../message-fate.ts';
import { hostIn, hostingNetwork, residentialNetwork } from '../networks.ts';
import { randomMobileNumber } from '../phone-numbers.ts';
import { scriptingUserAgent } from '../user-agents.ts';
import { AttackSender, attackCountry } from './attack-traffic.ts';
import { spamLure } from './lures.ts';
import {
  arrivals,
  clipToPeriod,
  keyInUseAt,
  keysLiveDuring,
  minuteMs,
  overlapWithMinute,
  type Scenario,
  type ScenarioSetup,
  type ScenarioWorld,
} from './scenario.ts';

export interface LowAndSlowOptions {
  accountId?: string;
  /** Account traffic relative to normal when the attack starts (default 1.2). */
  startMultiplier?: number;
  /** … and when the ramp ends (default 6). */
  endMultiplier?: number;
  /** Length of the ramp (default 2–4 h). */
  rampMs?: number;
  /** Time at the end multiplier after the ramp (default 20–60 min). */
  holdMs?: number;
}

export function lowAndSlow(setup: ScenarioSetup, options: LowAndSlowOptions = {}): Scenario {
  const { rng, atMs } = setup;
  const account = setup.claimAccount((candidate) => !candidate.bodyHashOnly, {
    requestedId: options.accountId,
    prefer: (candidate) => candidate.baseRatePerMinute >= 0.8 && candidate.baseRatePerMinute <= 30,
  });
  const startMultiplier = options.startMultiplier ?? 1.2;
  const endMultiplier = options.endMultiplier ?? 6;
  const rampMs = options.rampMs ?? rng.uniform(2, 4) * 3_600_000;
  const holdMs = options.holdMs ?? rng.uniform(20, 60) * minuteMs;
  const endMs = clipToPeriod(setup, atMs + rampMs + holdMs);
  const live = keysLiveDuring(account, atMs, endMs);
  const leaked = live.length > 0 ? rng.pick(live) : account.apiKeys[0];
  if (leaked === undefined) throw new RangeError(`account ${account.accountId} has no key`);
  const apiKeyId = keyInUseAt(account, leaked.keyId, atMs);
  const sourceIp = hostIn(rng, rng.chance(0.7) ? hostingNetwork(rng) : residentialNetwork(rng));
  const userAgent = rng.chance(0.5) ? leaked.userAgent : scriptingUserAgent(rng);
  const lure = spamLure(rng);
  const lureCountry = countryInfo(account.homeCountries[0] as string);
  const spamFate: MessageFate = fate({
    undelivered: 0.05,
    failed: 0.008,
    optOut: 0.006,
    reply: 0.005,
    suspiciousReplies: true,
    optOutDelayMedianSeconds: 180,
  });
  // The attacker sizes the extra traffic from the account's typical volume, not its hour-by-hour curve.
  const normalPerSecond = (account.baseRatePerMinute * setup.attackRateMultiplier) / 60;
  const sender = new AttackSender();

  return {
    label: {
      scenario: 'low_and_slow',
      accountIds: [account.accountId],
      apiKeyIds: [apiKeyId],
      startMs: atMs,
      endMs,
      mustDetect: true,
      expectedKinds: ['volume_spike', 'credential_anomaly', 'content_burst', 'new_link_domain'],
      description:
        `Leaked key ${apiKeyId} of ${account.accountId} used from ${sourceIp} (UA ${userAgent}) for ` +
        `'${lure.family}' spam via ${lure.domain}, ramping from ${startMultiplier}x to ${endMultiplier}x ` +
        `the account's normal rate over ${(rampMs / 3_600_000).toFixed(1)} h.`,
    },
    emitMinute(world: ScenarioWorld, minuteStartMs: number): void {
      const window = overlapWithMinute(minuteStartMs, atMs, endMs);
      if (window === undefined) return;
      const runtime = world.runtime(account.accountId);
      const progress = Math.min(1, (minuteStartMs - atMs) / rampMs);
      spamFate.filtered = 0.01 + 0.09 * progress;
      const extra = startMultiplier - 1 + (endMultiplier - startMultiplier) * progress;
      for (const at of arrivals(rng, window.fromMs, window.toMs, () => normalPerSecond * extra)) {
        const country = attackCountry(rng, runtime, 0.05, ['US', 'GB', 'IN', 'NG']);
        sender.send(world, rng, {
          account: runtime,
          timeMs: at,
          apiKeyId,
          sourceIp,
          userAgent,
          to: randomMobileNumber(rng, country),
          country,
          template: rng.pick(lure.variants),
          purpose: 'marketing',
          fate: spamFate,
          textCountry: lureCountry,
          viaAccountSoftware: false,
        });
      }
    },
  };
}
