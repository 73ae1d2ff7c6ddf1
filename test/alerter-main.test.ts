import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually } from './setup/pipeline.ts';
import { startServiceProcess } from './setup/service-process.ts';

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

describe('alerter main: the incident console', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-alerter-console-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rules = join(dir, 'rules.yaml');
  writeFileSync(
    rules,
    'receivers:\n  - { name: hook, type: webhook, url: "http://127.0.0.1:1/hook", secret: alerter-console-webhook-secret }\nrules:\n  - { name: all, receivers: [hook] }\n',
  );

  it('names a bad CONSOLE_USERS and exits 2', async () => {
    const failure = await run(process.execPath, ['--conditions=source', 'services/alerter/src/main.ts'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        ALERT_RULES_FILE: rules,
        KAFKA_BROKERS: '127.0.0.1:1',
        ADMIN_ADDRESS: '127.0.0.1:0',
        CONSOLE_USERS: 'alice:short',
        CONSOLE_TOKEN: 'too-short',
      },
      timeout: 30_000,
    }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('CONSOLE_USERS');
    expect(failure?.stderr).toContain('CONSOLE_TOKEN');
    expect(failure?.stderr).not.toContain('alice:short');
  });

  it('serves the console on its admin address when run alone: 401 without credentials, pages with them', async () => {
    const token = 'alerter-console-token-0123';
    const service = await startServiceProcess('alerter', {
      KAFKA_BROKERS: inject('kafkaBrokers'),
      CLICKHOUSE_DATA_PATH: join(dir, 'ch'),
      ALERT_RULES_FILE: rules,
      ALERTER_GROUP_ID: `alerter-console-${Date.now()}`,
      CONSOLE_TOKEN: token,
      CONSOLE_USERS: 'carol:carols-password-1',
      LOG_LEVEL: 'warn',
    });
    try {
      await Promise.race([
        eventually(() => service.ready(), 60_000, 'the alerter ready'),
        service.exited.then(({ code }) => {
          throw new Error(`the alerter exited with ${code}`);
        }),
      ]).catch((error: Error) => {
        throw new Error(`${error.message}\n${service.output().slice(-3_000)}`);
      });
      expect((await fetch(`${service.adminUrl}/incidents`)).status).toBe(401);
      const basic = (await fetch(`${service.adminUrl}/incidents`)).headers.get('www-authenticate');
      expect(basic).toContain('Basic');
      const list = await fetch(`${service.adminUrl}/incidents?state=all`, {
        headers: { authorization: `Basic ${Buffer.from('carol:carols-password-1').toString('base64')}` },
      });
      expect(list.status).toBe(200);
      const body = await list.text();
      expect(body).toContain('No incidents match.');
      expect(body).toContain('carol');
      const overview = await fetch(`${service.adminUrl}/`, { headers: { authorization: `Bearer ${token}` } });
      expect(overview.status).toBe(200);
      expect(await overview.text()).toContain('Pipeline health');
      const chartLibrary = await fetch(`${service.adminUrl}/assets/uPlot.iife.min.js`);
      expect(chartLibrary.status).toBe(200);
      expect((await chartLibrary.text()).length).toBeGreaterThan(20_000);
      // The token never reaches the logs.
      expect(service.output()).not.toContain(token);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});
