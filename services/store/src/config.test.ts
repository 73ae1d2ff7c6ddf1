import { ConfigError } from '@floodgate/config';
import { describe, expect, it } from 'vitest';
import { loadStoreConfig } from './config.ts';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadStoreConfig({ env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
};

describe('store config', () => {
  it('defaults to loopback port 8123 and the embedded data directory', () => {
    const config = loadStoreConfig({ env: {} });
    expect(config.listen).toBe('127.0.0.1:8123');
    expect(config.clickhouse.dataPath).toBe('.data/clickhouse');
    expect(config.maxBodyMiB).toBe(256);
  });

  it('refuses a ClickHouse URL: the store is the engine', () => {
    expect(problemsOf({ CLICKHOUSE_URL: 'http://127.0.0.1:8123' })).toEqual([
      expect.stringMatching(/^clickhouse\.url: the store serves the embedded engine/),
    ]);
  });

  it('refuses to listen beyond loopback without a password', () => {
    expect(problemsOf({ STORE_LISTEN: '0.0.0.0:8123', STORE_MAX_BODY_MIB: '0' })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^maxBodyMiB: /)]),
    );
    expect(problemsOf({ STORE_LISTEN: '0.0.0.0:8123' })).toEqual([
      expect.stringMatching(
        /^clickhouse\.password: listening on 0\.0\.0\.0:8123 \(not loopback\) needs a password/,
      ),
    ]);
    expect(problemsOf({ STORE_LISTEN: '0.0.0.0:8123', CLICKHOUSE_PASSWORD: 'x' })).toEqual([]);
    expect(problemsOf({ STORE_LISTEN: '[::1]:8123' })).toEqual([]);
  });
});
