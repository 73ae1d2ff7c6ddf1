import { fileURLToPath } from 'node:url';
import {
  type AlerterHandle,
  createSilence,
  evaluateSqlRule,
  expireSilence,
  listSilences,
  loadRules,
  type RuleSet,
  type SqlRule,
  verifySignature,
} from '@floodgate/alerter';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type AlerterFixture,
  alerterFixture,
  eventually,
  incidentRows,
  makeDetection,
  notificationRows,
  startReceiver,
  type TestReceiver,
} from './alerter-harness.ts';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';

const examplePath = fileURLToPath(new URL('../infra/alerting/rules.example.yaml', import.meta.url));
const secret = 'silence-sql-secret';

interface HookBody {
  action: string;
  incident: {
    id: string;
    rule: string;
    labels: Record<string, string>;
    evidence: { values: Record<string, unknown> };
  };
}

describe('alerter: silences and SQL threshold rules', () => {
  let ch: TestClickhouse;
  let fixture: AlerterFixture;
  let receiver: TestReceiver;
  let alerter: AlerterHandle;
  const prefix = `alerter-sil-${Date.now()}`;
  const hooks = (): HookBody[] => receiver.requests.map((r) => r.json as HookBody);

  beforeAll(async () => {
    ch = await openTestClickhouse('alerter_sil');
    fixture = await alerterFixture(inject('kafkaBrokers'), ch, prefix);
    receiver = await startReceiver();
    receiver.respond = () => ({ status: 204 });
    // The example file's opt-out-rate rule, as written, evaluated every 300 ms against the webhook.
    const example = loadRules(examplePath, {
      env: {
        PAGERDUTY_ROUTING_KEY: 'k',
        SLACK_WEBHOOK_URL: 'https://hooks.slack.example/x',
        FLOODGATE_WEBHOOK_SECRET: 's',
        CONTAINMENT_WEBHOOK_URL: 'https://contain.example/x',
        CONTAINMENT_WEBHOOK_SECRET: 's',
      },
    });
    const optOutRate = example.rules.find((r) => r.name === 'opt-out-rate') as SqlRule;
    const rules: RuleSet = {
      file: 'test',
      receivers: new Map([
        ['hook', { type: 'webhook', name: 'hook', timeoutMs: 5_000, url: `${receiver.url}/hook`, secret }],
      ]),
      rules: [
        {
          type: 'detection',
          name: 'page',
          description: '',
          receivers: ['hook'],
          groupBy: ['account'],
          forMs: 0,
          repeatIntervalMs: 3_600_000,
          resolveAfterMs: 3_600_000,
          mode: 'live',
          labels: {},
          match: {},
          severity: {},
          containment: undefined,
        },
        { ...optOutRate, receivers: ['hook'], everyMs: 300 },
      ],
    };
    alerter = await fixture.start(rules);
  });
  afterAll(async () => {
    await alerter?.stop();
    await receiver?.close();
    await ch?.dispose();
  });

  it('a silence suppresses a matching alert (recorded, not sent) and not a non-matching one', async () => {
    const silence = await createSilence(ch, {
      matchers: [
        { name: 'account', value: 'acct_maint.*', op: '=~' },
        { name: 'kind', value: 'credential_anomaly' },
      ],
      endsAtMs: Date.now() + 3_600_000,
      createdBy: 'oncall@example.com',
      comment: 'planned key rotation',
    });
    expect((await listSilences(ch)).map((s) => s.id)).toEqual([silence.id]);
    await alerter.refreshSilences();
    // Same partition, in order: when acct_open's page is stored, acct_maint_1's detection was handled.
    await fixture.produce([
      makeDetection('det-maint-1', 'acct_maint_1'),
      makeDetection('det-open-1', 'acct_open'),
    ]);
    await eventually(
      async () => hooks().some((h) => h.incident.labels['account'] === 'acct_open'),
      30_000,
      'the non-silenced account to be paged',
    );
    const rows = await notificationRows(ch);
    const incidents = await incidentRows(ch);
    const maint = incidents.find((i) => i.account_id === 'acct_maint_1');
    expect(maint?.silenced_by).toBe(silence.id);
    expect(rows.filter((n) => n.incident_id === maint?.id).map((n) => `${n.action}:${n.status}`)).toEqual([
      'trigger:silenced',
    ]);
    expect(
      hooks().some((h) => h.incident.labels['account'] === 'acct_maint_1'),
      'nothing sent for the silenced account',
    ).toBe(false);

    // Ending the silence early sends the page that was held back.
    expect(await expireSilence(ch, silence.id)).toBe(true);
    expect(await listSilences(ch)).toEqual([]);
    await alerter.refreshSilences();
    const released = await eventually(
      async () =>
        receiver.requests.find((r) => (r.json as HookBody).incident.labels['account'] === 'acct_maint_1'),
      30_000,
      'the held-back page after the silence ended',
    );
    expect(
      verifySignature(
        secret,
        released.headers['x-floodgate-timestamp'] as string,
        released.headers['x-floodgate-signature'] as string,
        released.body,
      ),
    ).toBe(true);
  });

  it('the example opt-out-rate SQL rule fires on seeded data and resolves when the data no longer matches', async () => {
    const minuteAgo = Date.now() - 2 * 60_000;
    const outbound = (account: string, count: number, from: number) =>
      Array.from({ length: count }, (_, i) => ({
        event_id: `${account}-out-${from + i}`,
        event_time: minuteAgo + i,
        account_id: account,
        api_key_id: 'key_1',
        sender: 'ACME',
        recipient_hash: `r${from + i}`,
        recipient_country: 'US',
        recipient_prefix: '+1415',
        recipient_type: 'mobile',
        channel: 'sms',
      }));
    const optOuts = (account: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        event_id: `${account}-in-${i}`,
        event_time: minuteAgo + 1_000 + i,
        account_id: account,
        sender_hash: `r${i}`,
        sender_country: 'US',
        sender_prefix: '+1415',
        recipient: 'ACME',
        classification: 'opt_out',
      }));
    // acct_storm: 50 opt-outs on 1000 messages (5 %); acct_fine: 5 on 1000 (0.5 %); acct_small: 40 on 400 (too few messages).
    await ch.client.insert({
      table: 'messages_outbound',
      values: [
        ...outbound('acct_storm', 1000, 0),
        ...outbound('acct_fine', 1000, 0),
        ...outbound('acct_small', 400, 0),
      ],
      format: 'JSONEachRow',
    });
    await ch.client.insert({
      table: 'messages_inbound',
      values: [...optOuts('acct_storm', 50), ...optOuts('acct_fine', 5), ...optOuts('acct_small', 40)],
      format: 'JSONEachRow',
    });
    const fired = await eventually(
      async () => hooks().find((h) => h.incident.rule === 'opt-out-rate' && h.action === 'trigger'),
      30_000,
      'the opt-out-rate rule to fire',
    );
    expect(fired.incident.labels).toMatchObject({ alertname: 'opt-out-rate', account: 'acct_storm' });
    expect(fired.incident.evidence.values).toMatchObject({ messages: 1000, opt_outs: 50, opt_out_pct: 5 });

    // More traffic dilutes the rate to 50 / 6000 = 0.83 %: the row disappears and the incident resolves.
    await ch.client.insert({
      table: 'messages_outbound',
      values: outbound('acct_storm', 5000, 1000),
      format: 'JSONEachRow',
    });
    const resolved = await eventually(
      async () => hooks().find((h) => h.incident.rule === 'opt-out-rate' && h.action === 'resolve'),
      30_000,
      'the opt-out-rate incident to resolve',
    );
    expect(resolved.incident.id).toBe(fired.incident.id);
    const sqlPages = hooks().filter((h) => h.incident.rule === 'opt-out-rate');
    expect(
      sqlPages.map((h) => `${h.incident.labels['account']}:${h.action}`),
      'only acct_storm ever fired',
    ).toEqual(['acct_storm:trigger', 'acct_storm:resolve']);
  });

  it('SQL rules run read-only: a rule that writes is refused by ClickHouse', async () => {
    const example = loadRules(examplePath, {
      env: {
        PAGERDUTY_ROUTING_KEY: 'k',
        SLACK_WEBHOOK_URL: 'https://hooks.slack.example/x',
        FLOODGATE_WEBHOOK_SECRET: 's',
        CONTAINMENT_WEBHOOK_URL: 'https://contain.example/x',
        CONTAINMENT_WEBHOOK_SECRET: 's',
      },
    });
    const base = example.rules.find((r) => r.name === 'opt-out-rate') as SqlRule;
    const writing: SqlRule = {
      ...base,
      sql: 'CREATE TABLE alert_rule_wrote_this (a UInt8) ENGINE = Memory',
      params: {},
    };
    await expect(evaluateSqlRule(ch, writing)).rejects.toThrow(/readonly/i);
    const tables = await (
      await ch.client.query({
        query: `SELECT count() AS n FROM system.tables WHERE name = 'alert_rule_wrote_this'`,
        format: 'JSONEachRow',
      })
    ).json<{ n: string | number }>();
    expect(Number(tables[0]?.n)).toBe(0);
  });
});
