import { describe, expect, it } from 'vitest';
import type { DetectConfigInput } from '../config.ts';
import type { NormalizedEvent, NormalizedOutbound } from '../normalized-event.ts';
import { DetectionEngine, type EngineOptions } from './engine.ts';
import type { EngineSnapshot } from './snapshot.ts';
import { audit, outbound, prng } from './test-traffic.ts';

const T0 = Date.UTC(2026, 0, 5);
const MIN = 60_000;
const HOUR = 60 * MIN;

function run(engine: DetectionEngine, events: readonly NormalizedEvent[]): string[] {
  const out: string[] = [];
  for (const event of events) for (const d of engine.process(event)) out.push(JSON.stringify(d));
  return out;
}

/**
 * Runs `events` straight through, and with the engine snapshotted before `split` and restored (as a
 * JSON object, and as JSON lines) in a new one; every run must give the same detections and stats.
 */
function expectExactContinuation(
  events: readonly NormalizedEvent[],
  split: number,
  options: EngineOptions = {},
): string[] {
  const straight = new DetectionEngine(options);
  const expected = run(straight, events);
  const first = new DetectionEngine(options);
  const before = run(first, events.slice(0, split));
  const lines = [...first.snapshotLines()].join('\n').split('\n');
  const restoredEngines = [
    DetectionEngine.restore(JSON.parse(JSON.stringify(first.snapshot())) as EngineSnapshot, options),
    DetectionEngine.restoreLines(lines, options),
  ];
  for (const restored of restoredEngines) {
    expect([...before, ...run(restored, events.slice(split))]).toEqual(expected);
    expect(restored.stats()).toEqual(straight.stats());
  }
  return expected;
}

describe('snapshot → restore continues exactly', () => {
  it("with the open minute's cached thresholds and expectation (restored engines read expected 0)", () => {
    const events: NormalizedEvent[] = [];
    // Two hours of 40 messages a minute, then premium-rate numbers in the minute of the restore.
    for (let i = 0; i < 2 * 60 * 40; i++)
      events.push(
        outbound({
          timeMs: T0 + i * 1_500,
          recipientNumeric: 14_150_000_000 + ((i * 7_919) % 99_991) * 1_013,
        }),
      );
    // Restored before the fifth premium-rate message, which fires and says what was expected.
    const split = events.length + 4;
    for (let i = 0; i < 5; i++)
      events.push(
        outbound({
          timeMs: T0 + 2 * HOUR + 1_000 + i * 100,
          numberType: 'premium_rate',
          recipientNumeric: 19_000_000_000 + i * 777_777,
        }),
      );
    const found = expectExactContinuation(events, split);
    expect(found.some((d) => d.includes('destination_anomaly'))).toBe(true);
  });

  it('when another message of the minute would work the thresholds out again with its own overrides', () => {
    const options = { config: { countryOverrides: { FR: { volume: { minRatio1m: 1.2, zScore: 1 } } } } };
    const events: NormalizedEvent[] = [];
    for (let i = 0; i < 2 * 60 * 40; i++) events.push(outbound({ timeMs: T0 + i * 1_500 }));
    for (let i = 0; i < 150; i++) events.push(outbound({ timeMs: T0 + 2 * HOUR + i * 100 }));
    const split = events.length;
    events.push(outbound({ timeMs: T0 + 2 * HOUR + 20_000, country: 'FR', prefix: '+33612' }));
    expectExactContinuation(events, split, options);
  });

  it('and restored under another config, works the cached thresholds out again with it', () => {
    const events: NormalizedEvent[] = [];
    for (let i = 0; i < 2 * 60 * 40; i++) events.push(outbound({ timeMs: T0 + i * 1_500 }));
    for (let i = 0; i < 150; i++) events.push(outbound({ timeMs: T0 + 2 * HOUR + i * 100 }));
    const first = new DetectionEngine();
    run(first, events);
    const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as EngineSnapshot;
    // The same state without any cached thresholds: what a restore must work from under a new config.
    const stripped = JSON.parse(JSON.stringify(snapshot), (key, value) =>
      key === 'thresholds' && Array.isArray(value) ? undefined : value,
    ) as EngineSnapshot;
    expect(JSON.stringify(stripped)).not.toBe(JSON.stringify(snapshot));
    const changed = { config: { countryOverrides: { FR: { volume: { minRatio1m: 1.2, zScore: 1 } } } } };
    const next = [outbound({ timeMs: T0 + 2 * HOUR + 20_000, country: 'FR', prefix: '+33612' })];
    const restored = run(DetectionEngine.restore(snapshot, changed), next);
    expect(restored).toEqual(run(DetectionEngine.restore(stripped, changed), next));
    expect(restored.length).toBeGreaterThan(0);
  });

  it('with the near-duplicate index, including representatives of clusters already dropped', () => {
    const steady = '0123456789abcdef';
    const dropped = '0f0f0f0f0f0f0f0f';
    const nearDropped = '0f0f0f0f0f0f0f0e';
    const events: NormalizedEvent[] = [];
    for (let i = 0; i < 3 * 60 * 2; i++)
      events.push(outbound({ timeMs: T0 + i * 30_000, fingerprint: steady }));
    for (let i = 0; i < 20; i++) events.push(outbound({ timeMs: T0 + i * 30_000 + 1, fingerprint: dropped }));
    events.sort((a, b) => a.timeMs - b.timeMs);
    // `dropped` has been idle past keyIdleTtlMs: the sweep dropped its state. Its near duplicate
    // then reaches 60 people: a known template to the straight engine, and so to the restored one.
    const split = events.length;
    for (let i = 0; i < 60; i++)
      events.push(
        outbound({
          timeMs: T0 + 3 * HOUR + MIN + i * 1_000,
          fingerprint: nearDropped,
          recipientKey: `n${i}`,
        }),
      );
    expectExactContinuation(events, split);
  });

  it('over random mixed traffic of every kind, with small caps that evict (property, seeded)', () => {
    const config: DetectConfigInput = {
      maxAccounts: 6,
      maxSubKeysPerAccount: 3,
      keyIdleTtlMs: 20 * MIN,
      accountIdleTtlMs: 2 * HOUR,
      accountWarmupMs: 30 * MIN,
      allowList: { prefixes: { '+44770': { mode: 'exempt' } } },
    };
    for (let seed = 1; seed <= 6; seed++) {
      const events = mixedTraffic(seed, 6_000);
      const random = prng(seed * 7);
      const split = 1_000 + Math.floor(random() * 4_000);
      expectExactContinuation(events, split, { config });
    }
  });
});

