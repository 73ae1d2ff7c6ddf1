import { describe, expect, it } from 'vitest';
import { type Migration, tableTtls, ttlDays } from './migrations.ts';

const migration = (version: number, statements: string[]): Migration => ({
  version,
  name: `m${version}`,
  statements,
  checksum: '',
});

describe('retention bookkeeping', () => {
  it('follows tables through creation, EXCHANGE and DROP, and skips views and tables without a TTL', () => {
    const ttls = tableTtls([
      migration(1, [
        'CREATE TABLE IF NOT EXISTS raw (t DateTime)\nENGINE = MergeTree ORDER BY t\nTTL t + INTERVAL 90 DAY DELETE\nSETTINGS index_granularity = 8192',
        'CREATE TABLE IF NOT EXISTS plain (t DateTime) ENGINE = MergeTree ORDER BY t',
        'CREATE MATERIALIZED VIEW IF NOT EXISTS raw_mv TO plain AS SELECT t FROM raw',
        'CREATE TABLE IF NOT EXISTS old (t DateTime)\nENGINE = MergeTree ORDER BY t\n  TTL t\n    + INTERVAL greatest(90, 400) DAY DELETE',
      ]),
      migration(2, [
        'CREATE TABLE IF NOT EXISTS old_v2 (t DateTime, id String)\nENGINE = MergeTree ORDER BY id\nTTL t + INTERVAL greatest(90, 400) DAY DELETE',
        'EXCHANGE TABLES old AND old_v2',
        'DROP TABLE old_v2',
      ]),
    ]);
    expect([...ttls]).toEqual([
      ['raw', 't + INTERVAL 90 DAY DELETE'],
      ['old', 't + INTERVAL greatest(90, 400) DAY DELETE'],
    ]);
  });

  it('reads the days of a TTL as ClickHouse shows it', () => {
    expect(
      ttlDays(
        'CREATE TABLE x (t DateTime) ENGINE = MergeTree ORDER BY t TTL t + toIntervalDay(90) SETTINGS a = 1',
      ),
    ).toBe(90);
    expect(ttlDays('CREATE TABLE x ... TTL toDateTime(at) + toIntervalDay(greatest(30, 400))')).toBe(30);
    expect(ttlDays('CREATE TABLE x (t DateTime) ENGINE = MergeTree ORDER BY t')).toBeNull();
  });
});
