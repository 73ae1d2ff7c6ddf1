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

const routingKey = 'fedcba9876543210fedcba9876543210';

describe('alerter: killed after accepting a detection, before delivering it', () => {
  let ch: TestClickhouse;
  let fixture: AlerterFixture;
  let receiver: TestReceiver;
  const prefix = `alerter-crash-${Date.now()}`;
  let pagerUp = false;

  beforeAll(async () => {
    ch = await openTestClickhouse('alerter_crash');
    fixture = await alerterFixture(inject('kafkaBrokers'), ch, prefix);
    receiver = await startReceiver();
    // Down until the restart: the first instance can store the page but never deliver it.
    receiver.respond = () => (pagerUp ? { status: 202, body: '{"status":"success"}' } : { status: 503 });
  });
  afterAll(async () => {
    await receiver?.close();
    await ch?.dispose();
  });

  it('on restart delivers the stored page exactly once and does not page the restored incident again', async () => {
    const rules = `
receivers:
  - { name: pd, type: pagerduty, url: "${receiver.url}/pd", routing_key: "${routingKey}" }
rules:
  - { name: compromised-account, match: { severities: [critical] }, receivers: [pd] }
`;
    const first = await fixture.start(rules, {
      delivery: { initialBackoffMs: 200, maxBackoffMs: 400, maxAttempts: 100 },
    });
    await fixture.produce([makeDetection('det-k-1', 'acct_k')]);
    // Accepted = the page is in the outbox and the detection's offset is committed.
    const admin = fixture.kafka.admin();
    await admin.connect();
    await eventually(
      async () => {
        const pending = (await notificationRows(ch)).filter((n) => n.status === 'pending');
        const [offsets] = await admin.fetchOffsets({ groupId: fixture.groupId, topics: [fixture.topic] });
        const committed = Number(offsets?.partitions[0]?.offset ?? -1);
        return pending.length === 1 && committed >= 1 && receiver.requests.length >= 1;
      },
      30_000,
      'the page to be stored, its offset committed and a delivery attempted',
    );
    await admin.disconnect();
    await first.abort();
    const attemptsBeforeKill = receiver.requests.length;
    expect(
      receiver.requests.every((r) => r.status === 503),
      'nothing was delivered before the kill',
    ).toBe(true);

    pagerUp = true;
    const second = await fixture.start(rules);
    try {
      // Another detection for the same account (must update, not page) and a marker account that pages.
      await fixture.produce([
        makeDetection('det-k-2', 'acct_k'),
        makeDetection('det-marker-1', 'acct_marker'),
      ]);
      const delivered = await eventually(
        async () => {
          const rows = await notificationRows(ch);
          return rows.length === 2 && rows.every((n) => n.status === 'delivered') ? rows : undefined;
        },
        30_000,
        'both pages delivered',
      );
      const afterRestart = receiver.requests.slice(attemptsBeforeKill);
      const successful = afterRestart.filter((r) => r.status === 202);
      const accounts = successful.map(
        (r) => (r.json as { payload: { component: string } }).payload.component,
      );
      expect(accounts.sort(), 'acct_k paged exactly once (from the outbox), the marker once').toEqual([
        'acct_k',
        'acct_marker',
      ]);
      const dedupKeys = new Set(receiver.requests.map((r) => (r.json as { dedup_key: string }).dedup_key));
      expect(dedupKeys.size, 'one dedup key per incident, before and after the kill').toBe(2);
      expect(delivered.map((n) => n.action)).toEqual(['trigger', 'trigger']);

      const incidents = await incidentRows(ch);
      const k = incidents.filter((i) => i.account_id === 'acct_k');
      expect(k, 'one incident for acct_k, restored and updated').toHaveLength(1);
      expect(Number(k[0]?.detections)).toBe(2);
      expect(
        second.openIncidents().find((i) => i.labels['account'] === 'acct_k')?.recentDetectionIds,
      ).toEqual(['det-k-1', 'det-k-2']);
    } finally {
      await second.stop();
    }
  });

  it('a detection re-read after a crash between the outbox write and the commit queues nothing twice', async () => {
    const replay = await alerterFixture(inject('kafkaBrokers'), ch, `${prefix}-replay`);
    const rules = `
receivers:
  - { name: pd, type: pagerduty, url: "${receiver.url}/replay", routing_key: "${routingKey}" }
rules:
  - { name: compromised-account, match: { severities: [critical] }, receivers: [pd] }
`;
    const replayed = () => receiver.requests.filter((r) => r.path === '/replay');
    const first = await replay.start(rules);
    await replay.produce([makeDetection('det-r-1', 'acct_r')]);
    await eventually(async () => replayed().length === 1, 30_000, 'the first page');
    await first.stop();
    // The state a crash right after the outbox write leaves: no incident row, offset not committed.
    await ch.client.command({
      query: `ALTER TABLE alerts DELETE WHERE account_id = 'acct_r' SETTINGS mutations_sync = 1`,
    });
    expect((await incidentRows(ch)).filter((i) => i.account_id === 'acct_r')).toEqual([]);
    const admin = replay.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: replay.groupId, topic: replay.topic, earliest: true });
    await admin.disconnect();

    const second = await replay.start(rules);
    try {
      await replay.produce([makeDetection('det-r2-1', 'acct_r2')]);
      await eventually(
        async () =>
          replayed().some(
            (r) => (r.json as { payload?: { component?: string } }).payload?.component === 'acct_r2',
          ),
        30_000,
        'the page of the detection after the replayed one',
      );
      expect(second.consumed(), 'the old detection was read again').toBe(2);
      expect(
        second.openIncidents().find((i) => i.labels['account'] === 'acct_r')?.recentDetectionIds,
        'the incident was rebuilt from the replayed detection',
      ).toEqual(['det-r-1']);
      const components = replayed().map(
        (r) => (r.json as { payload: { component: string } }).payload.component,
      );
      expect(components, 'acct_r paged once in all').toEqual(['acct_r', 'acct_r2']);
      const rows = (await notificationRows(ch)).filter((n) => n.receiver === 'pd');
      expect(
        rows.filter((n) => n.status !== 'delivered'),
        'nothing left pending or failed',
      ).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
