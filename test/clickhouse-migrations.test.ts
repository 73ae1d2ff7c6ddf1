import {
  defaultMigrationsDir,
  loadMigrations,
  migrate,
  runMigrations,
  tableTtls,
} from '@floodgate/clickhouse';
import { exampleEvents, parseEvent } from '@floodgate/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';

describe('ClickHouse migrations and queries on the real engine', () => {
  let ch: TestClickhouse;

  beforeAll(async () => {
    ch = await openTestClickhouse('migrations');
  });
  afterAll(async () => {
    await ch?.dispose();
  });

  it('records each migration once, and a second run applies nothing', async () => {
    const again = await runMigrations(
      ch.client,
      loadMigrations(defaultMigrationsDir, { retention_days: 90 }),
    );
    expect(again.applied).toEqual([]);
    expect(again.skipped).toContain('0001_raw_events');
    const rows = await (
      await ch.client.query({
        query: 'SELECT version, name FROM schema_migrations FINAL ORDER BY version',
        format: 'JSONEachRow',
      })
    ).json<{ version: number; name: string }>();
    expect(rows.map((r) => r.name)).toContain('raw_events');
  });

  it('creates the raw tables with UTC millisecond event time, LowCardinality dimensions and a TTL', async () => {
    const rows = await (
      await ch.client.query({
        query: `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'messages_outbound'`,
        format: 'JSONEachRow',
      })
    ).json<{ name: string; type: string }>();
    const types = Object.fromEntries(rows.map((r) => [r.name, r.type]));
    expect(types['event_time']).toBe("DateTime64(3, 'UTC')");
    expect(types['account_id']).toBe('LowCardinality(String)');
    const [table] = await (
      await ch.client.query({
        query: `SELECT create_table_query AS ddl, sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'messages_outbound'`,
        format: 'JSONEachRow',
      })
    ).json<{ ddl: string; sorting_key: string }>();
    expect(table?.ddl).toMatch(/TTL .*toIntervalDay\(90\)/);
    expect(table?.sorting_key).toBe('account_id, event_time, event_id');
  });

  it('stores parsed events and reads them back with a parameterized query', async () => {
    const parsed = parseEvent(exampleEvents['message.outbound']);
    if (!parsed.ok || parsed.value.type !== 'message.outbound') throw new Error('example must parse');
    const event = parsed.value;
    const rows = Array.from({ length: 100 }, (_, i) => ({
      event_id: `${event.eventId}-${i}`,
      event_time: event.eventTime + i * 1000,
      account_id: i % 2 === 0 ? event.accountId : 'acct_other',
      api_key_id: event.apiKeyId,
      sender: event.from,
      recipient_hash: `h${i}`,
      recipient_country: 'US',
      recipient_prefix: '+141555',
      recipient_type: 'mobile',
      channel: event.channel,
      segments: 1,
    }));
    await ch.client.insert({ table: 'messages_outbound', values: rows, format: 'JSONEachRow' });
    const result = await (
      await ch.client.query({
        query: `SELECT count() AS n, min(event_time) AS first
                FROM messages_outbound
                WHERE account_id = {account:String} AND event_time >= {from:DateTime64(3, 'UTC')}`,
        query_params: {
          account: event.accountId,
          from: new Date(event.eventTime).toISOString().replace('T', ' ').replace('Z', ''),
        },
        format: 'JSONEachRow',
      })
    ).json<{ n: string | number; first: string }>();
    expect(Number(result[0]?.n)).toBe(50);
    expect(result[0]?.first).toBe('2026-11-25 14:03:12.345');
  });

  it('drops a re-sent batch with the same insert deduplication token, and scopes the token to that insert', async () => {
    const row = (id: string) => ({
      event_id: id,
      event_time: Date.UTC(2026, 10, 25, 12),
      account_id: 'acct_dedup',
      api_key_id: 'k',
      sender: 'ACME',
      recipient_hash: 'h',
      recipient_country: 'US',
      recipient_prefix: '+1415',
      recipient_type: 'mobile',
      channel: 'sms',
    });
    const token = { insert_deduplication_token: 'messages.outbound-0-100-199' };
    await ch.client.insert({
      table: 'messages_outbound',
      values: [row('a'), row('b')],
      format: 'JSONEachRow',
      clickhouse_settings: token,
    });
    await ch.client.insert({
      table: 'messages_outbound',
      values: [row('a'), row('b')],
      format: 'JSONEachRow',
      clickhouse_settings: token,
    });
    // A later insert without a token must not inherit the previous one.
    await ch.client.insert({ table: 'messages_outbound', values: [row('c')], format: 'JSONEachRow' });
    const [count] = await (
      await ch.client.query({
        query: `SELECT count() AS n FROM messages_outbound WHERE account_id = 'acct_dedup'`,
        format: 'JSONEachRow',
      })
    ).json<{ n: string | number }>();
    expect(Number(count?.n)).toBe(3);
  });

  it('rejects writes in read-only mode, and the restriction does not leak to later queries', async () => {
    await expect(
      ch.client.command({ query: 'DROP TABLE messages_outbound', clickhouse_settings: { readonly: '1' } }),
    ).rejects.toThrow(/readonly/i);
    await ch.client.command({
      query: 'CREATE TABLE IF NOT EXISTS scratch_after_readonly (x UInt8) ENGINE = Memory',
    });
    await ch.client.command({ query: 'DROP TABLE scratch_after_readonly' });
  });

  it('applies a changed CLICKHOUSE_RETENTION_DAYS only from migrate, shortening only when confirmed', async () => {
    const ddl = async (table: string) =>
      (
        await (
          await ch.client.query({
            query:
              'SELECT create_table_query AS ddl FROM system.tables WHERE database = currentDatabase() AND name = {table:String}',
            query_params: { table },
            format: 'JSONEachRow',
          })
        ).json<{ ddl: string }>()
      )[0]?.ddl ?? '';
    const withTtl = [...tableTtls(loadMigrations(defaultMigrationsDir, { retention_days: 30 })).keys()];
    expect(withTtl).toContain('messages_outbound');
    expect(withTtl).toContain('detections');
    expect(withTtl, 'the table 0007 swapped out and dropped').not.toContain('detections_by_id');

    const fresh = await migrate(ch, { retentionDays: 90 });
    expect(fresh.retention.differing, 'tables made with the configured retention').toEqual([]);

    // A service (no applyRetention) started with another value only reports it.
    const service = await migrate(ch, { retentionDays: 30 });
    expect(service.retention.altered).toEqual([]);
    expect(service.retention.differing).toContainEqual({ table: 'messages_outbound', days: 90 });
    expect(await ddl('messages_outbound')).toMatch(/TTL .*toIntervalDay\(90\)/);

    // Shortening deletes rows: refused without confirmation, and nothing is altered.
    await expect(migrate(ch, { retentionDays: 30 }, undefined, { applyRetention: true })).rejects.toThrow(
      /would shorten the retention of .*messages_outbound \(90 days\)/,
    );
    expect(await ddl('messages_outbound')).toMatch(/TTL .*toIntervalDay\(90\)/);

    const shortened = await migrate(ch, { retentionDays: 30 }, undefined, {
      applyRetention: true,
      allowShorterRetention: true,
    });
    expect(shortened.applied).toEqual([]);
    expect(shortened.retention.altered).toContain('messages_outbound');
    expect(shortened.retention.altered).toContain('traffic_minute');
    expect(shortened.retention.altered).toContain('detections');
    expect(await ddl('messages_outbound')).toMatch(/TTL .*toIntervalDay\(30\)/);
    // Audit events and detections keep at least 400 days.
    expect(await ddl('detections')).toMatch(/TTL .*greatest\(30, 400\)/);
    const again = await migrate(ch, { retentionDays: 30 }, undefined, { applyRetention: true });
    expect(again.retention.altered, 'an unchanged retention alters nothing').toEqual([]);

    // Lengthening needs no confirmation.
    const longer = await migrate(ch, { retentionDays: 120 }, undefined, { applyRetention: true });
    expect(longer.retention.altered).toContain('messages_outbound');
    expect(await ddl('messages_outbound')).toMatch(/TTL .*toIntervalDay\(120\)/);
  });
});
