import { describe, expect, it } from 'vitest';
import { loadIngestConfig } from './config.ts';

describe('ingest configuration', () => {
  it('reads the fetch and worker settings from the environment', () => {
    const config = loadIngestConfig({
      env: {
        INGEST_FETCH_MIN_BYTES: '1048576',
        INGEST_FETCH_MAX_WAIT_MS: '250',
        INGEST_NORMALIZE_WORKERS: '2',
      },
    });
    expect(config).toMatchObject({ fetchMinBytes: 1_048_576, fetchMaxWaitMs: 250, normalizeWorkers: 2 });
  });

  it('keeps the latency-first defaults: answer a fetch with any bytes, no worker named', () => {
    const config = loadIngestConfig({ env: {} });
    expect(config.fetchMinBytes).toBe(1);
    expect(config.fetchMaxWaitMs).toBe(1_000);
    expect(config.normalizeWorkers).toBeUndefined();
  });

  it('names every wrong setting at once', () => {
    let message = '';
    try {
      loadIngestConfig({
        env: {
          INGEST_FETCH_MIN_BYTES: '0',
          INGEST_FETCH_MAX_WAIT_MS: 'soon',
          INGEST_NORMALIZE_WORKERS: '-1',
        },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['INGEST_FETCH_MIN_BYTES', 'INGEST_FETCH_MAX_WAIT_MS', 'INGEST_NORMALIZE_WORKERS'])
      expect(message).toContain(name);
  });
});
