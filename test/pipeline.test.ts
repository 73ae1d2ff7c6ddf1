import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { histogramTotals } from '@floodgate/observability';
import { simulate } from '@floodgate/simulator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';
import { eventually, startTestPipeline, type TestPipeline } from './setup/pipeline.ts';

const HOUR = 3_600_000;

async function count(ch: TestClickhouse, sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const rows = await (
    await ch.client.query({ query: sql, query_params: params, format: 'JSONEachRow' })
  ).json<{ n: string | number }>();
  return Number(rows[0]?.n ?? 0);
}

describe('pipeline: Kafka → ingest → ClickHouse rows → detector → detections', () => {
  let ch: TestClickhouse;
  let pipeline: TestPipeline;
  let inventoryFile: string;
  const startMs = Date.UTC(2026, 9, 12, 6, 0, 0);
  // Four hours of 25 accounts: enough history for baselines and warm-up, then a takeover.
  const simulation = simulate({
    seed: 7,
    startMs,
    durationMs: 4 * HOUR,
    accounts: 25,
    scenarios: [
      // A ten-minute blast keeps the backlog the 30 s must cover to what a live pipeline would see.
      {
        name: 'account_takeover',
        atMs: startMs + 3 * HOUR + 7 * 60_000,
        options: { burstDurationMs: 10 * 60_000 },
      },
      { name: 'cross_account_campaign', atMs: startMs + 3 * HOUR + 19 * 60_000 },
    ],
  });
  const label = simulation.labels.find((l) => l.scenario === 'account_takeover');
  const campaign = simulation.labels.find((l) => l.scenario === 'cross_account_campaign');
  const attacked = simulation.labels.flatMap((l) => l.accountIds);

  beforeAll(async () => {
    ch = await openTestClickhouse('pipeline');
    const dir = mkdtempSync(join(tmpdir(), 'floodgate-inventory-'));
    inventoryFile = join(dir, 'inventory.json');
    writeFileSync(inventoryFile, JSON.stringify(simulation.inventory));
    // Validation and normalisation on worker threads, as on machines of more than 2 cores (the
    // other pipeline tests run them on the main thread, this machine's default).
    pipeline = await startTestPipeline(inject('kafkaBrokers'), ch, `e2e${Date.now()}`, {
      inventoryFile,
      ingest: { normalizeWorkers: 2 },
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await ch?.dispose();
  });

  it('stores every event once and detects the compromised key within 30 s, with evidence, and nothing critical on benign accounts', async () => {
    expect(label?.scenario).toBe('account_takeover');
    // Three hours of history first (what a running pipeline has already seen), then the last hour
    // with the takeover in it: the 30 s are measured from the end of that hour's produce.
    const attackMs = label?.startMs ?? Number.POSITIVE_INFINITY;
    const time = (e: (typeof simulation.events)[number]) =>
      typeof e.eventTime === 'number' ? e.eventTime : Date.parse(String(e.eventTime));
    const history = simulation.events.filter((e) => time(e) < attackMs - 10 * 60_000);
    const rest = simulation.events.slice(history.length);
    expect(rest.length).toBeGreaterThan(0);
    const before = await pipeline.produce(history);
    await eventually(
      async () =>
        (await count(ch, 'SELECT count() AS n FROM messages_outbound')) >= (before['message.outbound'] ?? 0),
      60_000,
      'the history stored',
    );
    const after = await pipeline.produce(rest);
    const producedAt = Date.now();
    const produced: Record<string, number> = { ...before };
    for (const [type, n] of Object.entries(after)) produced[type] = (produced[type] ?? 0) + n;
    const outbound = produced['message.outbound'] ?? 0;
    expect(outbound).toBeGreaterThan(1_000);

    await eventually(
      async () => (await count(ch, 'SELECT count() AS n FROM messages_outbound')) >= outbound,
      60_000,
      `${outbound} outbound rows`,
    );
    const attackKinds = ['content_burst', 'volume_spike', 'credential_anomaly', 'new_link_domain'];
    const detection = await eventually(
      async () => {
        const rows = await (
          await ch.client.query({
            query: `SELECT kind, severity, evidence FROM detections FINAL
                     WHERE account_id = {account:String} AND kind IN {kinds:Array(String)} ORDER BY detected_at LIMIT 1`,
            query_params: { account: label?.accountIds[0], kinds: attackKinds },
            format: 'JSONEachRow',
          })
        ).json<{ kind: string; severity: string; evidence: string }>();
        return rows[0];
      },
      30_000,
      `a detection for ${label?.accountIds[0]}`,
    );
    const latencyMs = Date.now() - producedAt;
    console.log(
      `first detection for the takeover ${latencyMs} ms after the last event was produced: ${detection.kind}/${detection.severity}`,
    );
    const evidence = JSON.parse(detection.evidence) as {
      topTemplates: { sample: string }[];
      apiKeys: unknown[];
    };
    expect(evidence.topTemplates.length, 'evidence carries masked template samples').toBeGreaterThan(0);
    expect(evidence.apiKeys.length).toBeGreaterThan(0);

    // Statuses and replies may still be landing when the detection shows up: wait for every table,
    // then require exactly the produced count (duplicates would overshoot it).
    const total = Object.values(produced).reduce((a, b) => a + b, 0);
    const stored = async () =>
      (
        await Promise.all(
          [
            'messages_outbound',
            'messages_inbound',
            'messages_status',
            'messages_feedback',
            'accounts_audit',
          ].map((t) => count(ch, `SELECT count() AS n FROM ${t} FINAL`)),
        )
      ).reduce((a, b) => a + b, 0);
    await eventually(async () => (await stored()) >= total, 60_000, `${total} raw rows`);
    expect(await stored(), 'raw rows equal produced events').toBe(total);
    expect(
      await count(ch, 'SELECT sum(messages) AS n FROM traffic_minute'),
      'the per-minute rollup counts every outbound message',
    ).toBe(outbound);
    expect(await count(ch, 'SELECT count() AS n FROM fingerprints')).toBeGreaterThan(0);
    const benignCritical = await count(
      ch,
      `SELECT count() AS n FROM detections FINAL WHERE severity = 'critical' AND account_id NOT IN {attacked:Array(String)}`,
      { attacked },
    );
    expect(benignCritical, 'benign accounts must not page').toBe(0);

    // Where the batches' time went: each service timed the phases of the batches it processed.
    const phaseCounts = async (registry: typeof pipeline.ingest.registry) => {
      const counts: Record<string, number> = {};
      for (const { labels, count } of await histogramTotals(registry, 'floodgate_batch_phase_seconds'))
        counts[String(labels['phase'])] = (counts[String(labels['phase'])] ?? 0) + count;
      return counts;
    };
    const ingestPhases = await phaseCounts(pipeline.ingest.registry);
    for (const phase of ['process', 'forward', 'heartbeat'])
      expect(ingestPhases[phase], `ingest batches timed in phase ${phase}`).toBeGreaterThan(0);
    const detectorPhases = await phaseCounts(pipeline.detector.registry);
    for (const phase of ['process', 'flush', 'heartbeat', 'checkpoint_encode'])
      expect(detectorPhases[phase], `detector batches timed in phase ${phase}`).toBeGreaterThan(0);
    // Live checkpoints are written beside consumption, and timed there.
    const written = await histogramTotals(
      pipeline.detector.registry,
      'floodgate_detector_checkpoint_write_seconds',
    );
    expect(
      written.reduce((a, w) => a + w.count, 0),
      'live checkpoints written',
    ).toBeGreaterThan(0);
  });

  it('the fingerprint-keyed stage finds the campaign sent through several accounts', async () => {
    expect(campaign?.accountIds.length).toBeGreaterThan(3);
    const row = await eventually(
      async () => {
        const rows = await (
          await ch.client.query({
            query: `SELECT evidence FROM detections FINAL WHERE kind = 'cross_account_campaign' LIMIT 1`,
            format: 'JSONEachRow',
          })
        ).json<{ evidence: string }>();
        return rows[0];
      },
      30_000,
      'a cross_account_campaign detection',
    );
    const accounts = (JSON.parse(row.evidence) as { accountIds: string[] }).accountIds;
    const inCampaign = accounts.filter((a) => campaign?.accountIds.includes(a));
    const others = accounts.filter((a) => !campaign?.accountIds.includes(a));
    if (others.length > 0) console.log(`campaign detection also lists ${others.join(', ')}`);
    // Known imprecision (see the README): an account that starts sending a near-duplicate of the
    // lure inside the window is listed with the campaign. The campaign accounts must carry it.
    expect(inCampaign.length, `${accounts}: campaign accounts`).toBeGreaterThanOrEqual(4);
    expect(others.length, `${accounts}: accounts outside the campaign`).toBeLessThan(inCampaign.length / 2);
  });

  it('dead-letters poison records with their reasons and keeps consuming the valid ones around them', async () => {
    const valid = simulation.events
      .filter((e) => e.type === 'message.outbound')
      .slice(0, 3)
      .map((e) => ({ ...e, eventId: `${e.eventId}-again` }));
    const producer = pipeline.kafka.producer();
    await producer.connect();
    const poison = [
      { value: '{"type": "message.outbound", "eventId": ' },
      { value: JSON.stringify({ ...valid[0], to: 'not-a-number', eventId: 'poison-schema' }) },
      { value: JSON.stringify({ ...valid[0], body: 'x'.repeat(1024 * 1024), eventId: 'poison-huge' }) },
    ];
    await producer.send({
      topic: pipeline.topics.outbound,
      acks: -1,
      messages: [
        { key: 'a', value: JSON.stringify(valid[0]) },
        poison[0] as { value: string },
        { key: 'a', value: JSON.stringify(valid[1]) },
        poison[1] as { value: string },
        poison[2] as { value: string },
        { key: 'a', value: JSON.stringify(valid[2]) },
      ],
    });
    await producer.disconnect();

    const dlq = pipeline.kafka.consumer({ groupId: `dlq-reader-${Date.now()}` });
    await dlq.connect();
    await dlq.subscribe({ topic: pipeline.topics.deadLetter, fromBeginning: true });
    const reasons: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${reasons.length} of 3 dead letters arrived`)),
        30_000,
      );
      dlq
        .run({
          eachMessage: async ({ message }) => {
            expect(message.headers?.['floodgate.source.topic']?.toString()).toBe(pipeline.topics.outbound);
            reasons.push(JSON.parse(String(message.headers?.['floodgate.reasons']))[0].code);
            if (reasons.length >= 3) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await dlq.disconnect();
    expect(reasons.sort()).toEqual(['invalid_json', 'invalid_format', 'too_large'].sort());
    await eventually(
      async () =>
        (await count(ch, `SELECT count() AS n FROM messages_outbound WHERE endsWith(event_id, '-again')`)) ===
        3,
      30_000,
      'the three valid records around the poison ones',
    );
  });

  it('stores the API key inventory for analysts and reloads it when its file changes', async () => {
    const keys = simulation.inventory.length;
    expect(keys).toBeGreaterThan(0);
    expect(await count(ch, 'SELECT count() AS n FROM api_keys FINAL')).toBe(keys);
    const added = {
      ...simulation.inventory[0],
      keyId: 'key_added_by_reload',
      allowedCountries: ['GB'],
    };
    writeFileSync(inventoryFile, JSON.stringify([...simulation.inventory, added]));
    await eventually(
      async () => (await count(ch, 'SELECT count() AS n FROM api_keys FINAL')) === keys + 1,
      20_000,
      'the added key in api_keys',
    );
    const applied = async () =>
      (await pipeline.detector.registry.getSingleMetricAsString('floodgate_detector_inventory_reloads_total'))
        .split('\n')
        .find((line) => line.includes('outcome="applied"'));
    await eventually(applied, 20_000, 'the detector to apply the new inventory');
    // An invalid file is rejected and counted; the previous inventory stays.
    writeFileSync(inventoryFile, '[{"keyId": 1}]');
    await eventually(
      async () =>
        (
          await pipeline.detector.registry.getSingleMetricAsString(
            'floodgate_detector_inventory_reloads_total',
          )
        ).includes('outcome="rejected"'),
      20_000,
      'the detector to reject the invalid inventory',
    );
    expect(await count(ch, 'SELECT count() AS n FROM api_keys FINAL')).toBe(keys + 1);
  });
});
