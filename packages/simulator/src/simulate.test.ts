import { apiKeyInventoryEntrySchema, type FloodgateEvent, parseEvent } from '@floodgate/schema';
import { describe, expect, it } from 'vitest';
import { scenarioNames } from './scenarios/scenario.ts';
import { prepareSimulation, SimulationOptionsError, simulate, simulateStream } from './simulate.ts';
import { hourMs, testPeriodStartMs } from './test-helpers.ts';

const base = {
  seed: 77,
  startMs: testPeriodStartMs,
  durationMs: 3 * hourMs,
  accounts: 40,
  benignRateMultiplier: 0.3,
  scenarios: [
    {
      name: 'account_takeover',
      atMs: testPeriodStartMs + hourMs + 123_456,
      options: { burstDurationMs: 10 * 60_000 },
    },
    {
      name: 'sms_pumping',
      atMs: testPeriodStartMs + 2 * hourMs + 7_000,
      options: { durationMs: 5 * 60_000, ratePerSecond: 10 },
    },
    {
      name: 'third_party_misuse',
      atMs: testPeriodStartMs + 90 * 60_000,
      options: { durationMs: 30 * 60_000 },
    },
  ],
} as const satisfies Parameters<typeof simulate>[0];

const run = simulate(base);
const endMs = base.startMs + base.durationMs;

