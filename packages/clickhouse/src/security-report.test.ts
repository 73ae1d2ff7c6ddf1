import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { ClickhouseAdapterError } from './errors.ts';
import { defaultQueriesDir, loadCookbook } from './queries.ts';
import { dateTimeParam, securityReport, securityReportSections } from './security-report.ts';

interface Call {
  query: string;
  query_params: Record<string, unknown>;
  clickhouse_settings: Record<string, unknown>;
}

/** Records every query and answers each with one row naming the SQL's first comment line. */
function recordingClient(): { client: ClickHouseClient; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    query: async (args: Call) => {
      calls.push(args);
      return { json: async () => [{ first_line: args.query.split('\n')[0] }] };
    },
  } as unknown as ClickHouseClient;
  return { client, calls };
}

const nowMs = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('securityReport', () => {
  it('runs every security_* cookbook query once, in report order, one section each', async () => {
    const { client, calls } = recordingClient();
    const report = await securityReport(client, { sinceDays: 30, nowMs });
    const securityQueries = loadCookbook()
      .map((q) => q.name)
      .filter((name) => name.startsWith('security_'));
    expect(
      securityReportSections.map((s) => s.query).sort(),
      'every security_*.sql file is a section',
    ).toEqual(securityQueries);
    expect(report.map((s) => s.section)).toEqual([
      'unused_keys',
      'unscoped_keys',
      'keys_many_networks',
      'third_party_keys',
      'logins_without_mfa',
      'mfa_disabled',
      'detections_per_account',
    ]);
    expect(calls).toHaveLength(7);
    for (const section of report) {
      expect(section.title.length, `${section.section} has a title`).toBeGreaterThan(10);
      expect(section.rows).toHaveLength(1);
    }
  });

  it('passes since = now minus sinceDays, and min_networks only to the query that declares it', async () => {
    const { client, calls } = recordingClient();
    await securityReport({ client }, { sinceDays: 7, nowMs, minNetworks: 5 });
    const since = dateTimeParam(nowMs - 7 * 86_400_000);
    expect(since).toBe('2026-11-23 12:00:00.000');
    for (const call of calls) {
      expect(call.query_params['since'], call.query.split('\n')[0]).toBe(since);
      const declaresMinNetworks = call.query.includes('@param min_networks');
      expect(call.query_params['min_networks']).toBe(declaresMinNetworks ? 5 : undefined);
    }
    expect(calls.filter((c) => c.query_params['min_networks'] === 5)).toHaveLength(1);
  });

  it('runs each query read-only with a time and row limit', async () => {
    const { client, calls } = recordingClient();
    await securityReport(client, { sinceDays: 30, nowMs });
    for (const call of calls) {
      expect(call.clickhouse_settings['readonly']).toBe('2');
      expect(call.clickhouse_settings['max_execution_time']).toBeGreaterThan(0);
      expect(call.clickhouse_settings['max_result_rows']).toBeDefined();
    }
  });

  it('rejects a period that is not a positive number of days, before querying', async () => {
    const { client, calls } = recordingClient();
    await expect(securityReport(client, { sinceDays: 0, nowMs })).rejects.toThrow(RangeError);
    await expect(securityReport(client, { sinceDays: Number.NaN, nowMs })).rejects.toThrow(RangeError);
    await expect(securityReport(client, { sinceDays: 30, nowMs, minNetworks: 0 })).rejects.toThrow(
      RangeError,
    );
    expect(calls).toHaveLength(0);
  });

  it('fails with CLICKHOUSE_QUERY_NOT_FOUND when a section query file is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floodgate-security-report-'));
    try {
      for (const q of loadCookbook(defaultQueriesDir).filter((q) => q.name !== 'security_mfa_disabled'))
        writeFileSync(join(dir, `${q.name}.sql`), q.sql);
      const { client } = recordingClient();
      const failure = await securityReport(client, { sinceDays: 30, nowMs, queriesDir: dir }).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ClickhouseAdapterError);
      expect((failure as ClickhouseAdapterError).code).toBe('CLICKHOUSE_QUERY_NOT_FOUND');
      expect((failure as Error).message).toContain('security_mfa_disabled.sql');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
