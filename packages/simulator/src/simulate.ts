/**
 * The simulator's entry points. A run is fixed by its options: accounts, key rotations and scenario
 * set-up are derived from the seed first, then traffic is generated minute by minute (benign, then
 * scenarios) and released in time order. The same options always give the same events and ids.
 */
import type { ApiKeyInventoryEntry, FloodgateEvent } from '@floodgate/schema';
import { AccountRuntime } from './account-runtime.ts';
import { type AccountProfile, generateAccounts } from './accounts.ts';
import { BenignTraffic, type BlastOccurrence, blastOccurrences } from './benign.ts';
import { ConsoleActivity } from './console-activity.ts';
import { nextKeyNumber, planKeyRotations } from './key-rotations.ts';
import { MinuteQueue } from './minute-queue.ts';
import { Prng } from './prng.ts';
import { defaultScenarioPlan } from './scenario-plan.ts';
import { createScenario, type ScenarioPlanEntry } from './scenarios/registry.ts';
import {
  type Scenario,
  type ScenarioLabel,
  type ScenarioSetup,
  ScenarioSetupError,
  type ScenarioWorld,
} from './scenarios/scenario.ts';
import { TrafficWriter } from './traffic-writer.ts';

export interface SimulationOptions {
  seed: number;
  /** Start of the simulated period, epoch milliseconds. */
  startMs: number;
  durationMs: number;
  /** Number of sending accounts (default 300). */
  accounts?: number;
  /** Scenarios to inject (default `defaultScenarioPlan(startMs, durationMs)`; `[]` for benign only). */
  scenarios?: ScenarioPlanEntry[];
  /** Multiplies every account's base rate (default 1). */
  benignRateMultiplier?: number;
  /** Multiplies every scenario's attack rate (default 1): below 1 makes detection harder. */
  attackRateMultiplier?: number;
}

export interface SimulationResult {
  /** Sorted by `eventTime`; equal times keep generation order. */
  events: FloodgateEvent[];
  labels: ScenarioLabel[];
  inventory: ApiKeyInventoryEntry[];
  accounts: AccountProfile[];
  /** Every scheduled blast in the period (benign look-alikes of volume abuse). */
  blasts: BlastOccurrence[];
}

export interface PreparedSimulation {
  readonly accounts: AccountProfile[];
  readonly labels: ScenarioLabel[];
  readonly inventory: ApiKeyInventoryEntry[];
  readonly blasts: BlastOccurrence[];
  /** The events of each simulated minute, in time order; each call replays the run from the start. */
  minutes(): Generator<FloodgateEvent[], void, undefined>;
  /** The events one by one, in time order; each call replays the run from the start. */
  events(): Generator<FloodgateEvent, void, undefined>;
}

export class SimulationOptionsError extends Error {
  readonly code = 'invalid_simulation_options';
}

const minuteMs = 60_000;
const minEventTimeMs = Date.UTC(2000, 0, 1);
const maxEventTimeMs = Date.UTC(2100, 0, 1);
/** Console activity for a day is scheduled this far ahead, so logins before key changes stay in the future. */
const consoleLeadMinutes = 60;

function validate(options: SimulationOptions): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(options.seed)) problems.push('seed must be a safe integer');
  if (!Number.isSafeInteger(options.startMs) || options.startMs < minEventTimeMs) {
    problems.push('startMs must be an integer epoch-millisecond time after 2000');
  }
  if (!Number.isSafeInteger(options.durationMs) || options.durationMs <= 0) {
    problems.push('durationMs must be a positive integer');
  } else if (options.startMs + options.durationMs > maxEventTimeMs) {
    problems.push('the period must end before 2100');
  }
  const accounts = options.accounts ?? 300;
  if (!Number.isInteger(accounts) || accounts < 1) problems.push('accounts must be a positive integer');
  for (const [name, value] of [
    ['benignRateMultiplier', options.benignRateMultiplier],
    ['attackRateMultiplier', options.attackRateMultiplier],
  ] as const) {
    if (value !== undefined && !(value > 0 && Number.isFinite(value)))
      problems.push(`${name} must be positive`);
  }
  if (problems.length > 0) throw new SimulationOptionsError(problems.join('; '));
}

interface Prepared {
  readonly accounts: AccountProfile[];
  readonly scenarios: Scenario[];
  readonly rootRng: Prng;
}

