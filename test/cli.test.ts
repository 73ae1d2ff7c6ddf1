import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAllInOne } from '@floodgate/all-in-one';
import { detectorConfigSchema } from '@floodgate/detector';
import { ingestConfigSchema } from '@floodgate/ingest';
import { createKafka } from '@floodgate/kafka';
import { createLogger, createRegistry, startAdminServer } from '@floodgate/observability';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildCli, type CliRun, runCli } from './setup/cli.ts';
import { eventually, topicNames } from './setup/pipeline.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const _BIN = join(ROOT, 'packages/cli/dist/main.js');

function floodgate(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliRun> {
  return runCli(args, env, input);
}

describe('the floodgate CLI (built binary)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-cli-'));
  const dataPath = join(dir, 'ch');
  const env = { CLICKHOUSE_DATA_PATH: dataPath };

  beforeAll(() => {
    // The binary under test is the compiled one; build it (incremental: fast when up to date).
    buildCli();
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints help, and exits 2 with an actionable message on bad usage', async () => {
    const help = await floodgate(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['run', 'simulate', 'replay', 'query', 'migrate', 'check-config'])
      expect(help.stdout).toContain(`  ${command}`);
    expect((await floodgate([])).code).toBe(2);
    const unknown = await floodgate(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const badOption = await floodgate(['replay', '--speed', 'fast', 'x.ndjson']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/replay: .*--speed.*floodgate replay --help/);
    const missingParam = await floodgate(['query', '--name', 'top_anomalous_accounts'], env);
    expect(missingParam.code).toBe(2);
    expect(missingParam.stderr).toContain('--param since=');
    for (const command of ['run', 'simulate', 'replay', 'query', 'migrate', 'check-config']) {
      const run = await floodgate([command, '--help']);
      expect(run.code, command).toBe(0);
      expect(run.stdout, command).toMatch(/^Usage: floodgate /);
    }
  });

  it('check-config names every wrong variable and hides secrets', async () => {
    const bad = await floodgate(['check-config', 'ingest'], {
      KAFKA_BROKERS: 'not a broker',
      BODY_STORAGE: 'everything',
      PREFIX_DIGITS: 'six',
    });
    expect(bad.code).toBe(2);
    for (const variable of ['KAFKA_BROKERS', 'BODY_STORAGE', 'PREFIX_DIGITS'])
      expect(bad.stderr).toContain(variable);
    const good = await floodgate(['check-config', 'ingest'], {
      KAFKA_BROKERS: '127.0.0.1:9092',
      FLOODGATE_HMAC_KEY: 'a-very-secret-hmac-key-42',
    });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).not.toContain('a-very-secret-hmac-key-42');
    expect(JSON.parse(good.stdout).kafka.brokers).toEqual(['127.0.0.1:9092']);
  });

  it('migrates, then simulates to a file, replays it as a backtest and queries the result read-only', async () => {
    const first = await floodgate(['migrate'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/applied [1-9]\d*, already applied 0/);
    expect((await floodgate(['migrate'], env)).stdout).toMatch(/applied 0, already applied [1-9]/);

    const events = join(dir, 'events.ndjson');
    const labelsFile = join(dir, 'labels.json');
    const inventoryFile = join(dir, 'inventory.json');
    const sim = await floodgate([
      'simulate',
      '--to',
      'file',
      '--out',
      events,
      '--labels',
      labelsFile,
      '--inventory',
      inventoryFile,
      '--history',
      '3h',
      '--duration',
      '0s',
      '--accounts',
      '15',
      '--scenario',
      'account_takeover',
    ]);
    expect(sim.code, sim.stderr).toBe(0);
    const labels = JSON.parse(readFileSync(labelsFile, 'utf8')) as {
      scenario: string;
      accountIds: string[];
    }[];
    const victim = labels[0]?.accountIds[0];
    expect(victim).toBeTruthy();
    // A line that is no event: reported with its number and skipped, not fatal.
    const lines = readFileSync(events, 'utf8').trimEnd().split('\n');
    writeFileSync(
      events,
      [...lines.slice(0, 10), '{"type":"message.outbound"}', ...lines.slice(10)].join('\n'),
    );

    const replay = await floodgate(
      ['replay', events, '--output', 'ndjson', '--inventory', inventoryFile],
      env,
    );
    expect(replay.code, replay.stderr.slice(-2000)).toBe(0);
    expect(replay.stderr).toContain('line 11:');
    const detections = replay.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; accountId: string; severity: string; id: string });
    expect(detections.some((d) => d.accountId === victim && d.severity === 'critical')).toBe(true);

    const top = await floodgate(
      [
        'query',
        '--name',
        'top_anomalous_accounts',
        '--param',
        'since=2000-01-01 00:00:00',
        '--param',
        'limit=5',
        '--format',
        'json',
      ],
      env,
    );
    expect(top.code, top.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(top.stdout))).toContain(victim);
    const count = await floodgate(
      ['query', 'SELECT count() AS n FROM detections FINAL', '--format', 'ndjson'],
      env,
    );
    expect(Number(JSON.parse(count.stdout.trim()).n)).toBe(new Set(detections.map((d) => d.id)).size);

    const report = await floodgate(['report', 'security', '--since', '3650d', '--format', 'json'], env);
    expect(report.code, report.stderr).toBe(0);
    const sections = (
      JSON.parse(report.stdout) as { sections: { section: string; rows: Record<string, unknown>[] }[] }
    ).sections;
    expect(sections.map((s) => s.section)).toContain('detections_per_account');
    expect(JSON.stringify(sections.find((s) => s.section === 'detections_per_account')?.rows)).toContain(
      victim,
    );
    const inventory = JSON.parse(readFileSync(inventoryFile, 'utf8')) as {
      allowedNetworks: string[];
      allowedCountries: string[];
    }[];
    const unscoped = sections.find((s) => s.section === 'unscoped_keys')?.rows ?? [];
    expect(unscoped.length, 'the keys without a network or country scope').toBe(
      inventory.filter((k) => k.allowedNetworks.length === 0 || k.allowedCountries.length === 0).length,
    );

    const write = await floodgate(['query', "INSERT INTO detections (id) SELECT 'forged'"], env);
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/readonly/i);
  });

  it('replays events piped on stdin into the embedded engine (which would otherwise read them as INSERT data)', async () => {
    // chdb-io/chdb-core#239: the embedded engine treats bytes waiting on the host's fd 0 as extra
    // INSERT data, so with a pipe on stdin every INSERT failed (code 48) and the replay lost it all.
    const events = join(dir, 'stdin-events.ndjson');
    const sim = await floodgate([
      'simulate',
      '--out',
      events,
      ...'--to file --history 1h --duration 0s --accounts 5'.split(' '),
    ]);
    expect(sim.code, sim.stderr).toBe(0);
    const lines = readFileSync(events, 'utf8').trimEnd().split('\n');
    const outbound = lines.filter((l) => l.includes('"message.outbound"')).length;
    expect(outbound).toBeGreaterThan(100);
    const stdinEnv = { CLICKHOUSE_DATA_PATH: join(dir, 'ch-stdin') };
    const replay = await floodgate(['replay', '-', '--output', 'ndjson'], stdinEnv, `${lines.join('\n')}\n`);
    expect(replay.code, replay.stderr.slice(-2000)).toBe(0);
    const stored = await floodgate(
      ['query', 'SELECT count() AS n FROM messages_outbound', '--format', 'ndjson'],
      stdinEnv,
    );
    expect(stored.code, stored.stderr).toBe(0);
    expect(Number(JSON.parse(stored.stdout.trim()).n), 'every outbound line read from stdin is stored').toBe(
      outbound,
    );
  });

  it('queries through the admin endpoint of a running all-in-one that holds the embedded engine', async () => {
    const prefix = `cli${Date.now()}`;
    const common = {
      kafka: { brokers: inject('kafkaBrokers').split(','), clientId: prefix },
      clickhouse: { dataPath },
      topics: topicNames(prefix),
    };
    const handle = await startAllInOne(
      ingestConfigSchema.parse({ ...common, groupId: `${prefix}-ingest`, partitions: 1 }),
      detectorConfigSchema.parse({ ...common, groupId: `${prefix}-detector` }),
      createLogger({ service: 'test', level: 'warn' }),
    );
    const admin = await startAdminServer(
      '127.0.0.1:0',
      createRegistry('t'),
      () => handle.ready(),
      handle.adminRoutes,
    );
    handle.onAdminUrl(admin.url);
    try {
      const viaService = await floodgate(['query', 'SELECT count() AS n FROM detections FINAL'], env);
      expect(viaService.code, viaService.stderr).toBe(0);
      expect(viaService.stderr).toContain(`service at ${admin.url}`);
      expect(Number(viaService.stdout.split('\n')[2])).toBeGreaterThan(0);
      // Without the token the endpoint refuses.
      const anonymous = await fetch(`${admin.url}/query`, { method: 'POST', body: '{"sql":"SELECT 1"}' });
      expect(anonymous.status).toBe(401);
    } finally {
      await admin.close();
      await handle.stop();
    }
    // Stopped: the advertisement is gone and the CLI opens the engine itself again.
    const direct = await floodgate(['query', 'SELECT 1 AS one'], env);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toContain('embedded engine');
  });

  it('simulate --to kafka produces live traffic to the configured topics', async () => {
    const prefix = `clisim${Date.now()}`;
    const topics = topicNames(prefix);
    const run = await floodgate(
      [
        'simulate',
        // Benign traffic follows the accounts' local time of day: 3 accounts over 20 minutes sent
        // nothing at 04:44 UTC (a CI run failed on it). 20 over an hour send at least 555 events at
        // any half hour of the week (seed 1, checked against the simulator).
        '--history',
        '1h',
        '--duration',
        '2s',
        '--accounts',
        '20',
        '--scenario',
        'none',
        '--rate',
        '5000',
      ],
      {
        KAFKA_BROKERS: inject('kafkaBrokers'),
        TOPIC_OUTBOUND: topics.outbound,
        TOPIC_INBOUND: topics.inbound,
        TOPIC_STATUS: topics.status,
        TOPIC_FEEDBACK: topics.feedback,
        TOPIC_AUDIT: topics.audit,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const produced = Number(/simulate: (\d+) events \(\d+ scenario/.exec(run.stderr)?.[1]);
    expect(produced).toBeGreaterThan(0);
    const admin = createKafka({
      brokers: inject('kafkaBrokers').split(','),
      clientId: prefix,
      tls: false,
      tlsRejectUnauthorized: true,
    }).admin();
    await admin.connect();
    // Right after the CLI created the topics the broker may still answer "not the leader for that
    // topic-partition" (seen in CI), which kafkajs' admin does not retry: read until it answers.
    const stored = await eventually(
      async () => {
        let sum = 0;
        for (const topic of [topics.outbound, topics.inbound, topics.status, topics.feedback, topics.audit])
          for (const p of await admin.fetchTopicOffsets(topic)) sum += Number(p.high);
        return { sum };
      },
      15_000,
      'the topic offsets',
    ).then((r) => r.sum);
    await admin.disconnect();
    expect(stored).toBe(produced);
  });
});
