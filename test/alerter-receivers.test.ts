import { verifySignature } from '@floodgate/alerter';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import {
  type AlerterFixture,
  alerterFixture,
  eventually,
  incidentRows,
  makeDetection,
  notificationRows,
  type RecordedRequest,
  startReceiver,
  type TestReceiver,
} from './alerter-harness.ts';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';

// The documented shapes: PagerDuty Events API v2, Alertmanager API v2 postableAlerts, Slack Block Kit.
const isoTime = z.iso.datetime({ offset: true });
const pagerDutyTrigger = z.strictObject({
  routing_key: z.string().length(32),
  event_action: z.literal('trigger'),
  dedup_key: z.string().min(1).max(255),
  payload: z.strictObject({
    summary: z.string().min(1).max(1024),
    source: z.string().min(1),
    severity: z.enum(['critical', 'error', 'warning', 'info']),
    timestamp: isoTime.optional(),
    component: z.string().optional(),
    group: z.string().optional(),
    class: z.string().optional(),
    custom_details: z.record(z.string(), z.unknown()).optional(),
  }),
  links: z.array(z.strictObject({ href: z.url(), text: z.string() })).optional(),
  images: z.array(z.unknown()).optional(),
  client: z.string().optional(),
  client_url: z.url().optional(),
});
const pagerDutyResolve = z.strictObject({
  routing_key: z.string().length(32),
  event_action: z.literal('resolve'),
  dedup_key: z.string().min(1).max(255),
});
const alertmanagerAlerts = z
  .array(
    z.strictObject({
      labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()),
      annotations: z.record(z.string(), z.string()),
      startsAt: isoTime,
      endsAt: isoTime,
      generatorURL: z.url(),
    }),
  )
  .min(1);
const slackMessage = z.strictObject({
  text: z.string().min(1).max(3000),
  blocks: z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({
          type: z.literal('header'),
          text: z.strictObject({
            type: z.literal('plain_text'),
            text: z.string().max(150),
            emoji: z.boolean(),
          }),
        }),
        z.strictObject({
          type: z.literal('section'),
          text: z.strictObject({ type: z.literal('mrkdwn'), text: z.string().max(3000) }).optional(),
          fields: z
            .array(z.strictObject({ type: z.literal('mrkdwn'), text: z.string().max(2000) }))
            .max(10)
            .optional(),
        }),
        z.strictObject({
          type: z.literal('context'),
          elements: z.array(z.strictObject({ type: z.literal('mrkdwn'), text: z.string() })),
        }),
      ]),
    )
    .min(1)
    .max(50),
});
const webhookBody = z.strictObject({
  version: z.literal(1),
  action: z.enum(['trigger', 'update', 'resolve', 'contain', 'lift']),
  sent_at: isoTime,
  incident: z.strictObject({
    id: z.string(),
    rule: z.string(),
    state: z.enum(['pending', 'firing', 'resolved']),
    severity: z.string(),
    mode: z.enum(['live', 'shadow']),
    labels: z.record(z.string(), z.string()),
    summary: z.string(),
    link: z.url(),
    evidence: z.record(z.string(), z.unknown()),
  }),
});

const routingKey = '0123456789abcdef0123456789abcdef';
const hmacSecret = 'test-webhook-secret';
/** Slack webhook URLs are credentials: the path is the token. */
const slackPath = '/slack/T0000/B0000/sl4ckT0kenXYZ';

