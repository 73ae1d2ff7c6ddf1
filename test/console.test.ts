/**
 * The incident console end to end, in headless Chromium: simulator traffic with an account takeover
 * goes through the real broker into the all-in-one (ingest, detector, alerter, embedded ClickHouse),
 * the alerter opens and notifies an incident, and a person signs in, finds it in the list, reads its
 * chart and evidence, acknowledges it and silences the account — each checked in ClickHouse.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alerterConfigSchema, parseRules } from '@floodgate/alerter';
import { type AllInOneHandle, startAllInOne } from '@floodgate/all-in-one';
import { prepareAligned, topicMessagesOf } from '@floodgate/cli';
import { runReadOnlyQuery } from '@floodgate/clickhouse';
import { detectorConfigSchema } from '@floodgate/detector';
import { ingestConfigSchema } from '@floodgate/ingest';
import { createKafka, ensureTopics } from '@floodgate/kafka';
import { type AdminServer, createLogger, startAdminServer } from '@floodgate/observability';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startReceiver, type TestReceiver } from './alerter-harness.ts';
import { eventually, topicNames } from './setup/pipeline.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../.cache/test-output/console/', import.meta.url));
const TOKEN = 'console-test-token-0123456789';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface ApiIncident {
  incident: { id: string; state: string; kinds: string[]; openedAtMs: number };
  account: string;
  chart: { x: number[]; messages: number[]; baselineMid: (number | null)[]; markers: unknown[] };
  detections: { kind: string; severity: string; evidence: { linkDomains: { value: string }[] } }[];
  notifications: Record<string, unknown>[];
  queryMs: number;
}

describe('incident console (headless Chromium, real broker and engine)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-console-'));
  const prefix = `console${Date.now()}`;
  const topics = topicNames(prefix);
  // Recent event times: the alerter opens incidents at wall-clock time, and the chart runs to now.
  const startMs = Math.floor((Date.now() - 240 * MINUTE) / MINUTE) * MINUTE;
  // Four hours of 12 accounts; the takeover's audit trail comes first, its blast is aligned to
  // start 25 minutes before now.
  const simulation = prepareAligned({
    seed: 11,
    startMs,
    durationMs: 240 * MINUTE,
    accounts: 12,
    scenarios: [
      { name: 'account_takeover', atMs: startMs + 215 * MINUTE, options: { burstDurationMs: 8 * MINUTE } },
    ],
  });
  const takeover = simulation.labels.find((l) => l.scenario === 'account_takeover');
  const victim = takeover?.accountIds[0] ?? '';
  let receiver: TestReceiver;
  let handle: AllInOneHandle;
  let admin: AdminServer;
  let base = '';
  let browser: Browser | undefined;
  let incidentId = '';

  const query = async (sql: string, params: Record<string, unknown> = {}) =>
    (await runReadOnlyQuery(handle.clickhouse.client, sql, params)).rows;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `Chromium is not at ${CHROMIUM}: install Debian's chromium package (scripts/test does when it runs as root) or set CHROMIUM_PATH`,
      );
    receiver = await startReceiver();
    const inventoryFile = join(dir, 'inventory.json');
    writeFileSync(inventoryFile, JSON.stringify(simulation.inventory));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const rulesYaml = `
defaults: { receivers: [hook], group_by: [account], for: 0s, repeat_interval: 4h, resolve_after: 2h }
receivers:
  - { name: hook, type: webhook, url: "${receiver.url}/hook", secret: console-test-webhook-secret }
rules:
  - name: compromised-account
    match: { severities: [critical] }
    severity: critical
`;
    const common = {
      kafka: { brokers: inject('kafkaBrokers').split(','), clientId: prefix },
      clickhouse: { dataPath: join(dir, 'ch') },
      topics,
      lagIntervalMs: 1_000,
    };
    handle = await startAllInOne(
      ingestConfigSchema.parse({ ...common, groupId: `${prefix}-ingest`, partitions: 3, inventoryFile }),
      detectorConfigSchema.parse({ ...common, groupId: `${prefix}-detector`, checkpointIntervalMs: 5_000 }),
      createLogger({ service: 'console-test', level: 'warn' }),
      {
        config: alerterConfigSchema.parse({
          ...common,
          groupId: `${prefix}-alerter`,
          fromBeginning: true,
          rulesFile: 'console-rules.yaml',
          evaluationIntervalMs: 200,
          publicBaseUrl: base,
          console: { token: TOKEN },
        }),
        rules: parseRules(rulesYaml, 'console-rules.yaml', { env: {} }),
      },
    );
    admin = await startAdminServer(`127.0.0.1:${port}`, handle.registry, handle.ready, handle.adminRoutes);

    const kafka = createKafka({
      brokers: inject('kafkaBrokers').split(','),
      clientId: `${prefix}-producer`,
      tls: false,
      tlsRejectUnauthorized: true,
    });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await ensureTopics(
      kafkaAdmin,
      [topics.outbound, topics.inbound, topics.status, topics.feedback, topics.audit].map((topic) => ({
        topic,
        partitions: 3,
      })),
    );
    await kafkaAdmin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let batch: Parameters<typeof topicMessagesOf>[1][number][] = [];
    for (const minute of simulation.minutes()) {
      batch.push(...minute);
      if (batch.length >= 5_000) {
        await producer.sendBatch({ acks: -1, topicMessages: topicMessagesOf(topics, batch) });
        batch = [];
      }
    }
    if (batch.length > 0)
      await producer.sendBatch({ acks: -1, topicMessages: topicMessagesOf(topics, batch) });
    await producer.disconnect();

    // The takeover pages: an incident for the victim account, notified to the webhook.
    const diagnose = async () =>
      JSON.stringify({
        detections: await query(
          'SELECT account_id, kind, severity, count() AS n FROM detections GROUP BY ALL ORDER BY account_id, kind LIMIT 50',
        ),
        alerts: await query('SELECT account_id, state, count() AS n FROM alerts GROUP BY ALL LIMIT 50'),
        outbound: await query('SELECT count() AS n FROM messages_outbound'),
        notifications: receiver.requests.length,
      });
    await eventually(
      async () => {
        const rows = await query(
          `SELECT id FROM alerts WHERE account_id = {victim:String} AND state = 'firing' ORDER BY opened_at LIMIT 1`,
          { victim },
        );
        incidentId = String(rows[0]?.['id'] ?? '');
        return incidentId !== '' && receiver.requests.length > 0;
      },
      150_000,
      `a firing incident for ${victim} and a notification`,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}; what the pipeline has: ${await diagnose()}`);
    });
    // Let the rest of the burst land so the chart and evidence are complete: everything consumed,
    // and ingest's lingering rows stored (consumed events are forwarded before their rows are
    // stored, so lag 0 alone left the chart racing the last INSERT: one CI run read 7,447 of 10,268).
    const sum = async (name: string) =>
      Number(
        (await handle.registry.getSingleMetric(name)?.get())?.values.reduce((s, v) => s + v.value, 0) ?? 1,
      );
    await eventually(
      async () =>
        (await sum('floodgate_consumer_lag')) === 0 &&
        (await sum('floodgate_ingest_store_pending_rows')) === 0,
      60_000,
      'consumer lag 0 and every raw row stored',
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await admin?.close();
    await handle?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('notifications link to the incident page on the configured public base URL', () => {
    const payloads = receiver.requests.map((r) => JSON.stringify(r.json));
    expect(payloads.some((p) => p.includes(`${base}/incidents/${incidentId}`))).toBe(true);
  });

  it('answers 401 to every request without credentials, and to a wrong token', async () => {
    for (const path of [
      '/',
      '/incidents',
      `/incidents/${incidentId}`,
      `/api/incidents/${incidentId}`,
      `/accounts/${victim}`,
    ]) {
      const plain = await fetch(`${base}${path}`);
      expect(plain.status, path).toBe(401);
      expect(await plain.text()).not.toContain(victim);
    }
    const browserLike = await fetch(`${base}/incidents`, { headers: { accept: 'text/html' } });
    expect(browserLike.status).toBe(401);
    expect(await browserLike.text()).toContain('name="token"');
    const wrong = await fetch(`${base}/api/incidents/${incidentId}`, {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      body: new URLSearchParams({ name: 'mallory', token: 'wrong-token-0123456789' }),
      redirect: 'manual',
    });
    expect(login.status).toBe(401);
    expect(login.headers.get('set-cookie')).toBeNull();
    // An action without credentials is refused and stores nothing.
    const ack = await fetch(`${base}/incidents/${incidentId}/ack`, {
      method: 'POST',
      body: 'note=x',
      redirect: 'manual',
    });
    expect(ack.status).toBe(401);
  });

  it('shows the incident in the list, its chart and evidence; acknowledge and silence are stored with the person’s name', async () => {
    const api = (await (
      await fetch(`${base}/api/incidents/${incidentId}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as ApiIncident;
    expect(api.incident.id).toBe(incidentId);
    expect(api.account).toBe(victim);
    // The chart covers 2 h before the anomaly to now, one point per minute, and its counts are the
    // account's stored messages (an independent count from the raw table).
    const points = api.chart.x.length;
    expect(points).toBeGreaterThanOrEqual(120);
    expect((api.chart.x[1] ?? 0) - (api.chart.x[0] ?? 0)).toBe(60);
    expect((api.chart.x[0] ?? 0) * 1000).toBeLessThanOrEqual(
      (takeover?.trafficStartMs ?? takeover?.startMs ?? 0) - 2 * HOUR + MINUTE,
    );
    const stored = await query(
      `SELECT count() AS n FROM messages_outbound FINAL WHERE account_id = {victim:String}
         AND event_time >= toDateTime64({from:UInt32}, 3, 'UTC') AND event_time < toDateTime64({to:UInt32}, 3, 'UTC')`,
      { victim, from: api.chart.x[0], to: (api.chart.x.at(-1) ?? 0) + 60 },
    );
    expect(api.chart.messages.reduce((a, b) => a + b, 0)).toBe(Number(stored[0]?.['n']));
    expect(api.chart.baselineMid.some((v) => v !== null)).toBe(true);
    expect(api.chart.markers.length).toBeGreaterThan(0);
    // The evidence is the incident's detections: every kind it lists, and nothing else.
    expect(api.detections.length).toBeGreaterThan(0);
    expect(new Set(api.detections.map((d) => d.kind))).toEqual(new Set(api.incident.kinds));
    expect(api.detections.some((d) => d.severity === 'critical')).toBe(true);
    const domains = new Set(api.detections.flatMap((d) => d.evidence.linkDomains.map((l) => l.value)));
    console.log(
      `incident page data: ${api.queryMs.toFixed(0)} ms; ${points} chart points; ${api.detections.length} detections (${[...new Set(api.detections.map((d) => d.kind))].join(', ')})`,
    );

    const context = await (browser as Browser).newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    // Sign in from the 401 page the notification link lands on.
    const first = await page.goto(`${base}/incidents`);
    expect(first?.status()).toBe(401);
    await page.fill('input[name=name]', 'oncall-alice');
    await page.fill('input[name=token]', TOKEN);
    await Promise.all([page.waitForURL(`${base}/incidents`), page.click('button[type=submit]')]);

    // The list shows the incident, with its account and kind.
    const row = page.locator(`tr.incident-row[data-id="${incidentId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    const rowText = (await row.textContent()) ?? '';
    expect(rowText).toContain(victim);
    for (const kind of api.incident.kinds) expect(rowText).toContain(kind);

    // The incident page: a drawn chart with one point per minute, and the evidence.
    await Promise.all([
      page.waitForURL(`${base}/incidents/${incidentId}`),
      row.locator('a[href^="/incidents/"]').click(),
    ]);
    const chart = page.locator('#incident-chart[data-rendered]');
    await chart.waitFor({ timeout: 10_000 });
    // An open incident's chart runs to now: a minute may have begun since the API call above.
    expect([points, points + 1]).toContain(Number(await chart.getAttribute('data-rendered')));
    // Runs in the page: counts the canvas pixels the chart painted.
    const painted = await page.evaluate(() => {
      // biome-ignore lint/suspicious/noExplicitAny: browser globals are not in this project's Node typings
      const doc = (globalThis as any).document;
      const canvas = doc.querySelector('#incident-chart canvas');
      if (!canvas) return 0;
      const pixels: Uint8ClampedArray = canvas
        .getContext('2d')
        .getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(2_000);
    const text = (await page.locator('main').textContent()) ?? '';
    for (const kind of api.incident.kinds) expect(text).toContain(kind);
    // The takeover's audit trail (a login without MFA) is on the page, in the chart's range.
    expect(
      await page.locator('section:has(h2:text("Account audit events")) tr.warn').count(),
    ).toBeGreaterThan(0);
    for (const domain of domains) expect(text).toContain(domain);
    expect(text).toMatch(/Notifications[\s\S]*hook[\s\S]*delivered/);
    // Masked privacy mode: no full phone number anywhere on the page.
    expect(await page.content()).not.toMatch(/\+\d{9,15}\b/);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'incident-page.png'), fullPage: false });

    // A forged post without the form's CSRF value is refused even with the session cookie.
    const forged = await page.request.post(`${base}/incidents/${incidentId}/ack`, {
      form: { note: 'forged' },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);

    // Acknowledge from the page: stored with the signed-in name, applied by the alerter.
    await page.fill('form[action$="/ack"] input[name=note]', 'looking into it');
    await Promise.all([page.waitForURL(`${base}/incidents/${incidentId}`), page.click('#ack-button')]);
    await eventually(
      async () => {
        const rows = await query(
          'SELECT argMax(acknowledged_by, version) AS by FROM alerts WHERE id = {id:String}',
          { id: incidentId },
        );
        return rows[0]?.['by'] === 'oncall-alice';
      },
      20_000,
      'the acknowledgement applied to the incident in ClickHouse',
    );
    const actions = await query(
      'SELECT action, actor, note FROM alert_actions WHERE incident_id = {id:String}',
      { id: incidentId },
    );
    expect(actions).toEqual([{ action: 'ack', actor: 'oncall-alice', note: 'looking into it' }]);
    await page.reload();
    expect(await page.locator('#incident-state').getAttribute('data-acknowledged-by')).toBe('oncall-alice');

    // Silence one of the incident's kinds on this account for 4 hours.
    const kind = api.incident.kinds[0] ?? '';
    await page.selectOption('form[action$="/silence"] select[name=kind]', kind);
    await page.selectOption('form[action$="/silence"] select[name=duration]', '4h');
    await page.fill('form[action$="/silence"] input[name=comment]', 'customer rotating keys');
    const before = Date.now();
    await Promise.all([page.waitForURL(`${base}/incidents/${incidentId}`), page.click('#silence-button')]);
    const silences = await query(
      `SELECT created_by, comment, matchers, toFloat64(toUnixTimestamp64Milli(ends_at)) AS ends FROM alert_silences`,
    );
    expect(silences).toHaveLength(1);
    expect(silences[0]?.['created_by']).toBe('oncall-alice');
    expect(JSON.parse(String(silences[0]?.['matchers']))).toEqual([
      { name: 'account', op: '=', value: victim },
      { name: 'kind', op: '=', value: kind },
    ]);
    expect(Number(silences[0]?.['ends']) - before).toBeGreaterThan(4 * HOUR - MINUTE);

    // The account page and the overview render their charts too.
    await page.goto(`${base}/accounts/${victim}`);
    await page.locator('#account-chart[data-rendered]').waitFor({ timeout: 10_000 });
    expect(Number(await page.locator('#account-chart').getAttribute('data-rendered'))).toBe(7 * 24 * 6);
    // Its API keys: the inventory's keys of the account, with how much each sent.
    const keysText = (await page.locator('section:has(h2:text("API keys"))').textContent()) ?? '';
    for (const entry of simulation.inventory.filter((k) => k.accountId === victim))
      expect(keysText).toContain(entry.keyId);
    await page.goto(`${base}/`);
    await page.locator('#overview-chart[data-rendered]').waitFor({ timeout: 10_000 });
    expect(((await page.locator('#consumer-lag').textContent()) ?? '').trim()).toMatch(/^\d+$/);
    await context.close();
  });

  it('serves the incident page data in well under 200 ms on this data set (median of 5)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const api = (await (
        await fetch(`${base}/api/incidents/${incidentId}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as ApiIncident;
      times.push(api.queryMs);
    }
    times.sort((a, b) => a - b);
    console.log(
      `incident page data, median of 5: ${times[2]?.toFixed(1)} ms (min ${times[0]?.toFixed(1)}, max ${times[4]?.toFixed(1)})`,
    );
    // Recorded, not a speed gate: the bound only catches a page that scans whole tables.
    expect(times[2]).toBeLessThan(5_000);
  });
});
