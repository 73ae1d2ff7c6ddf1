import { sampleErrorCodeCategories } from '@floodgate/detect';
import { simulate } from '@floodgate/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { type PrepareOptions, prepareRecord } from './prepare.ts';
import { defaultPrepareWorkers, PreparePool } from './prepare-pool.ts';

const options: PrepareOptions = {
  normalize: {
    hmacKey: 'pool-test-hmac-key-01',
    prefixDigits: 6,
    errorCodeCategories: sampleErrorCodeCategories,
  },
  bodyStorage: 'masked',
};

/** Simulator events as record values, with an invalid, an empty, a non-JSON and a missing one among them. */
function records(): { values: (Uint8Array | null)[]; sources: string[] } {
  const { events } = simulate({
    seed: 3,
    startMs: Date.UTC(2026, 9, 1),
    durationMs: 3_600_000,
    accounts: 20,
    scenarios: [],
  });
  const values: (Uint8Array | null)[] = events.slice(0, 400).map((e) => Buffer.from(JSON.stringify(e)));
  values.splice(10, 0, Buffer.from(JSON.stringify({ type: 'message.outbound', schemaVersion: 1 })));
  values.splice(20, 0, null);
  values.splice(30, 0, Buffer.from('{not json'));
  values.splice(40, 0, new Uint8Array(0));
  return { values, sources: values.map((_, i) => `t/0@${i}`) };
}

describe('PreparePool (worker threads)', () => {
  let pool: PreparePool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('gives exactly what prepareRecord gives on the main thread, record for record, across workers', async () => {
    const { values, sources } = records();
    const inline = values.map((value, i) => prepareRecord(value, sources[i] as string, options));
    pool = new PreparePool(2, options);
    // Several batches at once, so both workers take some.
    const batches = [0, 100, 200, 300].map((start) =>
      pool?.prepare(values.slice(start, start + 100), sources.slice(start, start + 100)),
    );
    const pooled = (await Promise.all(batches)).flatMap((b) => b ?? []);
    const rest = await pool.prepare(values.slice(400), sources.slice(400));
    expect([...pooled, ...rest]).toEqual(inline);
    const kinds = inline.map((p) => p.kind);
    expect(kinds.filter((k) => k === 'ok').length).toBeGreaterThan(390);
    expect(kinds.filter((k) => k === 'invalid')).toHaveLength(4);
  });

  it('fails the batches of a worker that dies, replaces it, and prepares the next batch', async () => {
    const failures: Error[] = [];
    pool = new PreparePool(1, options, {
      workerUrl: new URL('./prepare-pool.fixture-worker.ts', import.meta.url),
      onWorkerFailure: (error) => failures.push(error),
    });
    const { values, sources } = records();
    await expect(pool.prepare([values[0] as Uint8Array], ['crash'])).rejects.toThrow(/exited with code 3/);
    expect(failures).toHaveLength(1);
    const after = await pool.prepare(values.slice(0, 5), sources.slice(0, 5));
    expect(after.map((p) => p.kind)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(after).toEqual(values.slice(0, 5).map((v, i) => prepareRecord(v, sources[i] as string, options)));
  });

  it('refuses work once closed', async () => {
    pool = new PreparePool(1, options);
    await pool.close();
    await expect(pool.prepare([], [])).rejects.toThrow(/closed/);
  });

  it('uses no workers on 2 cores, one fewer than the cores above that, at most 4', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultPrepareWorkers(cores))).toEqual([0, 0, 2, 3, 4, 4]);
  });
});
