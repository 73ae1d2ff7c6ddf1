import { describe, expect, it } from 'vitest';
import { detectConfigSchema, parseDetectConfig } from './config.ts';
import { DetectionEngine } from './engine/engine.ts';
import { outbound } from './engine/test-traffic.ts';

const T0 = Date.UTC(2026, 10, 2);

function burst(accountId: string, country = 'US', count = 200) {
  return Array.from({ length: count }, (_, i) => outbound({ timeMs: T0 + i * 100, accountId, country }));
}

describe('detect config', () => {
  it('documents its defaults and rejects nonsense with every path named', () => {
    expect(parseDetectConfig().volume.minCount1m).toBe(30);
    expect(() => parseDetectConfig({ volume: { minRatio: -1 }, allowedLatenessMs: 'soon' })).toThrow(
      /minRatio[\s\S]*allowedLatenessMs|allowedLatenessMs[\s\S]*minRatio/,
    );
  });

  it('rejects settings that could not work, naming each', () => {
    const problems = (input: unknown) => {
      const result = detectConfigSchema.safeParse(input);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(
      problems({ allowList: { prefixes: { '+44 7700': {} }, templates: { 'not-a-fingerprint': {} } } }),
    ).toEqual([
      'allowList.templates.not-a-fingerprint: a template fingerprint is 16 hex digits',
      "allowList.prefixes.+44 7700: a prefix is up to 15 digits after an optional '+'",
    ]);
    expect(problems({ allowedLatenessMs: 10 * 60_000 })).toEqual([
      'allowedLatenessMs: must not exceed windowsMs.medium (300000 ms): later events could not be counted',
    ]);
    expect(problems({ windowsMs: { short: 600_000 }, severity: { warningScore: 3 } })).toEqual([
      'windowsMs: windows must be ordered: short ≤ medium ≤ long',
      'severity.criticalScore: must not be below severity.warningScore',
    ]);
    expect(problems({ severity: { maxByKind: { volume_spike: 'page' } } })).toHaveLength(1);
    expect(problems({ allowList: { prefixes: { '+4474001': {}, '1415': {} } } })).toEqual([]);
  });

  it('exempt allow-listed accounts: a known blast never produces a detection', () => {
    const engine = new DetectionEngine({
      config: { allowList: { accounts: { acct_blast: { mode: 'exempt', reason: 'weekly newsletter' } } } },
    });
    const found = burst('acct_blast').flatMap((e) => [...engine.process(e)]);
    expect(found).toEqual([]);
  });

  it('per-country overrides lower the floors for a low-traffic destination', () => {
    const strict = new DetectionEngine();
    const tuned = new DetectionEngine({
      config: { countryOverrides: { IS: { volume: { minCount1m: 5, minCount5m: 5, minCount1h: 5 } } } },
    });
    const events = burst('acct_is', 'IS', 20);
    const strictFound = events.flatMap((e) => [...strict.process(e)]).filter((d) => d.key === 'country:IS');
    const tunedFound = events.flatMap((e) => [...tuned.process(e)]).filter((d) => d.key === 'country:IS');
    expect(strictFound).toEqual([]);
    expect(tunedFound.length).toBeGreaterThan(0);
  });

  it('keeps what each layer sets: an override changes only its own fields', () => {
    const lowIs = { volume: { minCount1m: 5, minCount5m: 5, minCount1h: 5 } };
    expect(parseDetectConfig({ countryOverrides: { IS: lowIs } }).countryOverrides['IS']).toEqual(lowIs);
    // An account override of another field keeps the country's floors (it put them back to the
    // defaults when overrides were parsed with them).
    const engine = new DetectionEngine({
      config: {
        countryOverrides: { IS: lowIs },
        accountOverrides: { acct_is: { volume: { knownPeakFactor: 2 } } },
      },
    });
    const found = burst('acct_is', 'IS', 20).flatMap((e) => [...engine.process(e)]);
    expect(found.filter((d) => d.key === 'country:IS').length).toBeGreaterThan(0);
  });

  it('layers an account override over the country override, per account, whatever the order', () => {
    const lowIs = { volume: { minCount1m: 5, minCount5m: 5, minCount1h: 5 } };
    const engine = new DetectionEngine({
      config: {
        countryOverrides: { IS: lowIs },
        // This account's own floors win over the country's for its traffic only.
        accountOverrides: {
          acct_big: { volume: { minCount1m: 10_000, minCount5m: 10_000, minCount1h: 10_000 } },
        },
      },
    });
    const countryHits = (accountId: string) =>
      burst(accountId, 'IS', 20)
        .flatMap((e) => [...engine.process(e)])
        .filter((d) => d.key === 'country:IS' && d.accountId === accountId).length;
    // Interleaved order: a cached country entry must not leak into the overridden account, nor back.
    expect(countryHits('acct_a')).toBeGreaterThan(0);
    expect(countryHits('acct_big')).toBe(0);
    expect(countryHits('acct_c')).toBeGreaterThan(0);
  });
});