/** A seeded stream of every event kind over 9 accounts, with bursts, near duplicates and gaps. */
function mixedTraffic(seed: number, count: number): NormalizedEvent[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const templates = ['0123456789abcdef', '0123456789abcdee', 'fedcba9876543210', 'a1b2c3d4e5f60718', ''];
  const domains = [[], [], ['shop.example'], ['pay-now.top'], ['x.example', 'y.example']];
  const countries: [string, string][] = [
    ['US', '+141555'],
    ['GB', '+447700'],
    ['TJ', '+992935'],
    ['FR', '+336120'],
  ];
  const events: NormalizedEvent[] = [];
  let t = T0;
  for (let i = 0; i < count; i++) {
    // Mostly seconds apart, sometimes a burst, sometimes a quiet hour.
    const r = random();
    t += r < 0.02 ? 40 * MIN + Math.floor(random() * 40 * MIN) : r < 0.3 ? 50 : Math.floor(random() * 8_000);
    const accountId = `acct_${Math.floor(random() * random() * 9)}`;
    const timeMs = t - (random() < 0.05 ? Math.floor(random() * 45_000) : 0);
    const kind = random();
    if (kind < 0.72) {
      const [country, prefix] = pick(countries);
      const fingerprint = pick(templates);
      const event: NormalizedOutbound = outbound({
        timeMs,
        accountId,
        apiKeyId: `key_${accountId}_${Math.floor(random() * 3)}`,
        sourceIp: `203.0.${Math.floor(random() * 3)}.9`,
        sourceNetwork: `203.0.${Math.floor(random() * 3)}.0/24`,
        country,
        prefix,
        recipientKey: `r${Math.floor(random() * 400)}`,
        recipientNumeric: Number(`${prefix.slice(1)}${String(1_000 + (i % 9_000))}`),
        numberType: random() < 0.03 ? 'premium_rate' : 'mobile',
        fingerprint,
        maskedBody: fingerprint ? `Template ${fingerprint.slice(0, 4)}` : '',
        linkDomains: fingerprint ? pick(domains) : [],
      });
      events.push(event);
    } else if (kind < 0.8) {
      events.push({
        kind: 'inbound',
        eventId: `in${i}`,
        timeMs,
        accountId,
        recipientKey: `r${Math.floor(random() * 400)}`,
        country: 'US',
        classification: random() < 0.7 ? 'opt_out' : 'other',
      });
    } else if (kind < 0.93) {
      const failed = random() < 0.3;
      events.push({
        kind: 'status',
        eventId: `st${i}`,
        timeMs,
        accountId,
        messageId: `m${i}`,
        status: failed ? 'filtered' : 'delivered',
        errorCode: failed ? '30007' : '',
        errorCategory: failed ? 'carrier_filtered' : '',
        country: pick(countries)[0],
      });
    } else if (kind < 0.97) {
      events.push({
        kind: 'feedback',
        eventId: `fb${i}`,
        timeMs,
        accountId,
        messageId: `m${i}`,
        converted: random() < 0.4,
        country: pick(countries)[0],
      });
    } else {
      const network = Math.floor(random() * 3);
      events.push(
        audit({
          timeMs,
          accountId,
          action: pick(['login', 'mfa_disabled', 'api_key_created'] as const),
          mfaUsed: random() < 0.5,
          sourceIp: `198.51.${network}.7`,
          sourceNetwork: `198.51.${network}.0/24`,
          targetApiKeyId: `key_${accountId}_${Math.floor(random() * 3)}`,
        }),
      );
    }
  }
  return events;
}
