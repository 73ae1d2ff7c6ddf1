/**
 * `pnpm demo` — the whole product in about two minutes on one machine: a Kafka broker (KAFKA_BROKERS,
 * or the local development broker), ClickHouse (CLICKHOUSE_URL, or the embedded engine in a fresh
 * directory), ingest + detector + alerter in this process, a local webhook receiver standing in for
 * PagerDuty/Slack, and simulated traffic — three hours of history for 30 accounts, then a minute of
 * live traffic with an account takeover and SMS pumping in it. Prints a live progress line, then
 * the incidents with their evidence, the notifications the receiver got (signatures checked), and
 * three analyst queries with their output, and the incident console's URL of each incident (with
 * how long each page's data took). Stops everything it started; exit 0 when incidents were found
 * and notified, 1 otherwise. `pnpm demo --serve` keeps the console up until Ctrl-C.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alerterConfigSchema, loadRules, verifySignature } from '@floodgate/alerter';
import { startAllInOne } from '@floodgate/all-in-one';
import { formatTable, prepareAligned, simulatePlan, streamSimulation, topicMessagesOf } from '@floodgate/cli';
import { loadCookbook, runCookbookQuery, runReadOnlyQuery } from '@floodgate/clickhouse';
import { prefixedTopics } from '@floodgate/config';
import { detectorConfigSchema } from '@floodgate/detector';
import { ingestConfigSchema } from '@floodgate/ingest';
import { createKafka, ensureTopics, freePort, type LocalBroker, startLocalBroker } from '@floodgate/kafka';
import { createLogger, startAdminServer } from '@floodgate/observability';

const HISTORY_MS = 3 * 3_600_000;
const LIVE_MS = 60_000;
const ACCOUNTS = 30;
const WEBHOOK_SECRET = 'demo-webhook-secret-0123456789';
const SERVE = process.argv.includes('--serve');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const say = (text: string) => console.log(`[demo ${elapsed()}] ${text}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Received {
  at: number;
  verified: boolean;
  body: Record<string, unknown>;
}

async function main(): Promise<number> {
  process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn();
  };
  process.once('SIGINT', () => {
    cleanup().finally(() => process.exit(130));
  });
  try {
    // 1. Kafka.
    let brokers = process.env['KAFKA_BROKERS'];
    if (!brokers) {
      say('starting the local Kafka broker (infra/kafka, Apache Kafka 4.4 in KRaft mode)…');
      const broker: LocalBroker = await startLocalBroker();
      cleanups.push(() => broker.stop());
      brokers = broker.bootstrap;
    }
    say(`Kafka at ${brokers}`);

    // 2. ClickHouse: a server when CLICKHOUSE_URL is set, else the embedded engine in a fresh directory.
    const dataPath = mkdtempSync(join(tmpdir(), 'floodgate-demo-'));
    cleanups.push(() => rmSync(dataPath, { recursive: true, force: true }));
    const url = process.env['CLICKHOUSE_URL'];
    const clickhouse = {
      ...(url
        ? {
            url,
            user: process.env['CLICKHOUSE_USER'] ?? 'default',
            password: process.env['CLICKHOUSE_PASSWORD'] ?? '',
            database: `floodgate_demo_${Date.now()}`,
          }
        : { dataPath }),
    };
    say(url ? `ClickHouse server at ${new URL(url).host}` : `embedded ClickHouse (chDB) in ${dataPath}`);

    // 3. A webhook receiver standing in for the on-call tools; it checks each HMAC signature.
    const received: Received[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => {
          const v = request.headers[name];
          return Array.isArray(v) ? v[0] : v;
        };
        received.push({
          at: Date.now(),
          verified: verifySignature(
            WEBHOOK_SECRET,
            header('x-floodgate-timestamp'),
            header('x-floodgate-signature'),
            body,
          ),
          body: JSON.parse(body) as Record<string, unknown>,
        });
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/floodgate`;

    // 4. Rules: page on anything critical, one incident per account; a cross-account rule for campaigns.
    const rulesFile = join(dataPath, 'rules.yaml');
    writeFileSync(
      rulesFile,
      `defaults:
  receivers: [oncall-webhook]
  group_by: [account]
  for: 0s
  repeat_interval: 4h
  resolve_after: 10m
receivers:
  - name: oncall-webhook
    type: webhook
    url: ${receiverUrl}
    secret: ${WEBHOOK_SECRET}
rules:
  - name: compromised-account
    description: critical detections — takeover chain, pumping, phishing bursts
    match:
      severities: [critical]
    severity: critical
`,
    );

    // The incident console on this process's admin address; notifications link to it.
    const consolePort = await freePort();
    const consoleUrl = `http://127.0.0.1:${consolePort}`;
    const consoleToken = process.env['CONSOLE_TOKEN'] ?? randomBytes(18).toString('base64url');

    // 5. Ingest + detector + alerter in this process (the embedded engine needs one process).
    const prefix = `demo${Date.now()}`;
    const topics = prefixedTopics(prefix);
    const common = {
      kafka: { brokers: [brokers], clientId: prefix },
      clickhouse,
      topics,
      logging: { level: 'warn' },
      lagIntervalMs: 1_000,
    };
    // The services' own logs would drown the demo's output (kafkajs reports every transient broker
    // state); FLOODGATE_DEBUG=1 shows them.
    const logger = createLogger({
      service: 'demo',
      level: process.env['FLOODGATE_DEBUG'] ? 'info' : 'fatal',
    });
    const handle = await startAllInOne(
      ingestConfigSchema.parse({
        ...common,
        groupId: `${prefix}-ingest`,
        partitions: 3,
        privacy: { hmacKey: 'demo-hmac-key-0123456789' },
      }),
      detectorConfigSchema.parse({ ...common, groupId: `${prefix}-detector`, checkpointIntervalMs: 5_000 }),
      logger,
      {
        config: alerterConfigSchema.parse({
          ...common,
          groupId: `${prefix}-alerter`,
          fromBeginning: true,
          rulesFile,
          publicBaseUrl: consoleUrl,
          console: { token: consoleToken },
        }),
        rules: loadRules(rulesFile),
      },
    );
    let stopped = false;
    const stopHandle = async () => {
      if (!stopped) {
        stopped = true;
        await handle.stop();
      }
    };
    cleanups.push(stopHandle);
    const consoleServer = await startAdminServer(
      `127.0.0.1:${consolePort}`,
      handle.registry,
      handle.ready,
      handle.adminRoutes,
    );
    cleanups.push(() => consoleServer.close());
    say(`ingest, detector and alerter running; incident console at ${consoleUrl}`);

    // 6. Traffic.
    const plan = simulatePlan(Math.floor(Date.now() / 1000) * 1000, HISTORY_MS, LIVE_MS, [
      'account_takeover',
      'sms_pumping',
    ]);
    const simulation = prepareAligned({ seed: 20261125, accounts: ACCOUNTS, ...plan });
    for (const label of simulation.labels)
      say(
        `scenario ${label.scenario} on ${label.accountIds.join(', ')}: begins ${new Date(label.startMs).toISOString().slice(11, 19)}Z, attack traffic from ${new Date(label.trafficStartMs ?? label.startMs).toISOString().slice(11, 19)}Z`,
      );
    const kafka = createKafka({
      brokers: [brokers],
      clientId: `${prefix}-producer`,
      tls: false,
      tlsRejectUnauthorized: true,
    });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(
      admin,
      [topics.outbound, topics.inbound, topics.status, topics.feedback, topics.audit].map((topic) => ({
        topic,
        partitions: 3,
      })),
    );
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    cleanups.push(() => producer.disconnect());

    const metric = async (name: string): Promise<number> => {
      const text = await handle.registry.getSingleMetricAsString(name).catch(() => '');
      let sum = 0;
      for (const line of text.split('\n'))
        if (line.startsWith(name) && !line.startsWith('#'))
          sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      return sum;
    };
    let sent = 0;
    let rate = 0;
    const progress = setInterval(() => {
      Promise.all([metric('floodgate_consumer_lag'), metric('floodgate_detector_detections_total')]).then(
        ([lag, detections]) =>
          process.stdout.write(
            `\r[demo ${elapsed()}] produced ${sent} events (${rate}/s) · consumer lag ${lag} · detections ${detections} · notifications ${received.length}    `,
          ),
      );
    }, 1_000);
    cleanups.push(() => clearInterval(progress));
    say(`producing ${ACCOUNTS} accounts × 3 h of history, then ${LIVE_MS / 1000} s live…`);
    await streamSimulation(
      simulation,
      async (events) => {
        await producer.sendBatch({ acks: -1, topicMessages: topicMessagesOf(topics, events) });
        sent += events.length;
      },
      { rate: 50_000, realTime: true, onProgress: (_n, perSecond) => (rate = perSecond) },
    );
    // Let the pipeline drain and the alerter deliver.
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      if ((await metric('floodgate_consumer_lag')) === 0 && received.length > 0) break;
      await sleep(500);
    }
    await sleep(3_000);
    clearInterval(progress);
    process.stdout.write('\n');

    // 7. What happened.
    const query = async <T>(sql: string, params: Record<string, unknown> = {}) =>
      (await runReadOnlyQuery(handle.clickhouse.client, sql, params)).rows as T[];
    const incidents = await query<Record<string, unknown>>(
      `SELECT id, argMax(severity, version) AS severity, argMax(state, version) AS state, any(account_id) AS account,
              argMax(detections, version) AS detections, argMax(summary, version) AS summary,
              min(opened_at) AS opened, argMax(incident, version) AS incident
         FROM alerts GROUP BY id ORDER BY opened LIMIT 20`,
    );
    console.log(`\n== Incidents (${incidents.length}) ==`);
    console.log(
      formatTable(['severity', 'state', 'account', 'detections', 'opened', 'summary'], incidents, 80),
    );
    for (const incident of incidents) {
      const stored = JSON.parse(String(incident['incident'] || '{}')) as {
        kinds?: string[];
        evidence?: unknown;
      };
      console.log(
        `\n-- evidence of ${incident['id']} (${String(incident['account'])}; ${stored.kinds?.join(', ')})`,
      );
      console.log(
        JSON.stringify(stored.evidence ?? {}, null, 1)
          .split('\n')
          .slice(0, 30)
          .join('\n'),
      );
    }
    console.log(`\n== Notifications received by the webhook (${received.length}) ==`);
    console.log(
      formatTable(
        ['at', 'signature', 'action', 'summary'],
        received.map((r) => ({
          at: new Date(r.at).toISOString().slice(11, 19),
          signature: r.verified ? 'valid' : 'INVALID',
          action: r.body['action'] ?? '',
          summary: (r.body['incident'] as { summary?: string } | undefined)?.summary ?? '',
        })),
        100,
      ),
    );

    const cookbook = new Map(loadCookbook().map((q) => [q.name, q]));
    const since = new Date(plan.startMs).toISOString().slice(0, 19).replace('T', ' ');
    const examples: [string, Record<string, unknown>][] = [
      ['top_anomalous_accounts', { since, limit: 10 }],
      [
        'new_link_domains',
        { since: new Date(Date.now() - 3_600_000).toISOString().slice(0, 19).replace('T', ' ') },
      ],
      ['pumping_by_prefix', { since }],
    ];
    for (const [name, params] of examples) {
      const q = cookbook.get(name);
      if (!q) continue;
      const filled: Record<string, unknown> = {};
      for (const p of q.parameters) filled[p.name] = params[p.name] ?? defaultFor(p.type, since);
      console.log(`\n== Analyst query: ${name} (infra/clickhouse/queries/${name}.sql) ==`);
      console.log(
        `   floodgate query --name ${name} ${Object.entries(filled)
          .map(([k, v]) => `--param ${k}='${v}'`)
          .join(' ')}`,
      );
      const rows = await runCookbookQuery<Record<string, unknown>>(handle.clickhouse.client, q, filled);
      console.log(formatTable(Object.keys(rows[0] ?? { '(no rows)': '' }), rows.slice(0, 10), 40));
    }

    // The console: each incident's page, and how long its data takes (median of 5, server side).
    console.log(`\n== Incident console (sign in with any name and the token ${consoleToken}) ==`);
    const pageRows: Record<string, unknown>[] = [];
    for (const incident of incidents) {
      const times: number[] = [];
      let roundTrip = 0;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const answer = await fetch(`${consoleUrl}/api/incidents/${incident['id']}`, {
          headers: { authorization: `Bearer ${consoleToken}` },
        });
        const view = (await answer.json()) as { queryMs?: number };
        roundTrip += performance.now() - t0;
        times.push(view.queryMs ?? Number.NaN);
      }
      times.sort((a, b) => a - b);
      pageRows.push({
        url: `${consoleUrl}/incidents/${incident['id']}`,
        account: incident['account'],
        'page data (median of 5)': `${times[2]?.toFixed(0)} ms`,
        'with HTTP (mean)': `${(roundTrip / 5).toFixed(0)} ms`,
      });
    }
    console.log(
      formatTable(['url', 'account', 'page data (median of 5)', 'with HTTP (mean)'], pageRows, 120),
    );

    const ok = incidents.length > 0 && received.length > 0 && received.every((r) => r.verified);
    if (SERVE && ok) {
      say(`the console stays up at ${consoleUrl} (token ${consoleToken}); Ctrl-C stops everything`);
      await new Promise<never>(() => {});
    } else if (ok) say(`run \`pnpm demo --serve\` to keep the console up after the demo`);
    say(
      ok
        ? `done: ${incidents.length} incident(s), ${received.length} signed notification(s) delivered`
        : 'done, but no incident was notified — see above',
    );
    return ok ? 0 : 1;
  } finally {
    await cleanup();
  }
}

function defaultFor(type: string, since: string): unknown {
  if (type.startsWith('DateTime')) return since;
  if (type.startsWith('UInt') || type.startsWith('Int')) return 10;
  if (type.startsWith('Float')) return 1;
  return '';
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env['FLOODGATE_DEBUG']) console.error(error);
    process.exit(1);
  },
);
