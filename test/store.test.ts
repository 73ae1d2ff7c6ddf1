/**
 * The store serves the embedded engine over ClickHouse's HTTP interface, so ingest and the detector
 * run as processes of their own on one embedded data directory (the way they run against a
 * ClickHouse server) and analysts' HTTP tools can query it. Everything here is real: the store's
 * own process with chDB, @clickhouse/client and plain HTTP requests, a local Kafka broker, and
 * ingest and detector processes started from their `main.ts`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { topicMessagesOf } from '@floodgate/cli';
import { freePort } from '@floodgate/kafka';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildCli, runCli } from './setup/cli.ts';
import { eventually, takeoverTraffic, testKafka, topicNames } from './setup/pipeline.ts';
import { type ServiceProcess, startServiceProcess, topicEnv, untilReady } from './setup/service-process.ts';

const PASSWORD = 'store-test-secret';

const mapsEngine = (pid: number | undefined): boolean =>
  readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libchdb');

describe('store: the embedded engine over HTTP', () => {
  const dataPath = mkdtempSync(join(tmpdir(), 'floodgate-store-'));
  const running: ServiceProcess[] = [];
  let url = '';
  let client: ClickHouseClient;

  beforeAll(async () => {
    buildCli();
    url = `http://127.0.0.1:${await freePort()}`;
    const store = await startServiceProcess('store', {
      CLICKHOUSE_DATA_PATH: dataPath,
      CLICKHOUSE_PASSWORD: PASSWORD,
      STORE_LISTEN: url.slice('http://'.length),
      LOG_LEVEL: 'info',
    });
    running.push(store);
    await untilReady(store, 'the store');
    client = createClient({ url, password: PASSWORD, database: 'floodgate' });
  });

  afterAll(async () => {
    await client?.close();
    for (const service of running) if (service.child.exitCode === null) service.child.kill('SIGKILL');
    rmSync(dataPath, { recursive: true, force: true });
  });

  it('runs the migrations, inserts and parameterised queries of @clickhouse/client', async () => {
    const migrate = await runCli(['migrate'], { CLICKHOUSE_URL: url, CLICKHOUSE_PASSWORD: PASSWORD });
    expect(migrate.code, migrate.stderr + migrate.stdout).toBe(0);
    const tables = await (
      await client.query({
        query: "SELECT name FROM system.tables WHERE database = 'floodgate'",
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>();
    expect(tables.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(['detections', 'messages_outbound']),
    );

    await client.command({
      query: 'CREATE TABLE store_probe (id UInt32, text String) ENGINE = MergeTree ORDER BY id',
    });
    const awkward = ['it\'s "quoted"', 'line\nbreak\ttab', 'ÄRRET — 🚫', '\\backslash'];
    await client.insert({
      table: 'store_probe',
      values: awkward.map((text, id) => ({ id, text })),
      format: 'JSONEachRow',
    });
    const rows = await (
      await client.query({
        query: 'SELECT id, text FROM store_probe WHERE id >= {from:UInt32} ORDER BY id',
        query_params: { from: 1 },
        format: 'JSONEachRow',
      })
    ).json<{ id: number; text: string }>();
    expect(rows).toEqual(awkward.slice(1).map((text, i) => ({ id: i + 1, text })));
  });

  it('binds array and time parameters as a server does', async () => {
    const rows = await (
      await client.query({
        query:
          'SELECT has({ids:Array(String)}, {id:String}) AS found, toUnixTimestamp64Milli({at:DateTime64(3)}) AS ms, {n:Nullable(UInt8)} AS n',
        query_params: {
          ids: ['a', 'b c', 'd'],
          id: 'b c',
          at: new Date(Date.UTC(2026, 10, 27, 6, 0, 0, 123)),
          n: null,
        },
        format: 'JSONEachRow',
      })
    ).json<{ found: number; ms: string | number; n: number | null }>();
    expect(rows.map((r) => ({ ...r, ms: Number(r.ms) }))).toEqual([
      { found: 1, ms: Date.UTC(2026, 10, 27, 6, 0, 0, 123), n: null },
    ]);
    // Scalars with escapes arrive intact.
    const text = "it's\ta \\ back\nslash";
    const echoed = await (
      await client.query({
        query: 'SELECT {s:String} AS s',
        query_params: { s: text },
        format: 'JSONEachRow',
      })
    ).json<{ s: string }>();
    expect(echoed).toEqual([{ s: text }]);
    // Arrays whose strings hold quotes and backslashes bind as on a server.
    const awkward = ["it's", 'back\\slash', 'tab\there', '{x:String}'];
    const arrays = await (
      await client.query({
        query: 'SELECT {ids:Array(String)} AS ids, length({ids:Array(String)}) AS n',
        query_params: { ids: awkward },
        format: 'JSONEachRow',
      })
    ).json<{ ids: string[]; n: number }>();
    expect(arrays).toEqual([{ ids: awkward, n: awkward.length }]);
  });

  it("refuses what would outlive a request on the engine's one session, and writes under readonly", async () => {
    await expect(client.command({ query: 'SELECT 1; DROP TABLE store_probe' })).rejects.toMatchObject({
      type: 'SYNTAX_ERROR',
    });
    await expect(client.command({ query: 'SET readonly = 1' })).rejects.toMatchObject({
      type: 'NOT_IMPLEMENTED',
    });
    await expect(client.command({ query: 'USE system' })).rejects.toMatchObject({ type: 'NOT_IMPLEMENTED' });
    await expect(
      client.command({ query: '/* c */ CREATE TEMPORARY TABLE tmp (a UInt8)' }),
    ).rejects.toMatchObject({ type: 'NOT_IMPLEMENTED' });
    // readonly from the client (floodgate query, SQL alert rules) holds, whatever the statement's shape.
    for (const query of [
      'DROP TABLE store_probe',
      'INSERT INTO store_probe FORMAT JSONEachRow\n{"id":7,"text":"x"}',
      '/* /* */ SELECT */ TRUNCATE TABLE store_probe',
    ])
      await expect(
        client.command({ query, clickhouse_settings: { readonly: '2' } }),
        query,
      ).rejects.toMatchObject({ type: 'READONLY' });
    const left = await (
      await client.query({ query: 'SELECT count() AS n FROM store_probe', format: 'JSONEachRow' })
    ).json<{ n: string | number }>();
    expect(Number(left[0]?.n)).toBe(4);
    // A page in a browser: an Origin header (or a rebound DNS name as Host) is refused.
    const fromPage = await fetch(`${url}/?query=SELECT%201`, {
      headers: { Origin: 'http://evil.example', 'X-ClickHouse-Key': PASSWORD },
    });
    expect(fromPage.status).toBe(403);
  });

  it('returns engine errors as a server does, and keeps serving', async () => {
    await expect(
      client.query({ query: 'SELECT * FROM no_such_table', format: 'JSONEachRow' }),
    ).rejects.toMatchObject({
      code: '60',
      type: 'UNKNOWN_TABLE',
    });
    await expect(client.command({ query: 'SELEKT 1' })).rejects.toMatchObject({ type: 'SYNTAX_ERROR' });
    const wrong = createClient({ url, password: 'not-the-password' });
    await expect(wrong.query({ query: 'SELECT 1', format: 'JSONEachRow' })).rejects.toMatchObject({
      code: '516',
      type: 'AUTHENTICATION_FAILED',
    });
    await wrong.close();
    expect((await client.ping()).success).toBe(true);
  });

  it('answers plain HTTP (curl-style) in TabSeparated, read-only on GET, gzip both ways', async () => {
    const auth = { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': PASSWORD };
    const create = await fetch(url, {
      method: 'POST',
      headers: auth,
      body: 'CREATE TABLE floodgate.store_plain (id UInt32, text String) ENGINE = MergeTree ORDER BY id',
    });
    expect(create.status, await create.clone().text()).toBe(200);
    const get = await fetch(`${url}/?query=${encodeURIComponent("SELECT 1 + 1, 'a'")}`, { headers: auth });
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('2\ta\n');

    const write = await fetch(
      `${url}/?query=${encodeURIComponent("INSERT INTO floodgate.store_plain VALUES (99, 'x')")}`,
      { headers: auth },
    );
    expect(write.status).toBeGreaterThanOrEqual(400);
    expect(write.headers.get('x-clickhouse-exception-code')).toBe('164');
    expect(await write.text()).toMatch(/^Code: 164\. DB::Exception: .*\(READONLY\)/s);

    const insert = await fetch(
      `${url}/?query=${encodeURIComponent('INSERT INTO floodgate.store_plain FORMAT JSONEachRow')}`,
      {
        method: 'POST',
        headers: { ...auth, 'Content-Encoding': 'gzip' },
        body: gzipSync('{"id":100,"text":"zipped"}\n'),
      },
    );
    expect(insert.status, await insert.clone().text()).toBe(200);
    // The embedded engine does not count an INSERT's rows (its summary reads 0); the header is there.
    expect(JSON.parse(insert.headers.get('x-clickhouse-summary') ?? 'null')).toHaveProperty('elapsed_ns');

    // A body over STORE_MAX_BODY_MIB is refused before the engine sees it, with an answer (not a reset).
    const smallUrl = `http://127.0.0.1:${await freePort()}`;
    const small = await startServiceProcess('store', {
      CLICKHOUSE_DATA_PATH: join(dataPath, 'small'),
      STORE_LISTEN: smallUrl.slice('http://'.length),
      STORE_MAX_BODY_MIB: '1',
      LOG_LEVEL: 'warn',
    });
    running.push(small);
    await untilReady(small, 'the small store');
    const tooLarge = await fetch(
      `${smallUrl}/?query=${encodeURIComponent('INSERT INTO t FORMAT JSONEachRow')}`,
      {
        method: 'POST',
        body: Buffer.alloc(2 * 2 ** 20, 0x20),
      },
    );
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.text()).toMatch(/\(REQUEST_TOO_LARGE\)/);
    small.child.kill('SIGTERM');
    expect((await small.exited).code).toBe(0);

    const zipped = createClient({
      url,
      password: PASSWORD,
      database: 'floodgate',
      compression: { request: true, response: true },
    });
    const back = await (
      await zipped.query({ query: 'SELECT text FROM store_plain', format: 'JSONEachRow' })
    ).json<{ text: string }>();
    await zipped.close();
    expect(back).toEqual([{ text: 'zipped' }]);
  });

  it('lets ingest and the detector run as processes of their own on one embedded data directory', async () => {
    const prefix = `store${Date.now()}`;
    const topics = topicNames(prefix);
    const simulation = takeoverTraffic();
    const total = simulation.events.length;
    const env = {
      KAFKA_BROKERS: inject('kafkaBrokers'),
      KAFKA_CLIENT_ID: prefix,
      CLICKHOUSE_URL: url,
      CLICKHOUSE_PASSWORD: PASSWORD,
      ...topicEnv(topics),
      INGEST_GROUP_ID: `${prefix}-ingest`,
      DETECTOR_GROUP_ID: `${prefix}-detector`,
      INGEST_PARTITIONS: '3',
      FLOODGATE_HMAC_KEY: 'store-test-hmac-key-0123',
      CHECKPOINT_INTERVAL_MS: '1000',
      LOG_LEVEL: 'warn',
    };
    const ingest = await startServiceProcess('ingest', env);
    running.push(ingest);
    await untilReady(ingest, 'ingest');
    const detector = await startServiceProcess('detector', env);
    running.push(detector);
    await untilReady(detector, 'the detector');

    const kafka = testKafka(inject('kafkaBrokers'), `${prefix}-test`);
    const producer = kafka.producer();
    await producer.connect();
    for (let at = 0; at < total; at += 2_000)
      await producer.sendBatch({
        acks: -1,
        topicMessages: topicMessagesOf(topics, simulation.events.slice(at, at + 2_000)),
      });
    await producer.disconnect();

    const count = async (sql: string): Promise<number> =>
      Number((await (await client.query({ query: sql, format: 'JSONEachRow' })).json<{ n: string }>())[0]?.n);
    const rawTables = [
      'messages_outbound',
      'messages_inbound',
      'messages_status',
      'messages_feedback',
      'accounts_audit',
    ];
    await eventually(
      async () => {
        let stored = 0;
        for (const table of rawTables) stored += await count(`SELECT count() AS n FROM ${table} FINAL`);
        return stored === total;
      },
      120_000,
      'every produced event stored through the store',
    );
    const takeover = simulation.labels.find((l) => l.scenario === 'account_takeover');
    expect(takeover, 'the simulation labels its takeover').toBeDefined();
    await eventually(
      async () =>
        (await count(
          `SELECT count() AS n FROM detections FINAL WHERE account_id = '${takeover?.accountIds[0]}' AND kind != 'cross_account_campaign'`,
        )) > 0,
      120_000,
      "a detection of the takeover account's traffic",
    );
    // The services talk HTTP; only the store maps the engine's library.
    expect(mapsEngine(ingest.child.pid)).toBe(false);
    expect(mapsEngine(detector.child.pid)).toBe(false);
    expect(mapsEngine(running[0]?.child.pid)).toBe(true);
    for (const service of [ingest, detector]) {
      service.child.kill('SIGTERM');
      expect((await service.exited).code, service.output().slice(-4_000)).toBe(0);
    }
  });
});
