import { loadCookbook, runCookbookQuery } from '@floodgate/clickhouse';
import { type Detection, DetectionEngine, normalizeEvent } from '@floodgate/detect';
import { detectionRow } from '@floodgate/detector';
import { rawRowOf } from '@floodgate/ingest';
import { simulate } from '@floodgate/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';

const HOUR = 3_600_000;
const startMs = Date.UTC(2026, 9, 21, 4, 0, 0);
const toParam = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

describe('analyst cookbook (infra/clickhouse/queries) on seeded data', () => {
  let ch: TestClickhouse;
  const simulation = simulate({
    seed: 5,
    startMs,
    durationMs: 4 * HOUR,
    accounts: 20,
    scenarios: [
      { name: 'account_takeover', atMs: startMs + 3 * HOUR + 3 * 60_000 },
      { name: 'sms_pumping', atMs: startMs + 3 * HOUR + 9 * 60_000 },
      {
        name: 'third_party_misuse',
        atMs: startMs + 3 * HOUR + 1 * 60_000,
        options: { variant: 'foreign_network' },
      },
    ] as never,
  });
  const label = (name: string) => simulation.labels.find((l) => l.scenario === name);
  const since = startMs + 3 * HOUR;
  const cookbook = loadCookbook();
  const query = (name: string) => {
    const found = cookbook.find((q) => q.name === name);
    if (!found) throw new Error(`no cookbook query ${name}`);
    return found;
  };

  beforeAll(async () => {
    ch = await openTestClickhouse('cookbook');
    const engine = new DetectionEngine({ inventory: simulation.inventory });
    const rowsByTable = new Map<string, Record<string, unknown>[]>();
    const detections: Detection[] = [];
    for (const event of simulation.events) {
      const normalized = normalizeEvent(event, { hmacKey: 'cookbook-test-key-0123' });
      const raw = rawRowOf(event, normalized, 'masked');
      const rows = rowsByTable.get(raw.table) ?? [];
      rows.push(raw.row);
      rowsByTable.set(raw.table, rows);
      for (const d of engine.process(normalized)) detections.push(d);
    }
    for (const [table, rows] of rowsByTable) {
      for (let i = 0; i < rows.length; i += 20_000) {
        await ch.client.insert({ table, values: rows.slice(i, i + 20_000), format: 'JSONEachRow' });
      }
    }
    await ch.client.insert({
      table: 'detections',
      values: detections.map(detectionRow),
      format: 'JSONEachRow',
    });
  });
  afterAll(async () => {
    await ch?.dispose();
  });

  it('every query declares its parameters and a description', () => {
    expect(cookbook.map((q) => q.name).sort()).toEqual([
      'account_timeline',
      'api_keys_new_ips',
      'new_link_domains',
      'opt_out_templates',
      'pumping_by_prefix',
      'top_anomalous_accounts',
    ]);
    for (const q of cookbook) {
      expect(q.description.length, `${q.name} has a description`).toBeGreaterThan(20);
      expect(q.parameters.length, `${q.name} declares parameters`).toBeGreaterThan(0);
      for (const p of q.parameters) expect(q.sql, `${q.name} uses {${p.name}:…}`).toContain(`{${p.name}:`);
    }
  });

  it('top_anomalous_accounts puts the attacked accounts first', async () => {
    const rows = await runCookbookQuery<{ account_id: string; critical: string }>(
      ch.client,
      query('top_anomalous_accounts'),
      {
        since: toParam(since),
        limit: 5,
      },
    );
    const attacked = [label('account_takeover'), label('sms_pumping'), label('third_party_misuse')].flatMap(
      (l) => l?.accountIds ?? [],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(attacked, JSON.stringify(rows)).toContain(rows[0]?.account_id);
  });

  it('account_timeline shows the takeover burst and its detections minute by minute', async () => {
    const ato = label('account_takeover');
    const rows = await runCookbookQuery<{ messages: string; detections: string[] }>(
      ch.client,
      query('account_timeline'),
      {
        account: ato?.accountIds[0],
        from: toParam(since),
        to: toParam(startMs + 4 * HOUR),
      },
    );
    expect(rows.length).toBeGreaterThan(10);
    expect(Math.max(...rows.map((r) => Number(r.messages)))).toBeGreaterThan(100);
    expect(rows.some((r) => (r.detections ?? []).length > 0)).toBe(true);
  });

  it('new_link_domains finds the phishing domain of the takeover', async () => {
    const ato = label('account_takeover');
    const rows = await runCookbookQuery<{ account_id: string; domain: string }>(
      ch.client,
      query('new_link_domains'),
      {
        since: toParam(since),
        history_days: 7,
      },
    );
    expect(
      rows.some((r) => r.account_id === ato?.accountIds[0]),
      JSON.stringify(rows.slice(0, 5)),
    ).toBe(true);
  });

  it('pumping_by_prefix ranks the pumped prefix of the pumping account first', async () => {
    const pumping = label('sms_pumping');
    const rows = await runCookbookQuery<{ account_id: string; recipients: string }>(
      ch.client,
      query('pumping_by_prefix'),
      {
        since: toParam(since),
        min_recipients: 20,
      },
    );
    expect(rows[0]?.account_id, JSON.stringify(rows.slice(0, 3))).toBe(pumping?.accountIds[0]);
  });

  it('api_keys_new_ips lists the shared key used from outside its network', async () => {
    const misuse = label('third_party_misuse');
    const rows = await runCookbookQuery<{ api_key_id: string }>(ch.client, query('api_keys_new_ips'), {
      since: toParam(since),
      history_days: 7,
    });
    expect(rows.map((r) => r.api_key_id)).toContain(misuse?.apiKeyIds[0]);
  });

  it('opt_out_templates attributes opt-outs to the template last sent to each recipient', async () => {
    const rows = await runCookbookQuery<{ opt_outs: string; sent: string; template: string }>(
      ch.client,
      query('opt_out_templates'),
      {
        since: toParam(startMs),
        limit: 10,
      },
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Number(row.sent)).toBeGreaterThanOrEqual(1);
  });

  it('runs read-only: a cookbook query cannot write', async () => {
    await expect(
      runCookbookQuery(
        ch.client,
        { name: 'evil', description: '', parameters: [], sql: 'DROP TABLE detections' },
        {},
      ),
    ).rejects.toThrow(/readonly|read-only|Cannot execute/i);
  });
});
