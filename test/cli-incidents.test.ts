import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alerterConfigSchema, parseRules } from '@floodgate/alerter';
import { type AllInOneHandle, startAllInOne } from '@floodgate/all-in-one';
import { type Clickhouse, createClickhouse } from '@floodgate/clickhouse';
import { clickhouseConnectionSchema } from '@floodgate/config';
import { detectorConfigSchema } from '@floodgate/detector';
import { ingestConfigSchema } from '@floodgate/ingest';
import { createKafka, ensureTopics } from '@floodgate/kafka';
import { type AdminServer, createLogger, createRegistry, startAdminServer } from '@floodgate/observability';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, makeDetection, startReceiver, type TestReceiver } from './alerter-harness.ts';
import { buildCli, type CliRun, runCli } from './setup/cli.ts';
import { topicNames } from './setup/pipeline.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const _BIN = join(ROOT, 'packages/cli/dist/main.js');

type Run = CliRun;

interface PagerDutyEvent {
  event_action: string;
  dedup_key: string;
  payload?: { custom_details?: Record<string, unknown> };
}

interface ListedIncident {
  id: string;
  state: string;
  account: string;
  acknowledged_by: string;
  resolved_by: string;
}

describe('floodgate incidents and silence (built binary)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-cli-incidents-'));
  const dataPath = join(dir, 'ch');
  const env = { CLICKHOUSE_DATA_PATH: dataPath, USER: 'cli-tester' };
  const prefix = `cliinc${Date.now()}`;
  const topics = topicNames(prefix);
  let receiver: TestReceiver;
  let running: { handle: AllInOneHandle; admin: AdminServer; reader: Clickhouse } | undefined;

  const floodgate = (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    runCli(args, { ...env, ...extraEnv });
  const ok = async (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> => {
    const run = await floodgate(args, extraEnv);
    expect(run.code, `floodgate ${args.join(' ')} failed:\n${run.stderr}`).toBe(0);
    return run;
  };
  const pagerDuty = (): PagerDutyEvent[] => receiver.requests.map((r) => r.json as PagerDutyEvent);

  /** The all-in-one with its alerter on the data directory, advertising its admin endpoint as `floodgate run all` does. */
  async function startService(): Promise<NonNullable<typeof running>> {
    const common = {
      kafka: { brokers: inject('kafkaBrokers').split(','), clientId: prefix },
      clickhouse: { dataPath },
      topics,
    };
    const rules = parseRules(
      `
receivers:
  - { name: pd, type: pagerduty, url: "${receiver.url}/v2/enqueue", routing_key: test-routing-key }
rules:
  - name: account-compromise
    receivers: [pd]
    repeat_interval: 1h
    resolve_after: 1h
`,
      'cli-rules.yaml',
      { env: {} },
    );
    const alerterConfig = alerterConfigSchema.parse({
      ...common,
      groupId: `${prefix}-alerter`,
      fromBeginning: true,
      rulesFile: 'cli-rules.yaml',
      evaluationIntervalMs: 100,
      silenceRefreshMs: 200,
      actionRefreshMs: 200,
      delivery: { initialBackoffMs: 50, maxBackoffMs: 300, maxAttempts: 5, drainMs: 1_000 },
    });
    const handle = await startAllInOne(
      ingestConfigSchema.parse({ ...common, groupId: `${prefix}-ingest`, partitions: 1 }),
      detectorConfigSchema.parse({ ...common, groupId: `${prefix}-detector` }),
      createLogger({ service: 'test', level: 'warn' }),
      { config: alerterConfig, rules },
    );
    const admin = await startAdminServer(
      '127.0.0.1:0',
      createRegistry('t'),
      () => handle.ready(),
      handle.adminRoutes,
    );
    handle.onAdminUrl(admin.url);
    // The same process may open the engine again (one shared session): the test's own reads.
    const reader = await createClickhouse(clickhouseConnectionSchema.parse({ dataPath }));
    await eventually(async () => handle.ready().ready, 30_000, 'the all-in-one to be ready');
    running = { handle, admin, reader };
    return running;
  }
  async function stopService(): Promise<void> {
    if (!running) return;
    const { handle, admin, reader } = running;
    running = undefined;
    await reader.close();
    await admin.close();
    await handle.stop();
  }
  async function rows<T>(
    reader: Clickhouse,
    query: string,
    params: Record<string, unknown> = {},
  ): Promise<T[]> {
    return (await reader.client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
  }
  async function produce(accountId: string, detectionId: string): Promise<void> {
    const producer = createKafka({
      brokers: inject('kafkaBrokers').split(','),
      clientId: prefix,
      tls: false,
      tlsRejectUnauthorized: true,
    }).producer();
    await producer.connect();
    await producer.send({
      topic: topics.detections,
      acks: -1,
      messages: [{ key: accountId, value: JSON.stringify(makeDetection(detectionId, accountId)) }],
    });
    await producer.disconnect();
  }

  beforeAll(async () => {
    // The binary under test is the compiled one; build it (incremental: fast when up to date).
    buildCli();
    receiver = await startReceiver();
    const admin = createKafka({
      brokers: inject('kafkaBrokers').split(','),
      clientId: prefix,
      tls: false,
      tlsRejectUnauthorized: true,
    }).admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: topics.detections, partitions: 1 }]);
    await admin.disconnect();
  }, 180_000);
  afterAll(async () => {
    await stopService();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bad usage exits 2 with a message that says what to type', async () => {
    const cases: [string[], RegExp][] = [
      [['incidents'], /Usage: floodgate incidents/],
      [['incidents', 'frobnicate'], /unknown subcommand "frobnicate"/],
      [['incidents', 'ls', '--state', 'closed'], /--state must be open, resolved or all/],
      [['incidents', 'ls', '--severity', 'huge'], /--severity must be one of critical, error, warning, info/],
      [['incidents', 'ls', '--since', 'yesterday'], /expected a duration/],
      [['incidents', 'ack'], /give exactly one incident id/],
      [['incidents', 'resolve', 'not-an-id!'], /is not an incident id/],
      [
        ['silence', 'add', '--match', 'account=acct_1', '--comment', 'x'],
        /exactly one of --for .* or --until/,
      ],
      [
        ['silence', 'add', '--match', 'account', '--for', '1h', '--comment', 'x'],
        /--match expects name=value/,
      ],
      [
        ['silence', 'add', '--match', 'account=~(', '--for', '1h', '--comment', 'x'],
        /invalid regular expression/,
      ],
      [
        ['silence', 'add', '--match', 'account=a', '--until', '2001-01-01T00:00:00Z', '--comment', 'x'],
        /in the past/,
      ],
      [['silence', 'add', '--match', 'account=a', '--for', '1h'], /--comment/],
      [['silence', 'expire'], /give exactly one silence id/],
    ];
    for (const [args, message] of cases) {
      const run = await floodgate(args);
      expect(run.code, `floodgate ${args.join(' ')} should be bad usage; stderr: ${run.stderr}`).toBe(2);
      expect(run.stderr, `floodgate ${args.join(' ')}`).toMatch(message);
    }
    for (const args of [
      ['incidents', '--help'],
      ['incidents', 'ack', '--help'],
      ['silence', 'add', '--help'],
    ]) {
      const run = await floodgate(args);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toMatch(/^Usage: floodgate (incidents|silence)/);
    }
  });

  it('silence add → ls shows it → expire → ls --all shows it expired, directly on the engine', async () => {
    await ok(['migrate']);
    const added = await ok([
      'silence',
      'add',
      '--match',
      'account=acct_maint',
      '--match',
      'kind=~credential_.*',
      '--for',
      '2h',
      '--comment',
      'planned key rotation',
    ]);
    const id = added.stdout.trim();
    expect(id, 'silence add prints the new id').toMatch(/^[0-9a-f-]{36}$/);
    expect(added.stderr).toContain('via embedded engine');

    const listed = await ok(['silence', 'ls', '--format', 'json']);
    const silences = JSON.parse(listed.stdout) as {
      id: string;
      state: string;
      createdBy: string;
      matchers: unknown[];
    }[];
    expect(silences).toEqual([
      expect.objectContaining({
        id,
        state: 'active',
        createdBy: 'cli-tester', // --by defaults to $USER
        matchers: [
          { name: 'account', op: '=', value: 'acct_maint' },
          { name: 'kind', op: '=~', value: 'credential_.*' },
        ],
      }),
    ]);
    expect((await ok(['silence', 'ls'])).stdout).toContain('planned key rotation');

    const expired = await ok(['silence', 'expire', id.slice(0, 8)]);
    expect(expired.stdout).toContain(`silence ${id} expired`);
    expect((await ok(['silence', 'ls'])).stdout, 'an expired silence leaves the default list').not.toContain(
      id,
    );
    const all = JSON.parse((await ok(['silence', 'ls', '--all', '--format', 'json'])).stdout) as {
      id: string;
      state: string;
    }[];
    expect(all.map((s) => `${s.id}:${s.state}`)).toEqual([`${id}:expired`]);

    const unknown = await floodgate(['silence', 'expire', 'ffffffff']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no silence with an id starting "ffffffff"');
  });

  it('with a running all-in-one: ls and show the incident, ack and resolve through its admin endpoint, applied by its alerter', async () => {
    const { reader } = await startService();
    await produce('acct_cli', 'det-cli-1');
    const trigger = await eventually(
      async () => pagerDuty().find((e) => e.event_action === 'trigger'),
      30_000,
      'the PagerDuty trigger for acct_cli',
    );

    const listed = JSON.parse((await ok(['incidents', 'ls', '--format', 'json'])).stdout) as ListedIncident[];
    expect(listed.map((i) => `${i.account}:${i.state}`)).toEqual(['acct_cli:firing']);
    const id = listed[0]?.id as string;
    expect(trigger.dedup_key).toBe(`floodgate/${id}`);
    const table = await ok([
      'incidents',
      'ls',
      '--account',
      'acct_cli',
      '--severity',
      'critical',
      '--since',
      '1h',
    ]);
    expect(table.stdout).toContain(id.slice(0, 12));
    expect(table.stderr).toContain('1 incident (open)');
    expect((await ok(['incidents', 'ls', '--state', 'resolved'])).stdout).not.toContain(id.slice(0, 12));
    expect((await ok(['incidents', 'ls', '--kind', 'volume_spike'])).stdout).not.toContain(id.slice(0, 12));

    const shown = await eventually(
      async () => {
        const run = await ok(['incidents', 'show', id.slice(0, 10)]);
        return run.stdout.includes('delivered') ? run : undefined;
      },
      20_000,
      'show to list the delivered trigger',
    );
    for (const part of [
      `Incident ${id}`,
      /state\s+firing/,
      /account\s+acct_cli/,
      'API key key_live_7f3a used from a network it never used',
      'NG (90, new)',
      /Transitions\n.*\n.*\n.*none\s+pending.*\n.*pending\s+firing/,
      /Notifications\n(.*\n){2}pd\s+trigger\s+delivered/,
    ])
      expect(shown.stdout, `incidents show should contain ${String(part)}`).toMatch(part);

    // Acknowledge through the service: recorded with the actor, applied once by the alerter.
    const ack = await ok(['incidents', 'ack', id.slice(0, 8), '--by', 'alice', '--note', 'looking into it']);
    expect(ack.stdout).toContain(`via service at ${running?.admin.url}`);
    await eventually(
      async () => {
        const [row] = await rows<{ acknowledged_by: string; state: string }>(
          reader,
          'SELECT acknowledged_by, state FROM alerts FINAL WHERE id = {id:String}',
          { id },
        );
        return row?.acknowledged_by === 'alice' && row.state === 'firing';
      },
      20_000,
      'the acknowledgement to be applied to the stored incident',
    );
    const acked = JSON.parse((await ok(['incidents', 'show', id, '--format', 'json'])).stdout) as {
      actions: { actor: string; action: string; applied: string; note: string }[];
      transitions: { to_state: string; actor: string }[];
    };
    expect(acked.actions).toEqual([
      expect.objectContaining({ action: 'ack', actor: 'alice', note: 'looking into it', applied: 'applied' }),
    ]);
    expect(acked.transitions.filter((t) => t.to_state === 'acknowledged').map((t) => t.actor)).toEqual([
      'alice',
    ]);
    expect(
      pagerDuty().map((e) => e.event_action),
      'an acknowledgement pages nobody',
    ).toEqual(['trigger']);

    // Silences go through the service too.
    const silence = await ok([
      'silence',
      'add',
      '--match',
      'account=acct_other',
      '--for',
      '30m',
      '--by',
      'carol',
      '--comment',
      'x',
    ]);
    expect(silence.stderr).toContain('via service at');
    expect((await ok(['silence', 'expire', silence.stdout.trim()])).stdout).toContain('via service at');

    // Resolve by hand: PagerDuty gets the resolve with the same dedup_key; the transition names bob.
    const resolved = await ok(['incidents', 'resolve', id, '--by', 'bob', '--note', 'key rotated']);
    expect(resolved.stdout).toContain(`recorded resolve of incident ${id} by bob`);
    const resolve = await eventually(
      async () => pagerDuty().find((e) => e.event_action === 'resolve'),
      20_000,
      'the PagerDuty resolve',
    );
    expect(resolve.dedup_key).toBe(trigger.dedup_key);
    const [stored] = await rows<{ state: string; resolved_by: string }>(
      reader,
      'SELECT state, resolved_by FROM alerts FINAL WHERE id = {id:String}',
      { id },
    );
    expect(stored).toEqual({ state: 'resolved', resolved_by: 'bob' });
    const transitions = await rows<{ from_state: string; to_state: string; actor: string; reason: string }>(
      reader,
      `SELECT from_state, to_state, actor, reason FROM alert_transitions
       WHERE incident_id = {id:String} AND actor != '' ORDER BY at`,
      { id },
    );
    expect(transitions.map((t) => `${t.from_state}>${t.to_state}:${t.actor}:${t.reason}`)).toEqual([
      'firing>acknowledged:alice:acknowledged by alice: looking into it',
      'firing>resolved:bob:resolved by bob: key rotated',
    ]);

    const again = await floodgate(['incidents', 'resolve', id, '--by', 'bob']);
    expect(again.code, 'resolving a resolved incident is a runtime failure').toBe(1);
    expect(again.stderr).toContain('already resolved');

    // Detections that keep coming open a new incident, paged as usual.
    await produce('acct_cli', 'det-cli-2');
    const reopened = await eventually(
      async () => pagerDuty().find((e) => e.event_action === 'trigger' && e.dedup_key !== trigger.dedup_key),
      30_000,
      'a new incident for the next detection',
    );
    const open = JSON.parse((await ok(['incidents', 'ls', '--format', 'json'])).stdout) as ListedIncident[];
    expect(open.map((i) => `floodgate/${i.id}`)).toEqual([reopened.dedup_key]);
    expect(pagerDuty().filter((e) => e.event_action === 'resolve').length, 'one resolve in all').toBe(1);
  });

  it('an action recorded while no alerter runs is applied once when one starts, and not again after a restart', async () => {
    await stopService();
    const [incident] = JSON.parse(
      (await ok(['incidents', 'ls', '--format', 'json'])).stdout,
    ) as ListedIncident[];
    expect(incident, 'the incident reopened by the previous test').toBeDefined();
    const id = (incident as ListedIncident).id;
    const ack = await ok(['incidents', 'ack', id, '--by', 'dave']);
    expect(ack.stdout, 'no service runs: written to the engine directly').toContain('via embedded engine');

    const countAcks = async (reader: Clickhouse): Promise<number> =>
      (
        await rows<{ actor: string }>(
          reader,
          `SELECT actor FROM alert_transitions WHERE incident_id = {id:String} AND to_state = 'acknowledged'`,
          { id },
        )
      ).length;
    let { reader } = await startService();
    await eventually(
      async () => {
        const [row] = await rows<{ acknowledged_by: string }>(
          reader,
          'SELECT acknowledged_by FROM alerts FINAL WHERE id = {id:String}',
          { id },
        );
        return row?.acknowledged_by === 'dave';
      },
      20_000,
      'the restored incident to take the acknowledgement recorded while no alerter ran',
    );
    expect(await countAcks(reader)).toBe(1);
    await stopService();
    ({ reader } = await startService());
    // Several action refreshes (200 ms each) pass; the applied id is in the restored state.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await countAcks(reader), 'the acknowledgement is not applied a second time after a restart').toBe(
      1,
    );
    const shown = JSON.parse((await ok(['incidents', 'show', id, '--format', 'json'])).stdout) as {
      incident: { acknowledgedBy: string; state: string };
    };
    expect(shown.incident).toMatchObject({ acknowledgedBy: 'dave', state: 'firing' });
    await stopService();
  });
});