describe('alerter receivers against real HTTP endpoints', () => {
  let ch: TestClickhouse;
  let fixture: AlerterFixture;
  let receiver: TestReceiver;
  let alerter: Awaited<ReturnType<AlerterFixture['start']>>;
  const prefix = `alerter-rx-${Date.now()}`;
  const flakyFailures = new Map<string, number>();

  beforeAll(async () => {
    ch = await openTestClickhouse('alerter_rx');
    fixture = await alerterFixture(inject('kafkaBrokers'), ch, prefix);
    receiver = await startReceiver();
    receiver.respond = (request) => {
      if (request.path === '/bad')
        return { status: 400, body: '{"status":"invalid event","message":"Event object is invalid"}' };
      if (request.path === '/flaky') {
        const failures = flakyFailures.get('flaky') ?? 0;
        if (failures < 2) {
          flakyFailures.set('flaky', failures + 1);
          return { status: 503, body: 'upstream unavailable' };
        }
      }
      return { status: request.path.startsWith('/pd') ? 202 : 200, body: '{"status":"success"}' };
    };
    const rules = `
receivers:
  - { name: pd, type: pagerduty, url: "${receiver.url}/pd", routing_key: "${routingKey}", source: floodgate-test }
  - { name: am, type: alertmanager, url: "${receiver.url}/am", resend_interval: 1s }
  - { name: slack, type: slack, url: "${receiver.url}${slackPath}" }
  - { name: hook, type: webhook, url: "${receiver.url}/hook", secret: "${hmacSecret}" }
  - { name: flaky, type: webhook, url: "${receiver.url}/flaky", secret: "${hmacSecret}" }
  - { name: bad, type: pagerduty, url: "${receiver.url}/bad", routing_key: "${routingKey}" }
  - { name: contain, type: webhook, url: "${receiver.url}/contain", secret: "${hmacSecret}" }
  - { name: trial-pd, type: pagerduty, url: "${receiver.url}/trial", routing_key: "${routingKey}" }
rules:
  - name: compromised-account
    match: { kinds: [credential_anomaly], severities: [critical], accounts: [acct_life] }
    receivers: [pd, am, slack, hook]
    resolve_after: 6s
  - name: flaky-route
    match: { accounts: [acct_flaky] }
    receivers: [flaky]
  - name: bad-route
    match: { accounts: [acct_bad] }
    receivers: [bad]
  - name: contained
    match: { accounts: [acct_contain] }
    receivers: [hook]
    resolve_after: 2s
    containment: { receiver: contain, action: suspend_api_keys, mode: dry-run, expires_after: 1h }
  - name: trial
    mode: shadow
    match: { accounts: [acct_trial] }
    receivers: [trial-pd]
`;
    alerter = await fixture.start(rules);
  });
  afterAll(async () => {
    await alerter?.stop();
    await receiver?.close();
    await ch?.dispose();
  });

  const at = (path: string) => receiver.requests.filter((r) => r.path === path);

  it('pages each receiver once with its documented payload, re-sends to Alertmanager while firing, and resolves with the same dedup key', async () => {
    await fixture.produce([
      makeDetection('det-life-1', 'acct_life'),
      makeDetection('det-life-2', 'acct_life', { score: 11 }),
    ]);
    await eventually(
      async () =>
        at('/pd').length >= 1 &&
        at('/am/api/v2/alerts').length >= 2 &&
        at(slackPath).length >= 1 &&
        at('/hook').length >= 1,
      30_000,
      'a trigger at every receiver and an Alertmanager re-send',
    );
    const [trigger] = at('/pd');
    const pd = pagerDutyTrigger.parse(trigger?.json);
    expect(pd.payload.severity).toBe('critical');
    expect(pd.payload.component).toBe('acct_life');
    const details = pd.payload.custom_details as Record<string, unknown>;
    const incidentId = details['incident_id'] as string;
    expect(details['link'], 'the link is built from the public base URL').toBe(
      `https://floodgate.test/incidents/${incidentId}`,
    );
    expect(details['top_templates']).toEqual([
      { sample: 'Your parcel is held: pay the fee at https://{domain}/{path}', count: 180, isNew: true },
    ]);
    expect(details['countries']).toContainEqual({ value: 'NG', count: 90, isNew: true });
    expect(details['api_keys']).toEqual([{ value: 'key_live_7f3a', count: 240 }]);
    expect(details['counts']).toMatchObject({
      distinct_recipients: 231,
      messages_before_detection: 14,
      observed: 240,
    });
    expect(details['detections']).toBeGreaterThanOrEqual(1);

    const amFiring = at('/am/api/v2/alerts').map((r) => alertmanagerAlerts.parse(r.json)[0]);
    expect(amFiring[0]?.labels).toMatchObject({
      alertname: 'compromised-account',
      account: 'acct_life',
      severity: 'critical',
    });
    const firstAm = at('/am/api/v2/alerts')[0];
    expect(
      Date.parse(amFiring[0]?.endsAt ?? '') - (firstAm?.receivedAtMs ?? 0),
      'a firing alert expires about four re-send intervals after it was sent, unless re-sent',
    ).toBeGreaterThan(3_000);
    expect(new Set(amFiring.map((a) => a?.startsAt)).size, 're-sends keep startsAt').toBe(1);

    const slack = slackMessage.parse(at(slackPath)[0]?.json);
    expect(slack.text).toContain('acct_life');
    expect(JSON.stringify(slack.blocks)).toContain(`https://floodgate.test/incidents/${incidentId}`);

    const hook = at('/hook')[0] as RecordedRequest;
    expect(
      verifySignature(
        hmacSecret,
        hook.headers['x-floodgate-timestamp'] as string,
        hook.headers['x-floodgate-signature'] as string,
        hook.body,
      ),
      'the webhook signature verifies with the shared secret',
    ).toBe(true);
    expect(
      verifySignature(
        'forged',
        hook.headers['x-floodgate-timestamp'] as string,
        hook.headers['x-floodgate-signature'] as string,
        hook.body,
      ),
    ).toBe(false);
    expect(webhookBody.parse(hook.json)).toMatchObject({
      action: 'trigger',
      incident: { id: incidentId, state: 'firing' },
    });

    // Quiet for resolve_after: the incident resolves at every receiver.
    await eventually(
      async () => at('/pd').length >= 2 && at('/hook').length >= 2 && at(slackPath).length >= 2,
      30_000,
      'the resolve notifications',
    );
    const pdRequests = at('/pd');
    expect(pdRequests.length, 'PagerDuty got one trigger and one resolve').toBe(2);
    const resolve = pagerDutyResolve.parse(pdRequests[1]?.json);
    expect(resolve.dedup_key).toBe(pd.dedup_key);
    expect(webhookBody.parse(at('/hook')[1]?.json)).toMatchObject({
      action: 'resolve',
      incident: { state: 'resolved' },
    });
    expect(slackMessage.parse(at(slackPath)[1]?.json).text).toMatch(/^Resolved/);
    await eventually(
      async () => {
        const last = at('/am/api/v2/alerts').at(-1);
        const alert = last ? alertmanagerAlerts.parse(last.json)[0] : undefined;
        return alert && Date.parse(alert.endsAt) <= Date.now();
      },
      15_000,
      'Alertmanager told the alert ended',
    );
    const firingPosts = at('/am/api/v2/alerts').filter((r) => {
      const alert = alertmanagerAlerts.parse(r.json)[0];
      return alert !== undefined && Date.parse(alert.endsAt) > r.receivedAtMs;
    });
    expect(
      firingPosts.length,
      'Alertmanager got the firing alert again every resend_interval',
    ).toBeGreaterThanOrEqual(2);
    const stored = await eventually(
      async () => {
        const incidents = (await incidentRows(ch)).filter((i) => i.id === incidentId);
        const notifications = (await notificationRows(ch)).filter((n) => n.incident_id === incidentId);
        if (incidents[0]?.state !== 'resolved' || notifications.some((n) => n.status !== 'delivered'))
          return undefined;
        expect(incidents[0]?.detections, 'both detections are in one incident').toBe(2);
        return notifications;
      },
      15_000,
      'the resolved incident and its delivered notifications in ClickHouse',
    );
    expect(stored.map((n) => `${n.receiver}:${n.action}`).sort()).toEqual(
      [
        'am:resolve',
        'am:trigger',
        'hook:resolve',
        'hook:trigger',
        'pd:resolve',
        'pd:trigger',
        'slack:resolve',
        'slack:trigger',
      ].sort(),
    );
    expect(
      stored.some((n) => n.payload.includes(routingKey)),
      'the routing key is never stored',
    ).toBe(false);
  });

  it('retries a 5xx with backoff and delivers the notification once', async () => {
    await fixture.produce([makeDetection('det-flaky-1', 'acct_flaky')]);
    const row = await eventually(
      async () =>
        (await notificationRows(ch)).find((n) => n.receiver === 'flaky' && n.status === 'delivered'),
      30_000,
      'the flaky receiver’s notification to be delivered',
    );
    expect(at('/flaky').map((r) => r.status)).toEqual([503, 503, 200]);
    expect(row.attempts).toBe(3);
    const ids = at('/flaky').map((r) => r.headers['x-floodgate-notification-id']);
    expect(new Set(ids).size, 'all three attempts carried the same notification id').toBe(1);
  });

  it('does not retry a 400: the notification is recorded failed with the reason', async () => {
    await fixture.produce([makeDetection('det-bad-1', 'acct_bad')]);
    const row = await eventually(
      async () => (await notificationRows(ch)).find((n) => n.receiver === 'bad' && n.status === 'failed'),
      30_000,
      'the 400 to be recorded',
    );
    expect(row.attempts).toBe(1);
    expect(row.reason).toMatch(/^HTTP 400: .*Event object is invalid/);
    expect(at('/bad'), 'exactly one request: no retry').toHaveLength(1);
  });

  it('a critical incident calls the containment hook in dry-run, and lifts it when the incident resolves', async () => {
    await fixture.produce([makeDetection('det-contain-1', 'acct_contain')]);
    await eventually(async () => at('/contain').length >= 2, 30_000, 'the containment action and its lift');
    const [apply, lift] = at('/contain');
    for (const call of [apply, lift])
      expect(
        verifySignature(
          hmacSecret,
          call?.headers['x-floodgate-timestamp'] as string,
          call?.headers['x-floodgate-signature'] as string,
          call?.body ?? '',
        ),
      ).toBe(true);
    const applied = apply?.json as { action: string; containment: Record<string, unknown> };
    expect(applied.action).toBe('contain');
    expect(applied.containment).toMatchObject({
      action: 'suspend_api_keys',
      mode: 'dry-run',
      operation: 'apply',
      account: 'acct_contain',
      api_keys: ['key_live_7f3a'],
    });
    expect(Date.parse(applied.containment['expires_at'] as string)).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect((lift?.json as { containment?: Record<string, unknown> } | undefined)?.containment).toMatchObject({
      operation: 'lift',
    });
    const transitions = await (
      await ch.client.query({
        query: `SELECT to_state FROM alert_transitions WHERE account_id = 'acct_contain' ORDER BY at, to_state`,
        format: 'JSONEachRow',
      })
    ).json<{ to_state: string }>();
    expect(transitions.map((t) => t.to_state)).toEqual(
      expect.arrayContaining(['contained', 'lifted', 'resolved']),
    );
  });

  it('a shadow rule records what it would have sent and sends nothing', async () => {
    await fixture.produce([
      makeDetection('det-trial-1', 'acct_trial'),
      makeDetection('det-bad-2', 'acct_bad', { kind: 'volume_spike' }),
    ]);
    const row = await eventually(
      async () => (await notificationRows(ch)).find((n) => n.receiver === 'trial-pd'),
      30_000,
      'the shadow notification to be recorded',
    );
    expect(row.status).toBe('shadow');
    expect(JSON.parse(row.payload)).toMatchObject({
      event_action: 'trigger',
      payload: { component: 'acct_trial' },
    });
    expect(row.payload, 'no routing key in the stored payload').not.toContain(routingKey);
    expect(at('/trial'), 'nothing was sent to the shadow rule’s receiver').toEqual([]);
  });

  it('never writes a routing key, an HMAC secret or a webhook token to its logs', () => {
    const text = fixture.logs.join('');
    expect(text, 'the alerter logged its deliveries').toContain('notification delivered');
    for (const secret of [routingKey, hmacSecret, 'sl4ckT0kenXYZ'])
      expect(text, `logs leaked ${secret}`).not.toContain(secret);
  });
});
