/**
 * What each console page shows, read from ClickHouse with bounded, read-only queries: the minute
 * rollups (traffic_minute, replies_minute, status_minute) for charts, `detections` for evidence,
 * the alerter's tables for incidents, notifications and actions, `accounts_audit` and `api_keys`.
 * Plain data out; rendering is html.ts's job.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { runReadOnlyQuery } from '@floodgate/clickhouse';
import type { CountItem, Evidence } from '@floodgate/detect';
import { robustBand } from './baseline.ts';
import {
  actionState,
  FILTERED_INCIDENTS,
  INCIDENT_ACTIONS,
  INCIDENT_NOTIFICATIONS,
  INCIDENT_STATE,
  INCIDENT_TRANSITIONS,
  LATEST_INCIDENTS,
} from './queries.ts';

export type Privacy = 'masked' | 'full';
type Row = Record<string, unknown>;

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** The incident chart: 2 h before the incident to its end (or now), at most this long. */
const MAX_INCIDENT_SPAN_MS = 26 * HOUR;

/** The incident as the alerter stores it (the JSON in `alerts.incident`): what the console and `floodgate incidents show` read. */
export interface StoredIncident {
  id: string;
  rule: string;
  ruleType: string;
  state: 'pending' | 'firing' | 'resolved';
  severity: string;
  mode: string;
  summary: string;
  labels: Record<string, string>;
  kinds: string[];
  detections: number;
  silencedBy: string;
  acknowledgedBy?: string;
  acknowledgedAtMs?: number | null;
  acknowledgedNote?: string;
  resolvedBy?: string;
  appliedActionIds?: string[];
  recentDetectionIds?: string[];
  openedAtMs: number;
  firedAtMs: number | null;
  lastMatchAtMs: number;
  resolvedAtMs: number | null;
  containment: {
    action: string;
    mode: string;
    receiver: string;
    active: boolean;
    appliedAtMs: number;
    expiresAtMs: number;
  } | null;
  evidence: {
    reason: string;
    topTemplates: { sample: string; count: number; isNew?: boolean }[];
    topCountries: CountItem[];
    apiKeys: CountItem[];
    linkDomains: CountItem[];
    counts: Record<string, number>;
    values: Record<string, string | number>;
  };
}

export interface DetectionView {
  id: string;
  kind: string;
  key: string;
  severity: string;
  windowStartMs: number;
  windowEndMs: number;
  detectedAtMs: number;
  observed: number;
  expected: number;
  score: number;
  reason: string;
  messagesBeforeDetection: number;
  estimatedCostUsd: number;
  /** The engine's evidence (older rows may lack fields; they are filled with empty values). */
  evidence: Omit<Evidence, 'reason' | 'estimatedCostUsd' | 'messagesBeforeDetection' | 'detectorVersion'>;
}

/** A per-minute (or per-bucket) series: x in seconds (what uPlot takes), values aligned to it. */
export interface Timeline {
  stepMs: number;
  x: number[];
  messages: number[];
  baselineLow: (number | null)[];
  baselineMid: (number | null)[];
  baselineHigh: (number | null)[];
  /** Opt-outs per outbound message in the bucket, %. */
  optOutPct: (number | null)[];
  /** Failed, undelivered or filtered share of final statuses, %. */
  failurePct: (number | null)[];
  /** Detections as markers: where they fired and what they were. */
  markers: { x: number; kind: string; severity: string; observed: number; expected: number }[];
  baselineNote: string;
}

