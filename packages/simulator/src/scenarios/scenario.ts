/**
 * What every attack (or look-alike) scenario shares: its name and label, the setup it gets before
 * traffic starts (claim accounts, change profiles, reserve key ids) and the per-minute hook that
 * writes its events. A scenario writes only events inside the minute it is asked for.
 */
import type { AuditAction } from '@floodgate/schema';
import type { AccountRuntime } from '../account-runtime.ts';
import type { AccountProfile, ApiKeyProfile } from '../accounts.ts';
import type { MessagePurpose } from '../message-template.ts';
import type { Prng } from '../prng.ts';
import type { TrafficWriter } from '../traffic-writer.ts';

export const scenarioNames = [
  'account_takeover',
  'sms_pumping',
  'opt_out_storm',
  'low_and_slow',
  'legit_blast',
  'cross_account_campaign',
  'third_party_misuse',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface ScenarioLabel {
  scenario: ScenarioName;
  accountIds: string[];
  apiKeyIds: string[];
  startMs: number;
  endMs: number;
  /** When the abusive traffic itself starts (a takeover's label starts at the failed logins). */
  trafficStartMs?: number;
  /** False for look-alikes of abuse that are legitimate (a scheduled blast). */
  mustDetect: boolean;
  /** Detection kinds that would be correct for this traffic; empty when nothing should page. */
  expectedKinds: string[];
  description: string;
}

export class ScenarioSetupError extends Error {
  readonly code: 'no_eligible_account' | 'unknown_account' | 'outside_period' | 'needs_history';

  constructor(code: ScenarioSetupError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface AccountChoice {
  readonly requestedId?: string | undefined;
  readonly prefer?: (account: AccountProfile) => boolean;
}

/** Given to a scenario before any traffic is generated. */
export interface ScenarioSetup {
  readonly rng: Prng;
  readonly atMs: number;
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  /** Scales attack rates (harder or easier detection). */
  readonly attackRateMultiplier: number;
  /**
   * An account no other scenario uses, from those `eligible` accepts, preferring those `prefer`
   * accepts; exactly `requestedId` when given (then `eligible` is the caller's responsibility).
   */
  claimAccount(eligible: (account: AccountProfile) => boolean, choice?: AccountChoice): AccountProfile;
  /** A key number of `account` that no existing or planned key uses. */
  allocateKeyNumber(account: AccountProfile): number;
}

/** Given to a scenario while traffic is generated. */
export interface ScenarioWorld {
  readonly writer: TrafficWriter;
  runtime(accountId: string): AccountRuntime;
}

export interface Scenario {
  readonly label: ScenarioLabel;
  /** Writes the scenario's events whose time falls in [minuteStartMs, minuteStartMs + 1 minute). */
  emitMinute(world: ScenarioWorld, minuteStartMs: number): void;
}

export const minuteMs = 60_000;
const secondMs = 1000;

/**
 * Arrival times of a Poisson process with a time-varying rate, inside [fromMs, toMs): one count per
 * second at the rate of that second's midpoint, times spread uniformly within the second.
 */
export function arrivals(
  rng: Prng,
  fromMs: number,
  toMs: number,
  ratePerSecondAt: (timeMs: number) => number,
): number[] {
  const times: number[] = [];
  for (let secondStart = fromMs; secondStart < toMs; secondStart += secondMs) {
    const secondEnd = Math.min(toMs, secondStart + secondMs);
    const rate = ratePerSecondAt((secondStart + secondEnd) / 2);
    const count = rng.poisson((rate * (secondEnd - secondStart)) / secondMs);
    for (let index = 0; index < count; index++) {
      times.push(secondStart + Math.floor(rng.next() * (secondEnd - secondStart)));
    }
  }
  return times;
}

/** The part of [startMs, endMs) inside the minute starting at minuteStartMs, or undefined. */
export function overlapWithMinute(
  minuteStartMs: number,
  startMs: number,
  endMs: number,
): { fromMs: number; toMs: number } | undefined {
  const fromMs = Math.max(minuteStartMs, startMs);
  const toMs = Math.min(minuteStartMs + minuteMs, endMs);
  return fromMs < toMs ? { fromMs, toMs } : undefined;
}

/** Smooth ramp from 0 to 1 over `rampMs` after `startMs` (attack tooling warming up). */
export function ramp(timeMs: number, startMs: number, rampMs: number): number {
  if (rampMs <= 0) return 1;
  const progress = (timeMs - startMs) / rampMs;
  return progress <= 0 ? 0 : progress >= 1 ? 1 : progress * progress * (3 - 2 * progress);
}

/** A time inside the period (scenario plans are clipped to it). */
export function clipToPeriod(setup: ScenarioSetup, timeMs: number): number {
  return Math.min(setup.periodEndMs, Math.max(setup.periodStartMs, Math.round(timeMs)));
}

export interface PlannedAudit {
  readonly accountId: string;
  readonly timeMs: number;
  readonly actor: string;
  readonly action: AuditAction;
  readonly mfaUsed?: boolean;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly targetApiKeyId?: string;
}

/** Console actions a scenario decided up front, written when their minute comes. */
export class AuditPlan {
  readonly #entries: PlannedAudit[] = [];
  #sorted = true;
  #next = 0;

  add(entry: PlannedAudit): void {
    this.#entries.push(entry);
    this.#sorted = false;
  }

  get entries(): readonly PlannedAudit[] {
    return this.#entries;
  }

  emitMinute(world: ScenarioWorld, minuteStartMs: number): void {
    if (!this.#sorted) {
      this.#entries.sort((left, right) => left.timeMs - right.timeMs);
      this.#sorted = true;
    }
    const minuteEndMs = minuteStartMs + minuteMs;
    for (let entry = this.#entries[this.#next]; entry !== undefined; entry = this.#entries[this.#next]) {
      if (entry.timeMs >= minuteEndMs) break;
      this.#next++;
      if (entry.timeMs < minuteStartMs) continue;
      const { accountId, ...fields } = entry;
      world.writer.audit({ ...fields, account: world.runtime(accountId) });
    }
  }
}

/** The key that carries `keyId`'s traffic at `timeMs` (following planned rotations). */
export function keyInUseAt(account: AccountProfile, keyId: string, timeMs: number): string {
  let current = account.apiKeys.find((key) => key.keyId === keyId);
  while (current?.replacedBy !== undefined && timeMs >= current.replacedBy.atMs) {
    const successorId = current.replacedBy.keyId;
    current = account.apiKeys.find((key) => key.keyId === successorId);
  }
  return current?.keyId ?? keyId;
}

/** Keys of the account that are live (not revoked) throughout [fromMs, toMs). */
export function keysLiveDuring(account: AccountProfile, fromMs: number, toMs: number): ApiKeyProfile[] {
  return account.apiKeys.filter(
    (key) =>
      key.thirdParty === undefined &&
      (key.activeFromMs ?? Number.NEGATIVE_INFINITY) <= fromMs &&
      (key.replacedBy?.atMs ?? Number.POSITIVE_INFINITY) >= toMs,
  );
}

/** The key that sends most of an account's `purpose` traffic (the sender's own, not a partner's). */
export function usualKeyOf(account: AccountProfile, purpose: MessagePurpose): ApiKeyProfile {
  let best: ApiKeyProfile | undefined;
  for (const key of account.apiKeys) {
    if (key.thirdParty !== undefined || key.activeFromMs !== undefined || !key.purposes.includes(purpose))
      continue;
    if (best === undefined || key.weight > best.weight) best = key;
  }
  const fallback = best ?? account.apiKeys[0];
  if (fallback === undefined)
    throw new ScenarioSetupError('no_eligible_account', `${account.accountId} has no key`);
  return fallback;
}
