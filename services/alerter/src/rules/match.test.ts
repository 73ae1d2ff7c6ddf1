import type { Detection } from '@floodgate/detect';
import { describe, expect, it } from 'vitest';
import { type DetectionRule, parseRules } from './load.ts';
import { alertSeverityOf, groupKeyOf, matchesDetection, observedRatio } from './match.ts';

function rule(yamlRule: string): DetectionRule {
  const set = parseRules(
    `receivers:\n  - { name: am, type: alertmanager, url: "http://am:9093" }\nrules:\n${yamlRule}`,
    'r.yaml',
  );
  return set.rules[0] as DetectionRule;
}

const detection = (over: Partial<Detection> = {}): Detection =>
  ({
    id: 'd1',
    kind: 'credential_anomaly',
    accountId: 'acct_1',
    key: 'api_key:k1',
    windowStartMs: 0,
    windowEndMs: 60_000,
    detectedAtMs: 60_000,
    observed: 120,
    expected: 10,
    score: 8,
    severity: 'critical',
    labels: { scope: 'api_key' },
    evidence: {} as Detection['evidence'],
    ...over,
  }) as Detection;

describe('detection rule matching', () => {
  it('matches on kind, severity, score, ratio, account and labels together', () => {
    const r = rule(
      '  - name: r\n    receivers: [am]\n    match: { kinds: [credential_anomaly], severities: [critical], min_score: 5, min_ratio: 10, accounts: [acct_1], labels: { scope: api_key } }\n',
    );
    expect(matchesDetection(r, detection())).toBe(true);
    expect(matchesDetection(r, detection({ kind: 'volume_spike' })), 'kind').toBe(false);
    expect(matchesDetection(r, detection({ severity: 'warning' })), 'severity').toBe(false);
    expect(matchesDetection(r, detection({ score: 4.9 })), 'score').toBe(false);
    expect(matchesDetection(r, detection({ observed: 99 })), 'ratio 9.9').toBe(false);
    expect(matchesDetection(r, detection({ accountId: 'acct_2' })), 'account').toBe(false);
    expect(matchesDetection(r, detection({ labels: { scope: 'account' } })), 'labels').toBe(false);
  });

  it('an empty match takes everything except excluded accounts', () => {
    const r = rule('  - name: r\n    receivers: [am]\n    match: { exclude_accounts: [acct_2] }\n');
    expect(matchesDetection(r, detection({ kind: 'volume_spike', severity: 'info' }))).toBe(true);
    expect(matchesDetection(r, detection({ accountId: 'acct_2' }))).toBe(false);
  });

  it('treats something observed against nothing expected as infinitely anomalous', () => {
    expect(observedRatio({ observed: 3, expected: 0 })).toBe(Number.POSITIVE_INFINITY);
    expect(observedRatio({ observed: 0, expected: 0 })).toBe(0);
  });

  it('maps severities through the rule (fixed, mapped, or the detection’s own)', () => {
    expect(alertSeverityOf(rule('  - { name: r, receivers: [am], severity: error }\n'), detection())).toBe(
      'error',
    );
    const mapped = rule('  - { name: r, receivers: [am], severity: { warning: critical } }\n');
    expect(alertSeverityOf(mapped, detection({ severity: 'warning' }))).toBe('critical');
    expect(alertSeverityOf(mapped, detection({ severity: 'info' }))).toBe('info');
  });

  it('groups by the chosen labels (default: account)', () => {
    expect(groupKeyOf(['account'], { account: 'acct_1', kind: 'x' })).toBe('account=acct_1');
    expect(groupKeyOf(undefined, { b: '2', a: '1' })).toBe('a=1,b=2');
  });
});
