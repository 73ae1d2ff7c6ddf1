/**
 * The periodic credential audit (`floodgate report security`): the `security_*` cookbook queries run
 * in a fixed order through the same read-only path as every cookbook query, one section each. The
 * period is `sinceDays` back from `nowMs`; keys idle for the whole period count as unused.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { ClickhouseAdapterError } from './errors.ts';
import { type CookbookQuery, defaultQueriesDir, loadCookbook, runCookbookQuery } from './queries.ts';

export interface SecurityReportSection {
  /** Stable id: the query name without its `security_` prefix. */
  section: string;
  title: string;
  rows: Record<string, unknown>[];
}

export interface SecurityReportOptions {
  /** Length of the audit period in days (e.g. 30). */
  sinceDays: number;
  /** End of the period; defaults to the current time. */
  nowMs?: number;
  /** A key is listed as used from many networks from this many distinct /24 (IPv6 /48) on. */
  minNetworks?: number;
  queriesDir?: string;
}

/** The sections in report order: query name (infra/clickhouse/queries/<name>.sql) and title. */
export const securityReportSections = [
  { query: 'security_unused_keys', title: 'API keys unused during the period (or never)' },
  { query: 'security_unscoped_keys', title: 'API keys without a network or country scope' },
  { query: 'security_keys_many_networks', title: 'API keys seen from many source networks' },
  { query: 'security_third_party_keys', title: 'API keys shared with third parties and their traffic' },
  { query: 'security_logins_without_mfa', title: 'Console logins without MFA' },
  { query: 'security_mfa_disabled', title: 'Users whose MFA is disabled' },
  { query: 'security_detections_per_account', title: 'Detections per account' },
] as const;

export const defaultMinNetworks = 3;

const DAY_MS = 86_400_000;

/** A DateTime64(3, 'UTC') query parameter: `2026-10-21 04:00:00.000`. */
export function dateTimeParam(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export interface SecurityReportStep {
  section: string;
  title: string;
  query: CookbookQuery;
  params: Record<string, unknown>;
}

/**
 * Which query each section runs and with which parameters (each file declares the ones it takes).
 * `securityReport` runs them on a client; the CLI runs them wherever ClickHouse is reachable.
 */
export function securityReportPlan(options: SecurityReportOptions): SecurityReportStep[] {
  const { sinceDays } = options;
  if (!Number.isFinite(sinceDays) || sinceDays <= 0)
    throw new RangeError(`sinceDays must be a positive number of days, got ${sinceDays}`);
  const minNetworks = options.minNetworks ?? defaultMinNetworks;
  if (!Number.isInteger(minNetworks) || minNetworks < 1)
    throw new RangeError(`minNetworks must be a positive integer, got ${minNetworks}`);
  const since = dateTimeParam((options.nowMs ?? Date.now()) - sinceDays * DAY_MS);
  const cookbook = new Map<string, CookbookQuery>(
    loadCookbook(options.queriesDir ?? defaultQueriesDir).map((q) => [q.name, q]),
  );
  const candidates: Record<string, unknown> = { since, min_networks: minNetworks };
  return securityReportSections.map(({ query: name, title }) => {
    const query = cookbook.get(name);
    if (!query)
      throw new ClickhouseAdapterError(
        'CLICKHOUSE_QUERY_NOT_FOUND',
        `security report: no ${name}.sql in ${options.queriesDir ?? defaultQueriesDir}`,
      );
    const params = Object.fromEntries(
      query.parameters.filter((p) => p.name in candidates).map((p) => [p.name, candidates[p.name]]),
    );
    return { section: name.replace(/^security_/, ''), title, query, params };
  });
}

export async function securityReport(
  clickhouse: ClickHouseClient | { client: ClickHouseClient },
  options: SecurityReportOptions,
): Promise<SecurityReportSection[]> {
  const client = 'query' in clickhouse ? clickhouse : clickhouse.client;
  const sections: SecurityReportSection[] = [];
  for (const { section, title, query, params } of securityReportPlan(options))
    sections.push({ section, title, rows: await runCookbookQuery(client, query, params) });
  return sections;
}
