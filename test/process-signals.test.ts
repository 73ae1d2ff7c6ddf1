/**
 * The services as separate processes, sent real signals: SIGTERM mid-stream must exit cleanly
 * within 10 s; SIGKILL mid-stream must lose nothing and duplicate nothing once restarted. The
 * all-in-one runner is used because the embedded ClickHouse engine lives in the process that opens
 * its data directory; with a ClickHouse server the same test would run ingest and detector apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topicMessagesOf } from '@floodgate/cli';
import { createClickhouse } from '@floodgate/clickhouse';
import { clickhouseConnectionSchema } from '@floodgate/config';
import { createKafka } from '@floodgate/kafka';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually, referenceDetections, takeoverTraffic, topicNames } from './setup/pipeline.ts';
import {
  metricSum,
  type ServiceProcess,
  startServiceProcess,
  topicEnv,
  untilReady,
} from './setup/service-process.ts';

describe('services as processes: SIGTERM and SIGKILL mid-stream', () => {
  const prefix = `signals${Date.now()}`;
  const topics = topicNames(prefix);
  const dataPath = mkdtempSync(join(tmpdir(), 'floodgate-ch-signals-'));
  const simulation = takeoverTraffic();
  const total = simulation.events.length;
  const groups = { ingest: `${prefix}-ingest`, detector: `${prefix}-detector` };
  const running: ServiceProcess[] = [];

  const env = (): Record<string, string> => ({
    KAFKA_BROKERS: inject('kafkaBrokers'),
    KAFKA_CLIENT_ID: prefix,
    CLICKHOUSE_DATA_PATH: dataPath,
    ...topicEnv(topics),
    INGEST_GROUP_ID: groups.ingest,
    DETECTOR_GROUP_ID: groups.detector,
    INGEST_PARTITIONS: '3',
    FLOODGATE_HMAC_KEY: 'signals-test-hmac-key-0123',
    CHECKPOINT_INTERVAL_MS: '1000',
    CONSUMER_LAG_INTERVAL_MS: '500',
    LOG_LEVEL: 'info',
  });
  const start = async (): Promise<ServiceProcess> => {
    const service = await startServiceProcess('all-in-one', env());
    running.push(service);
    await untilReady(service, 'the all-in-one process');
    return service;
  };
  const consumedBy = async (service: ServiceProcess) =>
    metricSum(await service.metrics(), 'floodgate_detector_consumed_total').sum;

  afterAll(async () => {
    for (const service of running) if (service.child.exitCode === null) service.child.kill('SIGKILL');
    rmSync(dataPath, { recursive: true, force: true });
  });

  it('exits within 10 s on SIGTERM, survives SIGKILL, and ends with every event stored once and the detections of an uninterrupted run', async () => {
    const kafka = createKafka({
      brokers: inject('kafkaBrokers').split(','),
      clientId: `${prefix}-test`,
      tls: false,
      tlsRejectUnauthorized: true,
    });
    const producer = kafka.producer();
    await producer.connect();
    // Topics are created by the first run; produce after it is up so partitions exist as configured.
    const first = await start();
    for (let at = 0; at < total; at += 2_000)
      await producer.sendBatch({
        acks: -1,
        topicMessages: topicMessagesOf(topics, simulation.events.slice(at, at + 2_000)),
      });
    await producer.disconnect();

    // 1. SIGTERM part-way: stop fetching, flush, checkpoint, exit 0 — within 10 s.
    await eventually(async () => (await consumedBy(first)) >= total * 0.2, 90_000, 'a fifth consumed');
    const termAt = Date.now();
    first.child.kill('SIGTERM');
    const termExit = await first.exited;
    const shutdownMs = termExit.atMs - termAt;
    console.log(
      `graceful shutdown took ${shutdownMs} ms`,
      first
        .output()
        .split('\n')
        .filter((l) => /stopp|shutting|shutdown/.test(l))
        .map((l) => l.slice(0, 300))
        .join('\n'),
    );
    // Both, so a failure says whether the process exited with an error or died of a signal.
    expect({ code: termExit.code, signal: termExit.signal }, first.output().slice(-12_000)).toEqual({
      code: 0,
      signal: null,
    });
    expect(shutdownMs).toBeLessThanOrEqual(10_000);

    // 2. SIGKILL part-way through what is left: no flush, no checkpoint, no commit.
    const second = await start();
    await eventually(async () => (await consumedBy(second)) >= total * 0.2, 90_000, 'more consumed');
    second.child.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');

    // 3. Restart and let it finish: every group's lag stays zero on every partition for 3 s. (Each
    // group's lag is refreshed on its own 500 ms timer: ingest can read zero just after forwarding
    // its last records while the detector's figure still predates them.)
    const third = await start();
    let quietSince = 0;
    await eventually(
      async () => {
        const m = await third.metrics();
        const lagOf = (group: string) => metricSum(m, 'floodgate_consumer_lag', { group });
        const parts = [lagOf(groups.ingest), lagOf(groups.detector), lagOf(`${groups.detector}-campaigns`)];
        if (!parts.every((p) => p.series > 0 && p.sum === 0)) quietSince = 0;
        else quietSince ||= Date.now();
        return quietSince > 0 && Date.now() - quietSince >= 3_000;
      },
      120_000,
      'zero consumer lag for ingest, detector and campaign stage',
    );
    const seeks = running
      .flatMap((service) => service.output().split('\n'))
      .filter((line) => line.includes('seeking back'));
    console.log(`batches that started after their partition's state (sought back): ${seeks.length}`);
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);

    // The reference: one engine per partition over `traffic.normalized` in offset order, skipping
    // the copies ingest forwarded again after the SIGKILL, as an uninterrupted detector would.
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topics.normalized);
    await admin.disconnect();
    const expectedRecords = ends.reduce((sum, e) => sum + Number(e.high), 0);
    const {
      ids: expectedIds,
      events: forwardedEvents,
      copies,
      misplaced,
      described,
    } = await referenceDetections(kafka, topics.normalized, expectedRecords);
    console.log(
      `reference detections: ${expectedIds.size}; ${expectedRecords} normalized records carrying ${forwardedEvents} events of ${total}, ${copies} copies`,
    );
    expect(forwardedEvents - copies, 'each event counted once by the engine').toBe(total);
    expect(misplaced, "every event forwarded to its account's partition").toBe(0);
    expect(expectedIds.size, 'the takeover should be detected').toBeGreaterThan(0);

    const clickhouse = await createClickhouse(clickhouseConnectionSchema.parse({ dataPath }));
    try {
      const query = async <T>(sql: string) =>
        (await clickhouse.client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
      const tables = [
        'messages_outbound',
        'messages_inbound',
        'messages_status',
        'messages_feedback',
        'accounts_audit',
      ];
      let stored = 0;
      for (const table of tables)
        stored += Number((await query<{ n: string }>(`SELECT count() AS n FROM ${table} FINAL`))[0]?.n);
      expect(stored, 'raw rows equal produced events').toBe(total);
      const rows = await query<{
        id: string;
        kind: string;
        key: string;
        account_id: string;
        detected_at: string;
      }>(
        `SELECT id, kind, key, account_id, detected_at FROM detections FINAL WHERE kind != 'cross_account_campaign'`,
      );
      const storedIds = new Set(rows.map((r) => r.id));
      const missing = [...expectedIds].filter((id) => !storedIds.has(id)).map((id) => described.get(id));
      const extra = rows
        .filter((r) => !expectedIds.has(r.id))
        .map((r) => `${r.kind} ${r.key} ${r.account_id} @${r.detected_at}`);
      if (missing.length + extra.length > 0) console.log('differences', { missing, extra });
      expect(new Set(rows.map((r) => r.id)).size, 'no duplicate detections').toBe(rows.length);
      expect([...rows.map((r) => r.id)].sort()).toEqual([...expectedIds].sort());
    } finally {
      await clickhouse.close();
    }
  });
});
