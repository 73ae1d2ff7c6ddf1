import { describe, expect, it } from 'vitest';
import { loadIngestConfig } from './config.ts';

describe('ingest configuration', () => {
  it('reads the fetch and worker settings from the environment', () => {
    const config = loadIngestConfig({
      env: {
        INGEST_FETCH_MIN_BYTES: '1048576',
        INGEST_FETCH_MAX_WAIT_MS: '250',
        INGEST_NORMALIZE_WORKERS: '2',
        INGEST_STORE_LINGER_MS: '0',
        INGEST_STORE_BUFFER_ROWS: '20000',
      },
    });
    expect(config).toMatchObject({
      fetchMinBytes: 1_048_576,
      fetchMaxWaitMs: 250,
      normalizeWorkers: 2,
      storeLingerMs: 0,
      storeBufferRows: 20_000,
    });
  });

  it('keeps the latency-first fetch defaults (answer with any bytes), no worker named, rows stored once a second', () => {
    const config = loadIngestConfig({ env: {} });
    expect(config.fetchMinBytes).toBe(1);
    expect(config.fetchMaxWaitMs).toBe(1_000);
    expect(config.normalizeWorkers).toBeUndefined();
    expect(config.storeLingerMs).toBe(1_000);
    expect(config.storeBufferRows).toBe(10_000);
  });

  it('names every wrong setting at once', () => {
    let message = '';
    try {
      loadIngestConfig({
        env: {
          INGEST_FETCH_MIN_BYTES: '0',
          INGEST_FETCH_MAX_WAIT_MS: 'soon',
          INGEST_NORMALIZE_WORKERS: '-1',
          INGEST_STORE_LINGER_MS: '600000',
          INGEST_STORE_BUFFER_ROWS: '10',
        },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of [
      'INGEST_FETCH_MIN_BYTES',
      'INGEST_FETCH_MAX_WAIT_MS',
      'INGEST_NORMALIZE_WORKERS',
      'INGEST_STORE_LINGER_MS',
      'INGEST_STORE_BUFFER_ROWS',
    ])
      expect(message).toContain(name);
  });
});
