import { describe, expect, it } from 'vitest';
import type { DetectConfigInput } from '../config.ts';
import type { Detection } from '../detection.ts';
import type { NormalizedEvent } from '../normalized-event.ts';
import { DetectionEngine } from './engine.ts';
import { merge, outbound, pumpingBurst, steadyTraffic } from './test-traffic.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 2);
const history = steadyTraffic(T0, T0 + 30 * HOUR, 6, 7);
const attackStart = T0 + 30 * HOUR + 37 * MIN;

const pumping = pumpingBurst(attackStart);

function detectionsAfterAttack(config: DetectConfigInput, attack: NormalizedEvent[]) {
  const engine = new DetectionEngine({ config });
  const found: Detection[] = [];
  for (const event of merge(history, attack))
    for (const d of engine.process(event)) if (d.detectedAtMs >= attackStart) found.push(d);
  return { found, stats: engine.stats() };
}

const labels = (found: Detection[]) => [...new Set(found.map((d) => `${d.kind} ${d.key}`))].sort();

describe('allow-lists', () => {
  it('without one, the pumping burst is a destination anomaly (the control for the tests below)', () => {
    const { found } = detectionsAfterAttack({}, pumping);
    expect(labels(found)).toContain('destination_anomaly country:TJ');
  });

  it('an exempt prefix (any length, longest wins) leaves its messages out of detection', () => {
    for (const prefix of ['+992935', '992', '+99293500']) {
      const { found, stats } = detectionsAfterAttack(
        { allowList: { prefixes: { [prefix]: { mode: 'exempt' } } } },
        pumping,
      );
      expect(found, prefix).toEqual([]);
      expect(stats.allowListed, prefix).toBe(200);
    }
    // A prefix the numbers do not start with changes nothing.
    const other = detectionsAfterAttack(
      { allowList: { prefixes: { '+992936': { mode: 'exempt' } } } },
      pumping,
    );
    expect(labels(other.found)).toContain('destination_anomaly country:TJ');
    expect(other.stats.allowListed).toBe(0);
  });

  it('an exempt recipient leaves messages to it (and its replies) out of detection', () => {
    const recipients = Object.fromEntries(pumping.map((e) => [e.recipientKey, { mode: 'exempt' as const }]));
    const { found, stats } = detectionsAfterAttack({ allowList: { recipients } }, pumping);
    expect(found).toEqual([]);
    expect(stats.allowListed).toBe(200);
    const engine = new DetectionEngine({ config: { allowList: { recipients } } });
    engine.process({
      kind: 'inbound',
      eventId: 'stop',
      timeMs: attackStart,
      accountId: 'acct_a',
      recipientKey: 'p0',
      country: 'TJ',
      classification: 'opt_out',
    });
    expect(engine.stats().allowListed).toBe(1);
  });

  it('a prefix with its own thresholds applies them to its messages only', () => {
    const lenient = {
      mode: 'thresholds' as const,
      overrides: {
        destination: {
          sequentialMinRun: 10_000,
          minRareCountryCount5m: 100_000,
          minRareCountryCountLong: 100_000,
        },
      },
    };
    const destination = (prefix: string) => {
      const { found, stats } = detectionsAfterAttack(
        { allowList: { prefixes: { [prefix]: lenient } } },
        pumping,
      );
      expect(stats.allowListed).toBe(0);
      return found.filter((d) => d.kind === 'destination_anomaly');
    };
    expect(destination('+992935').map((d) => d.evidence.reason)).toEqual([]);
    // The same thresholds on another prefix leave the pumped one's defaults in place.
    expect(destination('+992936').length).toBeGreaterThan(0);
  });

  it("an exempt template's blast cannot page through the account's other messages either", () => {
    // 600 messages of an allow-listed newsletter in 2 minutes, and the usual OTPs beside it.
    const blast = Array.from({ length: 600 }, (_, i) =>
      outbound({
        timeMs: attackStart + i * 200,
        fingerprint: 'ffee0011ffee0011',
        maskedBody: 'Our winter newsletter',
        recipientKey: `n${i}`,
      }),
    );
    const otps = Array.from({ length: 20 }, (_, i) =>
      outbound({ timeMs: attackStart + 1_000 + i * 6_000, recipientKey: `otp${i}` }),
    );
    const control = detectionsAfterAttack({}, [...blast, ...otps]).found;
    expect(control.some((d) => d.kind === 'volume_spike')).toBe(true);
    const exempt = { allowList: { templates: { ffee0011ffee0011: { mode: 'exempt' as const } } } };
    const { found, stats } = detectionsAfterAttack(exempt, [...blast, ...otps]);
    expect(found).toEqual([]);
    expect(stats.allowListed).toBe(600);
  });

  it("leaves out the recipients' replies to exempt messages too (their sends are in no window)", () => {
    // A newsletter to 2,000 people in 10 minutes; 1.5 % of them reply STOP, a normal rate.
    const start = attackStart;
    const blast = Array.from({ length: 2_000 }, (_, i) =>
      outbound({
        timeMs: start + i * 300,
        fingerprint: 'ffee0011ffee0011',
        maskedBody: 'Our winter newsletter',
        recipientKey: `n${i}`,
      }),
    );
    const stops: NormalizedEvent[] = Array.from({ length: 30 }, (_, i) => ({
      kind: 'inbound',
      eventId: `s${i}`,
      timeMs: start + 2 * MIN + i * 15_000,
      accountId: 'acct_a',
      recipientKey: `n${i * 60}`,
      country: 'US',
      classification: 'opt_out',
    }));
    const optOuts = (config: DetectConfigInput) => {
      const { found, stats } = detectionsAfterAttack(config, [...blast, ...stops]);
      return { spikes: found.filter((d) => d.kind === 'opt_out_spike'), stats };
    };
    expect(optOuts({}).spikes).toEqual([]);
    const exempt = optOuts({ allowList: { templates: { ffee0011ffee0011: { mode: 'exempt' } } } });
    expect(exempt.spikes).toEqual([]);
    expect(exempt.stats.allowListed).toBe(2_030);
  });

  it('an exempt template covers its near duplicates (within the configured Hamming distance), not others', () => {
    const variant = (fingerprint: string) =>
      Array.from({ length: 300 }, (_, i) =>
        outbound({
          timeMs: attackStart + i * 200,
          fingerprint,
          maskedBody: 'x',
          recipientKey: `v${i}`,
        }),
      );
    const exempt = { allowList: { templates: { FFEE0011FFEE0011: { mode: 'exempt' as const } } } };
    // Three bits off: a near duplicate. Eight bits off: another template.
    expect(detectionsAfterAttack(exempt, variant('ffee0011ffee0016')).stats.allowListed).toBe(300);
    const far = detectionsAfterAttack(exempt, variant('ffee0011ffee00ee'));
    expect(far.stats.allowListed).toBe(0);
    expect(far.found.length).toBeGreaterThan(0);
  });

  it('ids of accounts, keys and templates are looked up as themselves, never as object properties', () => {
    const engine = new DetectionEngine({
      config: { allowList: { accounts: { acct_x: { mode: 'exempt' } } } },
    });
    for (const accountId of ['constructor', '__proto__', 'toString'])
      engine.process(outbound({ timeMs: T0, accountId, apiKeyId: 'hasOwnProperty' }));
    expect(engine.stats().allowListed).toBe(0);
    expect(engine.stats().processed).toBe(3);
  });
});
