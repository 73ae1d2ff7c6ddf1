/**
 * (e) The look-alike that must not page: a sender's scheduled marketing blast, 10–50× its base rate,
 * with its usual key, servers, client, brand links and template. The scenario only (re)schedules the
 * account's blast so one fires at `atMs` and an earlier one falls inside the period; the benign
 * generator sends every occurrence the same way, so the labelled one has no artefacts of its own.
 */
import { localMinuteOfDay, localWeekday } from '../diurnal.ts';
import {
  clipToPeriod,
  keyInUseAt,
  minuteMs,
  type Scenario,
  type ScenarioSetup,
  ScenarioSetupError,
  usualKeyOf,
} from './scenario.ts';

export interface LegitBlastOptions {
  accountId?: string;
  /** Blast rate as a multiple of the base rate (default: the account's, else 10–50). */
  multiplier?: number;
  durationMinutes?: number;
}

const dayMs = 86_400_000;

export function legitBlast(setup: ScenarioSetup, options: LegitBlastOptions = {}): Scenario {
  const { rng } = setup;
  const sinceStartMs = setup.atMs - setup.periodStartMs;
  if (sinceStartMs < dayMs) {
    throw new ScenarioSetupError(
      'needs_history',
      'legit_blast needs at least one day of the period before it, so an earlier blast is in the data',
    );
  }
  const account = setup.claimAccount(
    (candidate) =>
      (candidate.use === 'marketing' || candidate.use === 'mixed') &&
      candidate.templates.some((template) => template.purpose === 'marketing'),
    {
      requestedId: options.accountId,
      prefer: (candidate) => candidate.blast !== undefined && candidate.baseRatePerMinute >= 0.5,
    },
  );
  const primary = account.markets[0];
  if (primary === undefined) throw new RangeError(`account ${account.accountId} has no market`);
  // Weekly when the period holds an earlier week, else the daily-deals cadence some senders keep.
  const periodDays: 1 | 7 = sinceStartMs >= 7 * dayMs ? 7 : 1;
  const blastTemplate =
    account.blast?.templateId ??
    account.templates.find((template) => template.purpose === 'marketing')?.templateId;
  if (blastTemplate === undefined)
    throw new RangeError(`account ${account.accountId} has no marketing template`);
  const startMs = Math.floor(setup.atMs / minuteMs) * minuteMs;
  const durationMinutes = options.durationMinutes ?? account.blast?.durationMinutes ?? rng.int(10, 30);
  const multiplier = options.multiplier ?? account.blast?.multiplier ?? rng.uniform(10, 50);
  account.blast = {
    periodDays,
    localWeekday: localWeekday(startMs, primary.utcOffsetMinutes),
    localStartMinute: localMinuteOfDay(startMs, primary.utcOffsetMinutes),
    durationMinutes,
    multiplier,
    templateId: blastTemplate,
  };
  // The subscriber list must be large enough for every blast to reach distinct numbers.
  for (const market of account.markets) {
    market.poolSize = Math.max(
      market.poolSize,
      Math.ceil(account.baseRatePerMinute * multiplier * durationMinutes * market.share * 1.5),
    );
  }
  const earlier = Math.floor(sinceStartMs / (periodDays * dayMs));
  const apiKeyId = keyInUseAt(account, usualKeyOf(account, 'marketing').keyId, startMs);

  return {
    label: {
      scenario: 'legit_blast',
      accountIds: [account.accountId],
      apiKeyIds: [apiKeyId],
      startMs,
      endMs: clipToPeriod(setup, startMs + durationMinutes * minuteMs),
      mustDetect: false,
      expectedKinds: [],
      description:
        `Scheduled ${periodDays === 7 ? 'weekly' : 'daily'} blast of ${account.accountId} at ${multiplier.toFixed(0)}x ` +
        `base for ${durationMinutes} min with its usual key ${apiKeyId}; ${earlier} earlier blast(s) in the period.`,
    },
    emitMinute(): void {
      // Sent by the benign generator from the schedule, exactly like the account's other blasts.
    },
  };
}
