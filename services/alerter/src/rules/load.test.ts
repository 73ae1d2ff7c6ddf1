import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RulesError } from '../errors.ts';
import { loadRules, parseRules } from './load.ts';

const examplePath = fileURLToPath(new URL('../../../../infra/alerting/rules.example.yaml', import.meta.url));
const exampleEnv = {
  PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.example/services/T/B/X',
  FLOODGATE_WEBHOOK_SECRET: 'whsec',
  CONTAINMENT_WEBHOOK_URL: 'https://sender.example/contain',
  CONTAINMENT_WEBHOOK_SECRET: 'csec',
};

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): RulesError['problems'] {
  try {
    parseRules(text, 'rules.yaml', { env });
  } catch (error) {
    if (error instanceof RulesError) return error.problems;
    throw error;
  }
  throw new Error('expected the rules to be rejected');
}

describe('rules file', () => {
  it('the example in infra/alerting validates, with defaults applied and secrets from the environment', () => {
    const rules = loadRules(examplePath, { env: exampleEnv });
    expect(rules.rules.map((r) => r.name)).toEqual([
      'compromised-account',
      'opt-out-storm',
      'cross-account-campaign',
      'volume-spike-trial',
      'opt-out-rate',
      'carrier-filtering',
    ]);
    const storm = rules.rules.find((r) => r.name === 'opt-out-storm');
    expect(storm).toMatchObject({
      forMs: 120_000,
      resolveAfterMs: 1_800_000,
      repeatIntervalMs: 4 * 3_600_000,
    });
    expect(rules.rules.find((r) => r.name === 'volume-spike-trial')?.mode).toBe('shadow');
    expect(rules.receivers.get('oncall-pagerduty')).toMatchObject({
      type: 'pagerduty',
      routingKey: 'R0UT1NGKEY',
    });
    const sql = rules.rules.find((r) => r.name === 'opt-out-rate');
    expect(sql).toMatchObject({ type: 'sql', everyMs: 60_000, resolveAfterMs: 0, groupBy: undefined });
  });

  it('reports every problem at once, each with its line, column and path', () => {
    const text = [
      'receivers:',
      '  - name: pd',
      '    type: pagerduty',
      '    routing_key: { env: PD_KEY }',
      '  - name: hook',
      '    type: webhook',
      '    url: not-a-url',
      'rules:',
      '  - name: a',
      '    receivers: [pd, nowhere]',
      '    match:',
      '      kinds: [volume_spike, teleportation]',
      '      min_score: high',
      '    for: soon',
      '  - name: a',
      '    type: sql',
      '    sql: SELECT 1 WHERE x > {limit:UInt32}',
      '    receivers: [pd]',
      '',
    ].join('\n');
    const problems = problemsOf(text);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        'receivers[1].url',
        'receivers[1].secret',
        'rules[0].match.kinds[1]',
        'rules[0].match.min_score',
        'rules[0].for',
      ].sort(),
    );
    expect(byPath['rules[0].match.min_score']?.location).toBe('rules.yaml:13:18');
    expect(byPath['rules[0].for']?.message).toMatch(/duration/);
    // A missing key points at the object that lacks it.
    expect(byPath['receivers[1].secret']?.location).toBe('rules.yaml:5:5');
  });

  it('cross-checks references once the shapes are right: receivers, duplicates, query parameters, secrets', () => {
    const text = [
      'receivers:',
      '  - name: pd',
      '    type: pagerduty',
      '    routing_key: { env: PD_KEY }',
      'rules:',
      '  - name: a',
      '    receivers: [pd, nowhere]',
      '  - name: a',
      '    type: sql',
      '    sql: SELECT 1 WHERE x > {limit:UInt32}',
      '    params: { unused: 1 }',
      '    receivers: [pd]',
      '',
    ].join('\n');
    const problems = problemsOf(text);
    expect(problems.map((p) => `${p.location} ${p.path}: ${p.message}`)).toEqual([
      expect.stringMatching(/^rules\.yaml:7:\d+ rules\[0\]\.receivers\[1\]: unknown receiver "nowhere"/),
      expect.stringMatching(/^rules\.yaml:8:\d+ rules\[1\]\.name: duplicate rule name/),
      expect.stringMatching(/rules\[1\]\.params: missing value for query parameter \{limit\}/),
      expect.stringMatching(/rules\[1\]\.params\.unused: parameter unused is not used/),
    ]);
    // With valid shapes and references, an unset secret is named by its variable.
    const secretProblems = problemsOf(
      'receivers:\n  - name: pd\n    type: pagerduty\n    routing_key: { env: PD_KEY }\nrules:\n  - name: a\n    receivers: [pd]\n',
    );
    expect(secretProblems).toEqual([
      {
        location: 'rules.yaml:4:18',
        path: 'receivers[0].routing_key',
        message: 'environment variable PD_KEY is not set',
      },
    ]);
  });

  it('accepts JSON as well as YAML, and reports a syntax error with its position', () => {
    const rules = parseRules(
      JSON.stringify({
        receivers: [{ name: 'am', type: 'alertmanager', url: 'http://am:9093/' }],
        rules: [{ name: 'all', receivers: ['am'], resolve_after: '90s' }],
      }),
      'rules.json',
    );
    expect(rules.rules[0]).toMatchObject({ type: 'detection', resolveAfterMs: 90_000, groupBy: ['account'] });
    expect(rules.receivers.get('am')).toMatchObject({ url: 'http://am:9093' });
    const syntax = problemsOf('rules:\n  - name: [unclosed\n');
    expect(syntax[0]?.location).toMatch(/^rules\.yaml:\d+:\d+$/);
  });

  it('the error message lists each problem on its own line so one edit fixes them all', () => {
    expect(() => parseRules('rules: []\nsurprise: 1\n', 'r.yaml')).toThrow(
      /2 problems[\s\S]*r\.yaml:1:8 rules: expected at least one rule[\s\S]*surprise/,
    );
  });
});
