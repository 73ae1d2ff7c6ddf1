/**
 * Helpers of the alerter tests: a real HTTP receiver on loopback that records every request and
 * answers as told, detections shaped like the detector's, and an alerter started on the test's
 * own topic, consumer group and ClickHouse.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  type AlerterConfigInput,
  type AlerterHandle,
  alerterConfigSchema,
  parseRules,
  type RuleSet,
  startAlerter,
} from '@floodgate/alerter';
import type { Detection } from '@floodgate/detect';
import { createKafka, ensureTopics, type Kafka } from '@floodgate/kafka';
import { createLogger } from '@floodgate/observability';
import type { TestClickhouse } from './setup/clickhouse.ts';
import { eventually } from './setup/pipeline.ts';

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  /** The status this receiver answered with. */
  status: number;
  receivedAtMs: number;
}

export interface TestReceiver {
  url: string;
  requests: RecordedRequest[];
  /** Decides the answer to each request (default 202). */
  respond: (request: Omit<RecordedRequest, 'status' | 'receivedAtMs'>) => {
    status: number;
    body?: string;
    headers?: Record<string, string>;
  };
  close(): Promise<void>;
}

export async function startReceiver(): Promise<TestReceiver> {
  const receiver: TestReceiver = {
    url: '',
    requests: [],
    respond: () => ({ status: 202, body: '{"status":"success"}' }),
    close: async () => {},
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const seen = { path: request.url ?? '/', headers: request.headers, body, json };
      const answer = receiver.respond(seen);
      receiver.requests.push({ ...seen, status: answer.status, receivedAtMs: Date.now() });
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

export function makeDetection(id: string, accountId: string, over: Partial<Detection> = {}): Detection {
  const nowMs = Date.now();
  return {
    id,
    kind: 'credential_anomaly',
    accountId,
    key: 'api_key:key_live_7f3a',
    windowStartMs: nowMs - 60_000,
    windowEndMs: nowMs,
    detectedAtMs: nowMs,
    observed: 240,
    expected: 12,
    score: 9.5,
    severity: 'critical',
    labels: { scope: 'api_key' },
    evidence: {
      reason: 'API key key_live_7f3a used from a network it never used, with rising volume',
      topTemplates: [
        {
          fingerprint: 'a1b2',
          sample: 'Your parcel is held: pay the fee at https://{domain}/{path}',
          count: 180,
          isNew: true,
        },
      ],
      topCountries: [
        { value: 'GB', count: 150 },
        { value: 'NG', count: 90, isNew: true },
      ],
      topPrefixes: [{ value: '+4474', count: 120 }],
      distinctRecipients: 231,
      apiKeys: [{ value: 'key_live_7f3a', count: 240 }],
      sourceIps: [{ value: '198.51.100.7', count: 240, isNew: true }],
      userAgents: [{ value: 'python-requests/2.32', count: 240, isNew: true }],
      linkDomains: [{ value: 'parcel-fee.example', count: 180, isNew: true }],
      auditEvents: [],
      estimatedCostUsd: 9.12,
      messagesBeforeDetection: 14,
      anomalyStartMs: nowMs - 60_000,
      metrics: {},
      detectorVersion: 'floodgate-detect/0.1.0',
    },
    ...over,
  };
}

export interface AlerterFixture {
  kafka: Kafka;
  /** Every log line the alerters of this fixture wrote (info and above), for secret checks. */
  logs: string[];
  topic: string;
  groupId: string;
  produce(detections: readonly Detection[]): Promise<void>;
  start(rules: string | RuleSet, overrides?: Partial<AlerterConfigInput>): Promise<AlerterHandle>;
}

export async function alerterFixture(
  brokers: string,
  ch: TestClickhouse,
  prefix: string,
): Promise<AlerterFixture> {
  const topic = `${prefix}.detections`;
  const groupId = `${prefix}-alerter`;
  const kafka = createKafka({
    brokers: brokers.split(','),
    clientId: prefix,
    tls: false,
    tlsRejectUnauthorized: true,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, partitions: 1 }]);
  await admin.disconnect();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      const line = String(chunk);
      logs.push(line);
      if (/"level":"(error|fatal)"/.test(line)) process.stdout.write(line);
      done();
    },
  });
  const logger = createLogger({ service: 'alerter-test', level: 'info', destination });
  return {
    kafka,
    logs,
    topic,
    groupId,
    async produce(detections) {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: detections.map((d) => ({ key: d.accountId, value: JSON.stringify(d) })),
      });
      await producer.disconnect();
    },
    async start(rules, overrides = {}) {
      const ruleSet = typeof rules === 'string' ? parseRules(rules, 'test-rules.yaml', { env: {} }) : rules;
      const config = alerterConfigSchema.parse({
        kafka: { brokers: brokers.split(','), clientId: `${prefix}-alerter` },
        topics: { detections: topic },
        groupId,
        fromBeginning: true,
        rulesFile: 'test-rules.yaml',
        publicBaseUrl: 'https://floodgate.test',
        evaluationIntervalMs: 100,
        silenceRefreshMs: 200,
        retry: { initialBackoffMs: 100, maxBackoffMs: 1_000 },
        delivery: { initialBackoffMs: 50, maxBackoffMs: 300, maxAttempts: 5, drainMs: 1_000 },
        ...overrides,
      });
      const alerter = await startAlerter(config, { clickhouse: ch, logger, rules: ruleSet });
      await eventually(async () => alerter.ready().ready, 30_000, 'the alerter to be assigned its partition');
      return alerter;
    },
  };
}

export interface NotificationRow {
  id: string;
  incident_id: string;
  receiver: string;
  action: string;
  status: string;
  attempts: number;
  reason: string;
  payload: string;
}

export async function notificationRows(ch: TestClickhouse): Promise<NotificationRow[]> {
  const rows = await (
    await ch.client.query({
      query: `SELECT id, incident_id, receiver, action, status, attempts, reason, payload
              FROM alert_notifications FINAL ORDER BY created_at, id`,
      format: 'JSONEachRow',
    })
  ).json<NotificationRow>();
  return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

export async function incidentRows(
  ch: TestClickhouse,
): Promise<
  { id: string; rule: string; account_id: string; state: string; detections: number; silenced_by: string }[]
> {
  return (
    await ch.client.query({
      query:
        'SELECT id, rule, account_id, state, detections, silenced_by FROM alerts FINAL ORDER BY opened_at, id',
      format: 'JSONEachRow',
    })
  ).json();
}

export { eventually };
