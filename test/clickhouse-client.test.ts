/**
 * The client factory loads the embedded engine only for an embedded session: a service talking to a
 * ClickHouse server must not map chDB's ~540 MB library (~150 MiB of resident pages). Checked on the
 * built package (what production runs, and where tsc rewrites the lazy import's path) in a fresh
 * process, by looking for the library in /proc/self/maps. Closing an embedded session waits for
 * the engine's work in flight, so a process may exit right after it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from './setup/cli.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = pathToFileURL(join(ROOT, 'packages/clickhouse/dist/index.js')).href;

/** Runs `body` as an ES module in a new process and returns what it printed as JSON. */
function runModule(body: string): Promise<Record<string, unknown>> {
  const script = `
    import { readFileSync } from 'node:fs';
    import { createClickhouse } from ${JSON.stringify(DIST)};
    const chdbMapped = () => readFileSync('/proc/self/maps', 'utf8').includes('libchdb');
    ${body}`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string));
      },
    );
  });
}

describe('ClickHouse client factory', () => {
  let dataPath = '';
  beforeAll(() => {
    buildCli(); // builds packages/clickhouse/dist and what it depends on
    dataPath = mkdtempSync(join(tmpdir(), 'floodgate-client-'));
  });
  afterAll(() => rmSync(dataPath, { recursive: true, force: true }));

  it('does not load the embedded engine for a ClickHouse server', async () => {
    const result = await runModule(`
      const loadedAtImport = chdbMapped();
      let error = '';
      try {
        await createClickhouse({ url: 'http://127.0.0.1:9', database: 'floodgate', user: 'default', password: '', requestTimeoutMs: 2000 });
      } catch (e) { error = e.code; }
      console.log(JSON.stringify({ loadedAtImport, error, loadedAfter: chdbMapped() }));`);
    expect(result).toEqual({ loadedAtImport: false, error: 'CLICKHOUSE_UNREACHABLE', loadedAfter: false });
  });

  it('loads it for an embedded session, and concurrent openers share one session', async () => {
    const result = await runModule(`
      const config = { dataPath: ${JSON.stringify(dataPath)}, database: 'floodgate', user: 'default', password: '', requestTimeoutMs: 30000 };
      const [a, b] = await Promise.all([createClickhouse(config), createClickhouse(config)]);
      const rows = await (await a.client.query({ query: 'SELECT 1 + 1 AS two', format: 'JSONEachRow' })).json();
      console.log(JSON.stringify({ mode: a.mode, shared: a.client === b.client, rows, loaded: chdbMapped() }));
      await a.close();
      await b.close();`);
    expect(result).toEqual({ mode: 'embedded', shared: true, rows: [{ two: 2 }], loaded: true });
  });

  // chDB's own close returns while inserts still run on the engine's threads; a process exiting then
  // died in the engine's teardown (SIGSEGV or abort) in 7 of 16 runs of this script before the fix.
  it('closes an embedded session only once the inserts in flight are done, so the process can exit at once', async () => {
    const path = mkdtempSync(join(tmpdir(), 'floodgate-close-'));
    try {
      for (let run = 0; run < 3; run++) {
        const result = await runModule(`
          const ch = await createClickhouse({ dataPath: ${JSON.stringify(path)}, database: 'floodgate', user: 'default', password: '', requestTimeoutMs: 30000 });
          await ch.client.command({ query: 'CREATE TABLE IF NOT EXISTS t (a UInt64, s String) ENGINE = MergeTree ORDER BY a' });
          const rows = Array.from({ length: 20000 }, (_, i) => ({ a: i, s: 'row ' + i + ' padding padding padding' }));
          let stop = false;
          let started = 0;
          let settled = 0;
          const loop = async () => {
            while (!stop) {
              started++;
              await ch.client.insert({ table: 't', values: rows, format: 'JSONEachRow' }).catch(() => {}).finally(() => settled++);
            }
          };
          void loop();
          void loop();
          await new Promise((resolve) => setTimeout(resolve, ${150 + run * 200}));
          stop = true;
          const unsettledAtClose = started - settled;
          await ch.close();
          // What settled before the close returned has run its callbacks by the next turn.
          await new Promise((resolve) => setImmediate(resolve));
          console.log(JSON.stringify({ inFlight: unsettledAtClose > 0, unsettled: started - settled }));
          process.exit(0);`);
        // inFlight: the close did begin with inserts running (else this run proves nothing).
        expect(result, `run ${run}`).toEqual({ inFlight: true, unsettled: 0 });
      }
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });

  it('refuses operations begun once a close has started, and closes within its bound while they keep coming', async () => {
    const path = mkdtempSync(join(tmpdir(), 'floodgate-closing-'));
    try {
      const result = await runModule(`
        const ch = await createClickhouse({ dataPath: ${JSON.stringify(path)}, database: 'floodgate', user: 'default', password: '', requestTimeoutMs: 30000 });
        let stop = false;
        let refused = 0;
        const loop = async () => {
          while (!stop) {
            try { await (await ch.client.query({ query: 'SELECT count() FROM numbers(100000)', format: 'JSONEachRow' })).json(); }
            catch { refused++; await new Promise((resolve) => setImmediate(resolve)); }
          }
        };
        void loop();
        void loop();
        await new Promise((resolve) => setTimeout(resolve, 300));
        // An admin endpoint serving queries while the process shuts down: they stop at 8 s.
        setTimeout(() => { stop = true; }, 8000).unref();
        const startedAt = performance.now();
        await ch.close();
        const closeMs = Math.round(performance.now() - startedAt);
        stop = true;
        console.log(JSON.stringify({ closedWithin4s: closeMs < 4000, refused: refused > 0, closeMs }));
        process.exit(0);`);
      // It waited for them for good: 8 s here, and 2,386 queries run after the close began.
      expect(result, JSON.stringify(result)).toMatchObject({ closedWithin4s: true, refused: true });
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });
});