function firstEvents(seed: number, count: number): FloodgateEvent[] {
  const events: FloodgateEvent[] = [];
  for (const event of simulateStream({ ...base, seed })) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

describe('simulate', () => {
  it('gives the same events and ids for the same seed, and other events for another seed', () => {
    const again = firstEvents(77, 1000);
    expect(again, 'same options, same first 1000 events').toEqual(run.events.slice(0, 1000));
    const other = firstEvents(78, 1000);
    expect(other.map((event) => event.eventTime)).not.toEqual(again.map((event) => event.eventTime));
  });

  it('streams exactly what it returns in memory', () => {
    let count = 0;
    let mismatch = -1;
    for (const event of simulateStream(base)) {
      if (
        mismatch < 0 &&
        event !== run.events[count] &&
        JSON.stringify(event) !== JSON.stringify(run.events[count])
      ) {
        mismatch = count;
      }
      count++;
    }
    expect(mismatch, 'first differing position').toBe(-1);
    expect(count).toBe(run.events.length);
  });

  it('orders events by time, inside the period', () => {
    let disorder = 0;
    for (let index = 1; index < run.events.length; index++) {
      if (run.events[index]!.eventTime < run.events[index - 1]!.eventTime) disorder++;
    }
    expect(disorder, 'events earlier than their predecessor').toBe(0);
    expect(run.events[0]!.eventTime).toBeGreaterThanOrEqual(base.startMs);
    expect(run.events.at(-1)!.eventTime).toBeLessThan(endMs);
  });

  it('gives every event a unique id of the form prefix_seed_counter', () => {
    const ids = run.events.map((event) => event.eventId);
    expect(new Set(ids).size, 'unique ids').toBe(ids.length);
    expect(ids.filter((id) => !/^(msg|st|fb|in|aud)_77_\d+$/.test(id)).slice(0, 3)).toEqual([]);
  });

  it('produces events that pass the schema unchanged', () => {
    const step = Math.max(1, Math.floor(run.events.length / 6000));
    const sample = run.events.filter(
      (event, index) =>
        index % step === 0 || event.type === 'account.audit' || event.type === 'message.inbound',
    );
    expect(sample.length).toBeGreaterThan(5000);
    expect(new Set(sample.map((event) => event.type)).size, 'every event type sampled').toBe(5);
    const rejected = sample
      .map((event) => ({ event, result: parseEvent(event) }))
      .filter(({ event, result }) => !result.ok || JSON.stringify(result.value) !== JSON.stringify(event));
    expect(rejected.slice(0, 2), 'events the schema rejects or rewrites').toEqual([]);
  });

  it('refers only to messages sent earlier by the same account', () => {
    const sent = new Map<string, FloodgateEvent>();
    const dangling: string[] = [];
    for (const event of run.events) {
      if (event.type === 'message.outbound') sent.set(event.eventId, event);
      const reference =
        event.type === 'message.status' || event.type === 'message.feedback'
          ? event.messageId
          : event.type === 'message.inbound'
            ? event.inReplyToMessageId
            : undefined;
      if (reference === undefined) continue;
      const original = sent.get(reference);
      if (
        original === undefined ||
        original.accountId !== event.accountId ||
        original.eventTime >= event.eventTime
      ) {
        dangling.push(event.eventId);
      }
    }
    expect(dangling.slice(0, 3), 'events pointing at no earlier message of theirs').toEqual([]);
  });

  it('lists every key in a valid inventory, shared keys marked', () => {
    expect(
      run.inventory.map((entry) => apiKeyInventoryEntrySchema.safeParse(entry).success).every(Boolean),
    ).toBe(true);
    expect(new Set(run.inventory.map((entry) => entry.keyId)).size).toBe(run.inventory.length);
    const keyCount = run.accounts.reduce((sum, account) => sum + account.apiKeys.length, 0);
    expect(run.inventory.length).toBe(keyCount);
    const shared = run.labels.find((label) => label.scenario === 'third_party_misuse')!.apiKeyIds[0];
    expect(
      run.inventory.find((entry) => entry.keyId === shared)?.thirdParty,
      'the misused key is a partner key',
    ).toBeTruthy();
    for (const entry of run.inventory) {
      const account = run.accounts.find((candidate) => candidate.accountId === entry.accountId)!;
      if (entry.thirdParty === undefined) expect(entry.allowedCountries).toEqual(account.homeCountries);
    }
  });

  it('leaves benign traffic unchanged when an attack is added', () => {
    const attackFree = simulate({ ...base, scenarios: [] });
    const attackKeys = new Set(run.labels.flatMap((label) => label.apiKeyIds));
    const fingerprint = (event: FloodgateEvent): string =>
      event.type === 'message.outbound'
        ? `${event.eventTime}|${event.accountId}|${event.to}|${event.body ?? event.bodyHash}`
        : '';
    const withAttack = new Set(run.events.map(fingerprint));
    const victims = new Set(run.labels.flatMap((label) => label.accountIds));
    const missing = attackFree.events.filter(
      (event) =>
        event.type === 'message.outbound' &&
        !victims.has(event.accountId) &&
        !attackKeys.has(event.apiKeyId) &&
        !withAttack.has(fingerprint(event)),
    );
    expect(missing.slice(0, 2), 'benign messages of uninvolved accounts that changed').toEqual([]);
  });

  it('rejects impossible options with every problem at once', () => {
    expect(() => simulate({ seed: 1.5, startMs: base.startMs, durationMs: -1 })).toThrow(
      SimulationOptionsError,
    );
    expect(() => simulate({ seed: 1.5, startMs: base.startMs, durationMs: -1 })).toThrow(/seed.*durationMs/);
    expect(() =>
      prepareSimulation({ ...base, scenarios: [{ name: 'sms_pumping', atMs: endMs + 1 }] }),
    ).toThrow(/outside the period/);
  });
});

describe('prepareSimulation', () => {
  it('labels every scenario of the default plan over two days without generating traffic', () => {
    const prepared = prepareSimulation({ seed: 3, startMs: testPeriodStartMs, durationMs: 48 * hourMs });
    expect(prepared.labels.map((label) => label.scenario)).toEqual([...scenarioNames]);
    expect(prepared.accounts.length, 'default account count').toBe(300);
    const windows = [...prepared.labels].sort((left, right) => left.startMs - right.startMs);
    for (let index = 1; index < windows.length; index++) {
      expect(
        windows[index]!.startMs,
        `${windows[index]!.scenario} starts after ${windows[index - 1]!.scenario} ends`,
      ).toBeGreaterThan(windows[index - 1]!.endMs);
    }
    const victims = prepared.labels.flatMap((label) => label.accountIds);
    expect(new Set(victims).size, 'each account in at most one scenario').toBe(victims.length);
  });
});
