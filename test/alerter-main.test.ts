import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('alerter main: an invalid rules file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-alerter-main-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops the start with exit status 2 and names every problem with its line', async () => {
    const file = join(dir, 'rules.yaml');
    writeFileSync(
      file,
      [
        'receivers:',
        '  - { name: pd, type: pagerduty, routing_key: { env: FLOODGATE_TEST_UNSET_KEY } }',
        'rules:',
        '  - name: one',
        '    receivers: [pd]',
        '    match: { min_score: lots }',
        '    resolve_after: a while',
        '',
      ].join('\n'),
    );
    const failure = await run(process.execPath, ['--conditions=source', 'services/alerter/src/main.ts'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        ALERT_RULES_FILE: file,
        KAFKA_BROKERS: '127.0.0.1:1',
        ADMIN_ADDRESS: '127.0.0.1:0',
      },
      timeout: 30_000,
    }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure, 'the alerter must not start').toBeDefined();
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain(`${file}:6:25 rules[0].match.min_score`);
    expect(failure?.stderr).toMatch(
      new RegExp(`${file}:7:\\d+ rules\\[0\\]\\.resolve_after: expected a duration`),
    );
  });
});