function prepare(options: SimulationOptions): Prepared {
  validate(options);
  const startMs = options.startMs;
  const endMs = startMs + options.durationMs;
  const rootRng = new Prng(options.seed);
  const accounts = generateAccounts(rootRng.fork('accounts'), {
    count: options.accounts ?? 300,
    periodStartMs: startMs,
    periodEndMs: endMs,
    rateMultiplier: options.benignRateMultiplier ?? 1,
  });
  planKeyRotations(rootRng.fork('rotations'), accounts, startMs, endMs);

  const byId = new Map(accounts.map((account) => [account.accountId, account]));
  const keyNumbers = new Map(accounts.map((account) => [account.accountId, nextKeyNumber(account)]));
  const claimed = new Set<string>();
  const plan = options.scenarios ?? defaultScenarioPlan(startMs, options.durationMs);
  const scenarios = plan.map((entry, index) => {
    if (!(entry.atMs >= startMs && entry.atMs < endMs)) {
      throw new ScenarioSetupError(
        'outside_period',
        `scenario ${entry.name} at ${entry.atMs} is outside the period`,
      );
    }
    const rng = rootRng.fork(`scenario:${index}:${entry.name}`);
    const setup: ScenarioSetup = {
      rng,
      atMs: Math.round(entry.atMs),
      periodStartMs: startMs,
      periodEndMs: endMs,
      attackRateMultiplier: options.attackRateMultiplier ?? 1,
      claimAccount(eligible, choice = {}) {
        if (choice.requestedId !== undefined) {
          const account = byId.get(choice.requestedId);
          if (account === undefined) {
            throw new ScenarioSetupError(
              'unknown_account',
              `scenario ${entry.name}: no account ${choice.requestedId}`,
            );
          }
          if (claimed.has(account.accountId)) {
            throw new ScenarioSetupError(
              'no_eligible_account',
              `${account.accountId} is already used by another scenario`,
            );
          }
          claimed.add(account.accountId);
          return account;
        }
        const candidates = accounts.filter((account) => !claimed.has(account.accountId) && eligible(account));
        const preferred = choice.prefer === undefined ? [] : candidates.filter(choice.prefer);
        const pool = preferred.length > 0 ? preferred : candidates;
        if (pool.length === 0) {
          throw new ScenarioSetupError(
            'no_eligible_account',
            `scenario ${entry.name}: no unused eligible account left`,
          );
        }
        const account = rng.pick(pool);
        claimed.add(account.accountId);
        return account;
      },
      allocateKeyNumber(account) {
        const number = keyNumbers.get(account.accountId) ?? nextKeyNumber(account);
        keyNumbers.set(account.accountId, number + 1);
        return number;
      },
    };
    return createScenario(setup, entry);
  });
  return { accounts, scenarios, rootRng };
}

function inventoryOf(accounts: readonly AccountProfile[]): ApiKeyInventoryEntry[] {
  const inventory: ApiKeyInventoryEntry[] = [];
  for (const account of accounts) {
    for (const key of account.apiKeys) {
      const entry: ApiKeyInventoryEntry = {
        keyId: key.keyId,
        accountId: account.accountId,
        owner: key.owner,
        allowedNetworks: [...key.networks],
        allowedCountries: [...key.allowedCountries],
        createdAt: key.createdAtMs,
      };
      if (key.thirdParty !== undefined) entry.thirdParty = key.thirdParty;
      inventory.push(entry);
    }
  }
  return inventory;
}

function* generateMinutes(options: SimulationOptions): Generator<FloodgateEvent[], void, undefined> {
  // A fresh preparation per run: generation mutates runtime state and scenario streams.
  const { accounts, scenarios, rootRng } = prepare(options);
  const startMs = options.startMs;
  const endMs = startMs + options.durationMs;
  const queue = new MinuteQueue(startMs, endMs);
  const writer = new TrafficWriter(options.seed, queue);
  const runtimes = accounts.map((account) => new AccountRuntime(account));
  const runtimeById = new Map(runtimes.map((runtime) => [runtime.profile.accountId, runtime]));
  const world: ScenarioWorld = {
    writer,
    runtime(accountId) {
      const runtime = runtimeById.get(accountId);
      if (runtime === undefined) throw new RangeError(`no account ${accountId}`);
      return runtime;
    },
  };
  const benign = new BenignTraffic(runtimes, writer, rootRng.fork('benign'), startMs, endMs);
  const consoleActivity = new ConsoleActivity(runtimes, writer, rootRng.fork('console'));
  const totalMinutes = Math.ceil(options.durationMs / minuteMs);
  consoleActivity.scheduleDay(startMs);
  for (let minute = 0; minute < totalMinutes; minute++) {
    const minuteStartMs = startMs + minute * minuteMs;
    const nextDayMinute = minute + consoleLeadMinutes;
    if (nextDayMinute % 1440 === 0 && nextDayMinute < totalMinutes) {
      consoleActivity.scheduleDay(startMs + nextDayMinute * minuteMs);
    }
    benign.emitMinute(minuteStartMs);
    for (const scenario of scenarios) scenario.emitMinute(world, minuteStartMs);
    yield queue.take(minute);
  }
}

/** Sets a run up (accounts, labels, inventory) without generating traffic yet. */
export function prepareSimulation(options: SimulationOptions): PreparedSimulation {
  const { accounts, scenarios } = prepare(options);
  const runtimes = accounts.map((account) => new AccountRuntime(account));
  const endMs = options.startMs + options.durationMs;
  return {
    accounts,
    labels: scenarios.map((scenario) => scenario.label),
    inventory: inventoryOf(accounts),
    blasts: runtimes.flatMap((runtime) => blastOccurrences(runtime, options.startMs, endMs)),
    minutes: () => generateMinutes(options),
    *events() {
      for (const batch of generateMinutes(options)) {
        for (const event of batch) yield event;
      }
    },
  };
}

/** The events of a run one by one in time order, holding only about a minute of traffic in memory. */
export function simulateStream(options: SimulationOptions): Generator<FloodgateEvent, void, undefined> {
  return prepareSimulation(options).events();
}

/** A whole run in memory: events, labels, key inventory, account profiles. */
export function simulate(options: SimulationOptions): SimulationResult {
  const prepared = prepareSimulation(options);
  const events: FloodgateEvent[] = [];
  for (const batch of prepared.minutes()) {
    for (const event of batch) events.push(event);
  }
  return {
    events,
    labels: prepared.labels,
    inventory: prepared.inventory,
    accounts: prepared.accounts,
    blasts: prepared.blasts,
  };
}
