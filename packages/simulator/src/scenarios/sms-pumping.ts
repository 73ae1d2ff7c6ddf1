/**
 * (b) SMS pumping: bots drive the sender's public OTP form, so the traffic carries the sender's own
 * key, servers, client and OTP template. What differs is where it goes (blocks of consecutive or
 * nearby numbers in a country the sender does not serve) and that almost no code is ever entered.
 */
import { type CountryInfo, countryInfo, pumpingProneCountryCodes } from '../countries.ts';
import { fate, type MessageFate } from '../message-fate.ts';
import { numberInPrefix, subscriberLength } from '../phone-numbers.ts';
import type { Prng } from '../prng.ts';
import { AttackSender, renderContextFor } from './attack-traffic.ts';
import {
  arrivals,
  clipToPeriod,
  keyInUseAt,
  minuteMs,
  overlapWithMinute,
  ramp,
  type Scenario,
  type ScenarioSetup,
  ScenarioSetupError,
  type ScenarioWorld,
  usualKeyOf,
} from './scenario.ts';

export interface SmsPumpingOptions {
  accountId?: string;
  /** Destination country (default: a pumping-prone country the account does not serve). */
  country?: string;
  /** Pumping rate in messages per second (default 50). */
  ratePerSecond?: number;
  /** Length of the attack (default 10–60 min). */
  durationMs?: number;
  /** Warm-up of the bots (default 20–90 s). */
  rampMs?: number;
  /** Share of pumped codes that are entered anyway (default 0.5 %). */
  conversionRate?: number;
}

/**
 * Destinations in runs: mostly +1 steps, sometimes small gaps, and jumps to a nearby block or to
 * another of the few ranges the fraudster controls.
 */
export class NumberBlockWalker {
  readonly #rng: Prng;
  readonly #country: CountryInfo;
  readonly #prefixes: readonly string[];
  #prefix: string;
  #subscriber = 0;
  #runLeft = 0;

  constructor(rng: Prng, country: CountryInfo) {
    this.#rng = rng;
    this.#country = country;
    const ranges = new Set<string>();
    const wanted = rng.int(1, 3);
    while (ranges.size < Math.min(wanted, country.mobilePrefixes.length))
      ranges.add(rng.pick(country.mobilePrefixes));
    this.#prefixes = [...ranges];
    this.#prefix = this.#prefixes[0] as string;
  }

  get prefixes(): readonly string[] {
    return this.#prefixes;
  }

  next(): string {
    const rng = this.#rng;
    const space = 10 ** subscriberLength(this.#country, this.#prefix);
    if (this.#runLeft <= 0) {
      this.#runLeft = rng.int(20, 300);
      if (this.#subscriber === 0 || rng.chance(0.3)) {
        this.#prefix = rng.pick(this.#prefixes);
        this.#subscriber = rng.int(Math.floor(space * 0.05), Math.floor(space * 0.9));
      } else {
        this.#subscriber += rng.int(50, 5000);
      }
    }
    this.#runLeft--;
    const roll = rng.next();
    this.#subscriber += roll < 0.75 ? 1 : roll < 0.95 ? rng.int(2, 3) : rng.int(4, 10);
    if (this.#subscriber >= space) this.#subscriber = rng.int(1, Math.floor(space / 2));
    return numberInPrefix(this.#country, this.#prefix, this.#subscriber);
  }
}

export function smsPumping(setup: ScenarioSetup, options: SmsPumpingOptions = {}): Scenario {
  const { rng, atMs } = setup;
  const account = setup.claimAccount((candidate) => candidate.purposeWeights.otp > 0, {
    requestedId: options.accountId,
    prefer: (candidate) =>
      candidate.reportsFeedback && candidate.use === 'otp' && candidate.baseRatePerMinute < 20,
  });
  const unserved = pumpingProneCountryCodes.filter(
    (code) => !account.homeCountries.includes(code) && account.expansion?.country !== code,
  );
  const countryCode = options.country ?? rng.pick(unserved);
  if (account.homeCountries.includes(countryCode)) {
    throw new ScenarioSetupError('no_eligible_account', `${account.accountId} already serves ${countryCode}`);
  }
  const country = countryInfo(countryCode);
  const ratePerSecond = (options.ratePerSecond ?? 50) * setup.attackRateMultiplier;
  const durationMs = options.durationMs ?? rng.uniform(10, 60) * minuteMs;
  const rampMs = options.rampMs ?? rng.uniform(20_000, 90_000);
  const endMs = clipToPeriod(setup, atMs + durationMs);
  const otpKey = usualKeyOf(account, 'otp');
  const apiKeyId = keyInUseAt(account, otpKey.keyId, atMs);
  const walker = new NumberBlockWalker(rng, country);
  const pumpedFate: MessageFate = fate({
    filtered: 0.002,
    failed: 0.01,
    undelivered: 0.08,
    conversion: account.reportsFeedback ? (options.conversionRate ?? 0.005) : undefined,
  });
  const sender = new AttackSender();
  let minuteJitter = 1;

  return {
    label: {
      scenario: 'sms_pumping',
      accountIds: [account.accountId],
      apiKeyIds: [apiKeyId],
      startMs: atMs,
      endMs,
      mustDetect: true,
      expectedKinds: ['destination_anomaly', 'volume_spike'],
      description:
        `SMS pumping through ${account.accountId}'s OTP flow (key ${apiKeyId}, usual servers and client): ` +
        `~${ratePerSecond.toFixed(0)} msg/s to ${countryCode} ranges ${walker.prefixes.map((p) => `+${country.callingCode}${p}`).join(', ')} ` +
        `in runs of consecutive numbers; codes almost never entered.`,
    },
    emitMinute(world: ScenarioWorld, minuteStartMs: number): void {
      const window = overlapWithMinute(minuteStartMs, atMs, endMs);
      if (window === undefined) return;
      const runtime = world.runtime(account.accountId);
      const otpTemplate = runtime.pickTemplate(rng, 0, minuteStartMs);
      if (otpTemplate === undefined) return;
      const context = renderContextFor(runtime, country);
      // Bot fleets do not hold a perfectly steady rate.
      minuteJitter = Math.min(1.4, Math.max(0.6, minuteJitter * rng.logNormal(1, 0.1)));
      const key = runtime.currentKey(otpKey, minuteStartMs);
      const userAgent = runtime.userAgentOf(key, minuteStartMs);
      const times = arrivals(
        rng,
        window.fromMs,
        window.toMs,
        (at) => ratePerSecond * minuteJitter * ramp(at, atMs, rampMs),
      );
      for (const at of times) {
        const template = runtime.pickTemplate(rng, 0, at) ?? otpTemplate;
        sender.send(world, rng, {
          account: runtime,
          timeMs: at,
          apiKeyId: key.keyId,
          sourceIp: rng.pick(key.sourceIps),
          userAgent,
          to: walker.next(),
          country: context.country,
          template,
          purpose: 'otp',
          fate: pumpedFate,
          viaAccountSoftware: true,
        });
      }
    },
  };
}