export interface IncidentView {
  incident: StoredIncident;
  account: string;
  chart: Timeline;
  detections: DetectionView[];
  transitions: Row[];
  notifications: Row[];
  actions: (Row & { applied: string })[];
  auditEvents: Row[];
  /** Stored sample bodies per fingerprint (privacy mode `full` only; as ingest stored them). */
  storedBodies: Record<string, string[]>;
  messagesInvolved: number;
  costAtRiskUsd: number;
  messagesBeforeDetection: number;
  /** How long the queries took, for the page footer and the benchmark. */
  queryMs: number;
}

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
const sec = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export class ConsoleData {
  private readonly client: ClickHouseClient;
  readonly privacy: Privacy;

  constructor(client: ClickHouseClient, privacy: Privacy = 'masked') {
    this.client = client;
    this.privacy = privacy;
  }

  private async rows(sql: string, params: Record<string, unknown> = {}, maxRows = 10_000): Promise<Row[]> {
    return (await runReadOnlyQuery(this.client, sql, params, maxRows)).rows;
  }

  async incidents(filters: {
    state: 'open' | 'resolved' | 'all';
    severities: string[];
    kinds: string[];
    account: string;
    limit: number;
    offset: number;
    nowMs: number;
  }): Promise<(Row & { messages: number; costUsd: number; notified: string })[]> {
    const rows = await this.rows(
      `SELECT i.*, toFloat64(toUnixTimestamp64Milli(opened_at)) AS opened_ms,
              toFloat64(ifNull(toUnixTimestamp64Milli(resolved_at), 0)) AS resolved_ms,
              JSONExtractFloat(s.incident, 'evidence', 'counts', 'estimated_cost_usd') AS cost_usd
         FROM (${FILTERED_INCIDENTS}) AS i
         LEFT JOIN (SELECT id, argMax(incident, version) AS incident FROM alerts GROUP BY id) AS s ON s.id = i.id
         ORDER BY opened_at DESC, id`,
      { ...filters, sinceMs: 0, fromMs: 0 },
    );
    if (rows.length === 0) return [];
    const ids = rows.map((r) => String(r['id']));
    const [notes, traffic] = await Promise.all([
      this.rows(
        `SELECT incident_id, status, count() AS n FROM (
           SELECT incident_id, id, argMax(status, version) AS status FROM alert_notifications
            WHERE incident_id IN {ids:Array(String)} GROUP BY incident_id, id)
         GROUP BY incident_id, status`,
        { ids },
      ),
      // Messages the account sent while the incident was open (from 5 min before it opened).
      this.rows(
        `SELECT account_id, toUInt32(minute) AS t, sum(messages) AS messages FROM traffic_minute
          WHERE account_id IN {accounts:Array(String)} AND minute >= toDateTime({fromS:UInt32}, 'UTC')
          GROUP BY account_id, minute`,
        {
          accounts: [...new Set(rows.map((r) => String(r['account'])))],
          fromS: Math.floor((Math.min(...rows.map((r) => num(r['opened_ms']))) - 5 * MINUTE) / 1000),
        },
        200_000,
      ),
    ]);
    const trafficByAccount = new Map<string, { t: number; messages: number }[]>();
    for (const t of traffic) {
      const list = trafficByAccount.get(String(t['account_id'])) ?? [];
      list.push({ t: num(t['t']), messages: num(t['messages']) });
      trafficByAccount.set(String(t['account_id']), list);
    }
    const notified = new Map<string, string[]>();
    for (const n of notes) {
      const list = notified.get(String(n['incident_id'])) ?? [];
      list.push(`${num(n['n'])} ${String(n['status'])}`);
      notified.set(String(n['incident_id']), list);
    }
    return rows.map((r) => {
      const fromS = (num(r['opened_ms']) - 5 * MINUTE) / 1000;
      const toS = (num(r['resolved_ms']) || filters.nowMs) / 1000;
      let messages = 0;
      for (const t of trafficByAccount.get(String(r['account'])) ?? [])
        if (t.t >= fromS && t.t <= toS) messages += t.messages;
      return {
        ...r,
        messages,
        costUsd: num(r['cost_usd']),
        notified: (notified.get(String(r['id'])) ?? []).sort().join(', ') || 'none',
      };
    });
  }

  /** Open incidents (pending or firing), in all and critical. */
  async openCounts(): Promise<{ total: number; critical: number }> {
    const rows = await this.rows(
      `SELECT count() AS total, countIf(severity = 'critical') AS critical
         FROM (${LATEST_INCIDENTS}) WHERE state != 'resolved'`,
    );
    return { total: num(rows[0]?.['total']), critical: num(rows[0]?.['critical']) };
  }

  async incidentIdsStartingWith(prefix: string): Promise<string[]> {
    const rows = await this.rows(
      'SELECT DISTINCT id FROM alerts WHERE startsWith(id, {prefix:String}) ORDER BY id LIMIT 2',
      { prefix },
    );
    return rows.map((r) => String(r['id']));
  }

  async incident(id: string, nowMs = Date.now()): Promise<IncidentView | null> {
    const started = performance.now();
    const stateRows = await this.rows(INCIDENT_STATE, { id });
    const json = stateRows[0]?.['incident'];
    if (typeof json !== 'string' || json === '') return null;
    const incident = JSON.parse(json) as StoredIncident;
    const account = incident.labels['account'] ?? '';
    const endMs = incident.resolvedAtMs ?? nowMs;
    const [detections, transitions, notifications, actions] = await Promise.all([
      account
        ? this.detections(
            account,
            incident.kinds,
            incident.recentDetectionIds ?? [],
            incident.openedAtMs - 15 * MINUTE,
            endMs,
          )
        : [],
      this.rows(INCIDENT_TRANSITIONS, { id }),
      this.rows(INCIDENT_NOTIFICATIONS, { id }),
      this.rows(INCIDENT_ACTIONS, { id }),
    ]);
    const anomalyStart = Math.min(
      incident.openedAtMs,
      ...detections.map((d) => d.evidence.anomalyStartMs || d.windowStartMs),
    );
    const fromMs = Math.floor((anomalyStart - 2 * HOUR) / MINUTE) * MINUTE;
    const toMs = Math.min(Math.ceil(endMs / MINUTE) * MINUTE, fromMs + MAX_INCIDENT_SPAN_MS);
    const [chart, auditEvents, storedBodies] = await Promise.all([
      account
        ? this.timeline(account, fromMs, toMs, MINUTE, anomalyStart, detections)
        : emptyTimeline(MINUTE),
      account
        ? this.rows(
            `SELECT toFloat64(toUnixTimestamp64Milli(event_time)) AS time_ms, action, actor, mfa_used,
                    source_ip, target_api_key_id AS api_key_id, user_agent
               FROM accounts_audit
              WHERE account_id = {account:String}
                AND event_time >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC')
                AND event_time <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
              ORDER BY event_time LIMIT 100`,
            { account, fromMs, toMs },
          )
        : [],
      this.privacy === 'full' && account ? this.storedBodies(account, detections, fromMs, toMs) : {},
    ]);
    const anomalyMinute = Math.floor(anomalyStart / MINUTE) * MINUTE;
    let messagesInvolved = 0;
    chart.x.forEach((x, i) => {
      if (x * 1000 >= anomalyMinute) messagesInvolved += chart.messages[i] ?? 0;
    });
    return {
      incident,
      account,
      chart,
      detections,
      transitions,
      notifications,
      actions: actions.map((a) => ({ ...a, applied: actionState(incident, String(a['id'])) })),
      auditEvents: this.privacy === 'full' ? auditEvents : auditEvents.map(maskAuditRow),
      storedBodies,
      messagesInvolved,
      costAtRiskUsd: detections.reduce((max, d) => Math.max(max, d.estimatedCostUsd), 0),
      messagesBeforeDetection: detections.reduce((max, d) => Math.max(max, d.messagesBeforeDetection), 0),
      queryMs: performance.now() - started,
    };
  }

  /**
   * The incident's detections: its kinds on its account from 15 min before it opened (or before
   * the earliest of its recent detections, whose event time is earlier when a backlog is replayed).
   */
  private async detections(
    account: string,
    kinds: string[],
    recentIds: string[],
    fromMs: number,
    toMs: number,
  ): Promise<DetectionView[]> {
    const rows = await this.rows(
      `SELECT id, kind, key, severity,
              toFloat64(toUnixTimestamp64Milli(window_start)) AS ws, toFloat64(toUnixTimestamp64Milli(window_end)) AS we,
              toFloat64(toUnixTimestamp64Milli(detected_at)) AS da, observed, expected, score, reason,
              toFloat64(messages_before_detection) AS mbd, estimated_cost_usd, evidence
         FROM detections FINAL
        WHERE account_id = {account:String}
          AND detected_at >= least(fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC'),
                (SELECT ifNull(min(detected_at), now64(3)) FROM detections
                  WHERE account_id = {account:String} AND id IN {recentIds:Array(String)}) - INTERVAL 15 MINUTE)
          AND detected_at <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
          AND (empty({kinds:Array(String)}) OR has({kinds:Array(String)}, kind))
        ORDER BY detected_at, id LIMIT 200`,
      { account, kinds, recentIds, fromMs, toMs },
    );
    return rows.map((r) => {
      const evidence = JSON.parse(String(r['evidence'] || '{}')) as Partial<DetectionView['evidence']>;
      return {
        id: String(r['id']),
        kind: String(r['kind']),
        key: String(r['key']),
        severity: String(r['severity']),
        windowStartMs: num(r['ws']),
        windowEndMs: num(r['we']),
        detectedAtMs: num(r['da']),
        observed: num(r['observed']),
        expected: num(r['expected']),
        score: num(r['score']),
        reason: String(r['reason']),
        messagesBeforeDetection: num(r['mbd']),
        estimatedCostUsd: num(r['estimated_cost_usd']),
        evidence: {
          topTemplates: evidence.topTemplates ?? [],
          topCountries: evidence.topCountries ?? [],
          topPrefixes: evidence.topPrefixes ?? [],
          distinctRecipients: evidence.distinctRecipients ?? 0,
          apiKeys: evidence.apiKeys ?? [],
          sourceIps:
            this.privacy === 'full'
              ? (evidence.sourceIps ?? [])
              : mergeCounts((evidence.sourceIps ?? []).map((s) => ({ ...s, value: networkOf(s.value) }))),
          userAgents: evidence.userAgents ?? [],
          linkDomains: evidence.linkDomains ?? [],
          auditEvents: evidence.auditEvents ?? [],
          anomalyStartMs: evidence.anomalyStartMs ?? 0,
          metrics: evidence.metrics ?? {},
          ...(evidence.accountIds ? { accountIds: evidence.accountIds } : {}),
        },
      };
    });
  }

  /** Stored bodies (at most 3 per template) of the templates in the evidence; privacy mode `full`. */
  private async storedBodies(
    account: string,
    detections: DetectionView[],
    fromMs: number,
    toMs: number,
  ): Promise<Record<string, string[]>> {
    const fingerprints = [
      ...new Set(detections.flatMap((d) => d.evidence.topTemplates.map((t) => t.fingerprint))),
    ].filter((f) => /^[0-9a-f]{1,16}$/i.test(f));
    if (fingerprints.length === 0) return {};
    const rows = await this.rows(
      `SELECT lower(hex(fingerprint)) AS fp, groupUniqArray(3)(body) AS bodies FROM messages_outbound
        WHERE account_id = {account:String}
          AND event_time >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC')
          AND event_time <= fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
          AND fingerprint IN {fps:Array(UInt64)} AND body != ''
        GROUP BY fingerprint LIMIT 50`,
      { account, fromMs, toMs, fps: fingerprints.map((f) => BigInt(`0x${f}`).toString()) },
    );
    const out: Record<string, string[]> = {};
    for (const r of rows) out[String(r['fp']).replace(/^0+(?=.)/, '')] = (r['bodies'] as string[]) ?? [];
    return out;
  }

  /**
   * Per-bucket traffic, opt-out rate and failure share of one account over [fromMs, toMs), with a
   * baseline band: before the anomaly, the median ± 3 scaled MADs of the trailing hour; from the
   * anomaly on it stays at its value just before it, so the attack does not drag "normal" up.
   */
  async timeline(
    account: string,
    fromMs: number,
    toMs: number,
    stepMs: number,
    anomalyStartMs: number | null,
    detections: DetectionView[] = [],
  ): Promise<Timeline> {
    const lookbackMs = fromMs - HOUR;
    const step = stepMs / 1000;
    const params = { account, fromS: Math.floor(lookbackMs / 1000), toS: Math.floor(toMs / 1000), step };
    const bucket = (column: string) =>
      `toUInt32(intDiv(toUInt32(${column}) - {fromS:UInt32}, {step:UInt32}) * {step:UInt32} + {fromS:UInt32})`;
    const range = `account_id = {account:String} AND minute >= toDateTime({fromS:UInt32}, 'UTC') AND minute < toDateTime({toS:UInt32}, 'UTC')`;
    const [traffic, replies, statuses] = await Promise.all([
      this.rows(
        `SELECT ${bucket('minute')} AS t, sum(messages) AS n FROM traffic_minute WHERE ${range} GROUP BY t`,
        params,
      ),
      this.rows(
        `SELECT ${bucket('minute')} AS t, sum(opt_outs) AS n FROM replies_minute WHERE ${range} GROUP BY t`,
        params,
      ),
      this.rows(
        `SELECT ${bucket('minute')} AS t, sum(failures) AS f, sum(final_statuses) AS n FROM status_minute WHERE ${range} GROUP BY t`,
        params,
      ),
    ]);
    const index = (rows: Row[], column: string) =>
      new Map(rows.map((r) => [num(r['t']), num(r[column])] as const));
    const sent = index(traffic, 'n');
    const optOuts = index(replies, 'n');
    const failures = index(statuses, 'f');
    const finals = index(statuses, 'n');
    const all: number[] = [];
    for (let t = lookbackMs; t < toMs; t += stepMs) all.push(sent.get(t / 1000) ?? 0);
    const lead = Math.round((fromMs - lookbackMs) / stepMs);
    const window = Math.max(6, Math.round(HOUR / stepMs));
    const freezeAt = anomalyStartMs === null ? null : Math.floor((anomalyStartMs - lookbackMs) / stepMs);
    const band = robustBand(all, window, freezeAt);
    const out = emptyTimeline(stepMs);
    for (let i = lead; i < all.length; i++) {
      const t = (lookbackMs + i * stepMs) / 1000;
      const messages = all[i] ?? 0;
      const statusCount = finals.get(t) ?? 0;
      out.x.push(t);
      out.messages.push(messages);
      out.baselineLow.push(band.low[i] ?? null);
      out.baselineMid.push(band.mid[i] ?? null);
      out.baselineHigh.push(band.high[i] ?? null);
      out.optOutPct.push(messages > 0 ? round2((100 * (optOuts.get(t) ?? 0)) / messages) : null);
      out.failurePct.push(statusCount > 0 ? round2((100 * (failures.get(t) ?? 0)) / statusCount) : null);
    }
    out.markers = detections.map((d) => ({
      x: Math.floor(d.detectedAtMs / stepMs) * (stepMs / 1000),
      kind: d.kind,
      severity: d.severity,
      observed: d.observed,
      expected: d.expected,
    }));
    out.baselineNote =
      anomalyStartMs === null
        ? 'baseline: median ± 3 scaled MAD of the trailing hour'
        : `baseline: median ± 3 scaled MAD of the trailing hour, held from the anomaly's start (${sec(anomalyStartMs)} UTC)`;
    return out;
  }

  async account(accountId: string, nowMs = Date.now()) {
    const started = performance.now();
    const toMs = Math.ceil(nowMs / (10 * MINUTE)) * 10 * MINUTE;
    const fromMs = toMs - 7 * 24 * HOUR;
    const [chart, keys, usage, incidents] = await Promise.all([
      this.timeline(accountId, fromMs, toMs, 10 * MINUTE, null),
      this.rows(
        `SELECT key_id, argMax(owner, updated_at) AS owner, argMax(third_party, updated_at) AS third_party,
                argMax(allowed_networks, updated_at) AS allowed_networks,
                argMax(allowed_countries, updated_at) AS allowed_countries, max(created_at) AS created_at
           FROM api_keys WHERE account_id = {account:String} GROUP BY key_id ORDER BY key_id LIMIT 200`,
        { account: accountId },
      ),
      this.rows(
        `SELECT api_key_id, count() AS messages, max(event_time) AS last_used,
                topK(5)(${this.privacy === 'full' ? 'source_ip' : "if(isIPv4String(source_ip), IPv4NumToString(bitAnd(toIPv4(source_ip), toIPv4('255.255.255.0'))) || '/24', if(source_ip = '', '', 'IPv6 ' || substring(source_ip, 1, 9) || '…'))"}) AS networks,
                uniqExact(source_ip) AS distinct_ips, groupUniqArray(5)(recipient_country) AS countries
           FROM messages_outbound
          WHERE account_id = {account:String} AND event_time >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC')
          GROUP BY api_key_id ORDER BY messages DESC LIMIT 200`,
        { account: accountId, fromMs },
      ),
      this.incidents({
        state: 'all',
        severities: [],
        kinds: [],
        account: accountId,
        limit: 50,
        offset: 0,
        nowMs,
      }),
    ]);
    return { accountId, chart, keys, usage, incidents, queryMs: performance.now() - started };
  }

  /** Events per minute (all kinds) and detections per kind over the last `hours`. */
  async overview(nowMs = Date.now(), hours = 3) {
    const started = performance.now();
    const toS = Math.ceil(nowMs / MINUTE) * 60;
    const fromS = toS - hours * 3600;
    const params = { fromS, toS };
    const range = "minute >= toDateTime({fromS:UInt32}, 'UTC') AND minute < toDateTime({toS:UInt32}, 'UTC')";
    const [outbound, inbound, statuses, detections] = await Promise.all([
      this.rows(
        `SELECT toUInt32(minute) AS t, sum(messages) AS n FROM traffic_minute WHERE ${range} GROUP BY t`,
        params,
      ),
      this.rows(
        `SELECT toUInt32(minute) AS t, sum(replies) AS n FROM replies_minute WHERE ${range} GROUP BY t`,
        params,
      ),
      this.rows(
        `SELECT toUInt32(minute) AS t, sum(final_statuses) AS n FROM status_minute WHERE ${range} GROUP BY t`,
        params,
      ),
      this.rows(
        `SELECT kind, severity, count() AS n, max(detected_at) AS last FROM detections FINAL
          WHERE detected_at >= toDateTime64({fromS:UInt32}, 3, 'UTC') GROUP BY kind, severity ORDER BY kind, severity`,
        params,
      ),
    ]);
    const sums = new Map<number, number>();
    for (const rows of [outbound, inbound, statuses])
      for (const r of rows) sums.set(num(r['t']), (sums.get(num(r['t'])) ?? 0) + num(r['n']));
    const x: number[] = [];
    const perSecond: number[] = [];
    for (let t = fromS; t < toS; t += 60) {
      x.push(t);
      perSecond.push(round2((sums.get(t) ?? 0) / 60));
    }
    return { x, perSecond, detections, hours, queryMs: performance.now() - started };
  }
}

function emptyTimeline(stepMs: number): Timeline {
  return {
    stepMs,
    x: [],
    messages: [],
    baselineLow: [],
    baselineMid: [],
    baselineHigh: [],
    optOutPct: [],
    failurePct: [],
    markers: [],
    baselineNote: '',
  };
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** '203.0.113.77' → '203.0.113.0/24'; IPv6 keeps its /48. Networks are what a responder blocks. */
export function networkOf(ip: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(':')) return `${ip.split(':').slice(0, 3).join(':')}::/48`;
  return ip;
}

function mergeCounts(items: CountItem[]): CountItem[] {
  const merged = new Map<string, CountItem>();
  for (const item of items) {
    const seen = merged.get(item.value);
    if (seen) {
      seen.count += item.count;
      seen.isNew = Boolean(seen.isNew || item.isNew);
    } else merged.set(item.value, { ...item });
  }
  return [...merged.values()].sort((a, b) => b.count - a.count);
}

function maskAuditRow(row: Row): Row {
  return { ...row, source_ip: networkOf(String(row['source_ip'] ?? '')) };
}
