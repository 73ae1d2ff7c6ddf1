import { loadCookbook, runCookbookQuery, securityReport } from '@floodgate/clickhouse';
import { type Detection, DetectionEngine, normalizeEvent } from '@floodgate/detect';
import { detectionRow } from '@floodgate/detector';
import { apiKeyRow, rawRowOf } from '@floodgate/ingest';
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

  let allDetections: Detection[] = [];

  // The credential audit's own fixtures, on an account of their own beside the simulated traffic:
  // inventory entries with and without scope, traffic from many /24s or from one, audit events.
  const audit = 'acct_security_audit';
  const at = (minutesFromSince: number) => toParam(since + minutesFromSince * 60_000);
  const seedCredentialAudit = async (target: TestClickhouse) => {
    const key = (keyId: string, fields: Record<string, unknown> = {}) => ({
      key_id: keyId,
      account_id: audit,
      owner: 'security-test',
      third_party: '',
      allowed_networks: ['198.51.100.0/24'],
      allowed_countries: ['US'],
      created_at: toParam(since - 40 * 24 * HOUR),
      ...fields,
    });
    await target.client.insert({
      table: 'api_keys',
      values: [
        ...simulation.inventory.map(apiKeyRow),
        key('key_sec_roaming'),
        key('key_sec_onenet'),
        key('key_sec_never'),
        key('key_sec_revoked'),
        key('key_sec_fresh', { created_at: at(5) }),
        key('key_sec_unscoped', { allowed_networks: [], allowed_countries: [] }),
        key('key_sec_nocountry', { allowed_countries: [] }),
        key('key_sec_partner', { third_party: 'Example Agency' }),
      ],
      format: 'JSONEachRow',
    });
    const message = (apiKeyId: string, sourceIp: string, n: number) => ({
      event_id: `sec_${apiKeyId}_${n}`,
      event_time: at(10 + n),
      account_id: audit,
      api_key_id: apiKeyId,
      source_ip: sourceIp,
      sender: '+14155550100',
      recipient_hash: `hash_${n % 3}`,
      recipient_country: 'US',
      recipient_prefix: '141555',
      recipient_type: 'mobile',
      channel: 'sms',
    });
    // Six networks: five IPv4 /24s (one inside the key's scope) and one IPv6 /48.
    const roamingIps = [
      '198.51.100.7',
      '203.0.113.9',
      '192.0.2.44',
      '100.64.1.1',
      '45.33.2.1',
      '2001:db8:1::5',
    ];
    await target.client.insert({
      table: 'messages_outbound',
      values: [
        ...roamingIps.map((ip, n) => message('key_sec_roaming', ip, n)),
        // Ten addresses of one /24: one network however many addresses.
        ...Array.from({ length: 10 }, (_, n) => message('key_sec_onenet', `198.51.100.${n + 1}`, n)),
      ],
      format: 'JSONEachRow',
    });
    let auditSeq = 0;
    const auditEvent = (
      actor: string,
      action: string,
      minutes: number,
      fields: Record<string, unknown> = {},
    ) => ({
      event_id: `sec_audit_${auditSeq++}`,
      event_time: at(minutes),
      account_id: audit,
      actor,
      action,
      mfa_used: null,
      source_ip: '203.0.113.50',
      ...fields,
    });
    await target.client.insert({
      table: 'accounts_audit',
      values: [
        auditEvent('alice', 'login', 5, { mfa_used: false }),
        auditEvent('alice', 'login', 6, { mfa_used: false, source_ip: '192.0.2.10' }),
        auditEvent('bob', 'login', 5, { mfa_used: true }),
        auditEvent('carol', 'login', -60, { mfa_used: false }), // before the period
        auditEvent('dave', 'mfa_enrolled', -120),
        auditEvent('dave', 'mfa_disabled', 20, { mfa_used: false }),
        auditEvent('dave', 'login', 30, { mfa_used: false }),
        auditEvent('erin', 'mfa_disabled', -120),
        auditEvent('erin', 'mfa_enrolled', -60),
        auditEvent('frank', 'mfa_disabled', -120),
        auditEvent('admin', 'api_key_revoked', -30, { target_api_key_id: 'key_sec_revoked' }),
      ],
      format: 'JSONEachRow',
    });
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
    allDetections = detections;
    await seedCredentialAudit(ch);
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
      'security_detections_per_account',
      'security_keys_many_networks',
      'security_logins_without_mfa',
      'security_mfa_disabled',
      'security_third_party_keys',
      'security_unscoped_keys',
      'security_unused_keys',
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

  it('security_unused_keys lists keys idle for the period or never used, not used, new or revoked ones', async () => {
    const rows = await runCookbookQuery<{ account_id: string; key_id: string; never_used: number | boolean }>(
      ch.client,
      query('security_unused_keys'),
      { since: toParam(since) },
    );
    const ours = rows.filter((r) => r.account_id === audit);
    const keys = ours.map((r) => r.key_id);
    expect(keys, JSON.stringify(ours)).toContain('key_sec_never');
    expect(Boolean(ours.find((r) => r.key_id === 'key_sec_never')?.never_used)).toBe(true);
    for (const used of ['key_sec_roaming', 'key_sec_onenet'])
      expect(keys, `${used} was used`).not.toContain(used);
    expect(keys, 'a key created inside the period is too new to judge').not.toContain('key_sec_fresh');
    expect(keys, 'a revoked key needs no action').not.toContain('key_sec_revoked');
    // Every simulated key that sent traffic in the period is absent.
    const usedInPeriod = await ch.client
      .query({
        query: `SELECT DISTINCT api_key_id FROM traffic_minute WHERE minute >= {since:DateTime64(3, 'UTC')}`,
        query_params: { since: toParam(since) },
        format: 'JSONEachRow',
      })
      .then((r) => r.json<{ api_key_id: string }>());
    expect(usedInPeriod.length).toBeGreaterThan(5);
    for (const { api_key_id } of usedInPeriod) expect(rows.map((r) => r.key_id)).not.toContain(api_key_id);
  });

  it('security_unscoped_keys lists keys without networks or countries and says which is missing', async () => {
    const rows = await runCookbookQuery<{ account_id: string; key_id: string; missing: string[] }>(
      ch.client,
      query('security_unscoped_keys'),
      { since: toParam(since) },
    );
    const byKey = new Map(rows.filter((r) => r.account_id === audit).map((r) => [r.key_id, r.missing]));
    expect(byKey.get('key_sec_unscoped'), JSON.stringify(rows)).toEqual(['networks', 'countries']);
    expect(byKey.get('key_sec_nocountry')).toEqual(['countries']);
    expect(byKey.has('key_sec_roaming'), 'a key scoped to networks and countries is not listed').toBe(false);
    const scoped = new Set(
      simulation.inventory
        .filter((e) => e.allowedNetworks.length > 0 && e.allowedCountries.length > 0)
        .map((e) => e.keyId),
    );
    for (const row of rows) expect(scoped.has(row.key_id), `${row.key_id} is scoped`).toBe(false);
  });

  it('security_keys_many_networks counts /24 and /48 networks, not addresses, and messages outside scope', async () => {
    const rows = await runCookbookQuery<{
      account_id: string;
      api_key_id: string;
      networks: string;
      messages_outside_scope: string;
      sample_networks: string[];
    }>(ch.client, query('security_keys_many_networks'), { since: toParam(since), min_networks: 3 });
    const roaming = rows.find((r) => r.api_key_id === 'key_sec_roaming');
    expect(roaming, JSON.stringify(rows.slice(0, 5))).toBeDefined();
    expect(Number(roaming?.networks)).toBe(6);
    expect(roaming?.sample_networks).toContain('203.0.113.xxx/24');
    expect(roaming?.sample_networks).toContain('2001:db8:1::/48');
    expect(Number(roaming?.messages_outside_scope), 'five of six addresses are outside 198.51.100.0/24').toBe(
      5,
    );
    expect(
      rows.map((r) => r.api_key_id),
      'ten addresses of one /24 are one network',
    ).not.toContain('key_sec_onenet');
    for (const row of rows) expect(Number(row.networks)).toBeGreaterThanOrEqual(3);
  });

  it('security_third_party_keys lists every shared key with its traffic and out-of-scope use', async () => {
    const misuse = label('third_party_misuse');
    const rows = await runCookbookQuery<{
      key_id: string;
      third_party: string;
      messages: string | null;
      source_ips_outside_scope: string[];
    }>(ch.client, query('security_third_party_keys'), { since: toParam(since) });
    const shared = simulation.inventory.filter((e) => e.thirdParty !== undefined).map((e) => e.keyId);
    expect(rows.map((r) => r.key_id).sort()).toEqual([...shared, 'key_sec_partner'].sort());
    for (const row of rows) expect(row.third_party).not.toBe('');
    expect(Number(rows.find((r) => r.key_id === 'key_sec_partner')?.messages ?? 0)).toBe(0);
    const misused = rows.find((r) => r.key_id === misuse?.apiKeyIds[0]);
    expect(misused, `the misused shared key ${misuse?.apiKeyIds[0]} is listed`).toBeDefined();
    expect(Number(misused?.messages)).toBeGreaterThan(0);
    expect(misused?.source_ips_outside_scope.length, 'used from a foreign network').toBeGreaterThan(0);
  });

  it('security_logins_without_mfa lists users who logged in without MFA in the period only', async () => {
    const rows = await runCookbookQuery<{
      account_id: string;
      actor: string;
      logins_without_mfa: string;
      source_ips: string[];
    }>(ch.client, query('security_logins_without_mfa'), { since: toParam(since) });
    const ours = rows.filter((r) => r.account_id === audit);
    expect(ours.map((r) => r.actor).sort(), JSON.stringify(ours)).toEqual(['alice', 'dave']);
    const alice = ours.find((r) => r.actor === 'alice');
    expect(Number(alice?.logins_without_mfa)).toBe(2);
    expect(alice?.source_ips).toEqual(['192.0.2.10', '203.0.113.50']);
  });

  it('security_mfa_disabled lists users whose latest MFA action disabled it, flagging changes in the period', async () => {
    const rows = await runCookbookQuery<{
      account_id: string;
      actor: string;
      disabled_in_period: number | boolean;
      logins_since: string;
    }>(ch.client, query('security_mfa_disabled'), { since: toParam(since) });
    const ours = rows.filter((r) => r.account_id === audit);
    expect(ours.map((r) => r.actor).sort(), JSON.stringify(ours)).toEqual(['dave', 'frank']);
    const dave = ours.find((r) => r.actor === 'dave');
    expect(Boolean(dave?.disabled_in_period)).toBe(true);
    expect(Number(dave?.logins_since)).toBe(1);
    expect(Boolean(ours.find((r) => r.actor === 'frank')?.disabled_in_period)).toBe(false);
  });

  it('security_detections_per_account counts the detections of each account in the period exactly', async () => {
    const rows = await runCookbookQuery<{ account_id: string; detections: string; critical: string }>(
      ch.client,
      query('security_detections_per_account'),
      { since: toParam(since) },
    );
    const expected = new Map<string, Set<string>>();
    for (const d of allDetections) {
      if (d.detectedAtMs < since) continue;
      const ids = expected.get(d.accountId) ?? new Set<string>();
      ids.add(d.id);
      expected.set(d.accountId, ids);
    }
    expect(expected.size).toBeGreaterThan(0);
    expect(Object.fromEntries(rows.map((r) => [r.account_id, Number(r.detections)]))).toEqual(
      Object.fromEntries([...expected].map(([account, ids]) => [account, ids.size])),
    );
    const ato = label('account_takeover')?.accountIds[0];
    expect(
      Number(rows.find((r) => r.account_id === ato)?.critical),
      'the takeover raised critical detections',
    ).toBeGreaterThan(0);
  });

  it('securityReport returns the seven sections, each what its query returns for the period', async () => {
    const report = await securityReport(ch, { sinceDays: 1 / 24, nowMs: since + HOUR, minNetworks: 3 });
    expect(report.map((s) => s.section)).toEqual([
      'unused_keys',
      'unscoped_keys',
      'keys_many_networks',
      'third_party_keys',
      'logins_without_mfa',
      'mfa_disabled',
      'detections_per_account',
    ]);
    for (const section of report) {
      const params = { since: toParam(since), min_networks: 3 };
      const q = query(`security_${section.section}`);
      const direct = await runCookbookQuery(
        ch.client,
        q,
        Object.fromEntries(q.parameters.map((p) => [p.name, params[p.name as keyof typeof params]])),
      );
      // days_idle is relative to the wall clock; everything else must match exactly.
      const stable = (rows: Record<string, unknown>[]) => rows.map(({ days_idle: _, ...rest }) => rest);
      expect(stable(section.rows), section.section).toEqual(stable(direct));
    }
    const unscoped = report.find((s) => s.section === 'unscoped_keys');
    expect(unscoped?.rows.map((r) => r['key_id'])).toContain('key_sec_unscoped');
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
