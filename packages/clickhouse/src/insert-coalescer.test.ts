import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { InsertCoalescer } from './insert-coalescer.ts';

interface Call {
  table: string;
  rows: number;
  token: string;
  format: string;
  columns: string[] | undefined;
  values: unknown[];
  finish: (error?: Error) => void;
}

/** A client whose INSERTs stay in flight until the test finishes them (the coalescing logic only). */
function controlledClient(): { client: ClickHouseClient; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    insert: (params: {
      table: string;
      values: unknown[];
      format: string;
      columns?: string[];
      clickhouse_settings: { insert_deduplication_token: string };
    }) =>
      new Promise<void>((resolve, reject) => {
        calls.push({
          table: params.table,
          rows: params.values.length,
          token: params.clickhouse_settings.insert_deduplication_token,
          format: params.format,
          columns: params.columns,
          values: params.values,
          finish: (error) => (error ? reject(error) : resolve()),
        });
      }),
  } as unknown as ClickHouseClient;
  return { client, calls };
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));
const tick = () => new Promise((r) => setImmediate(r));

describe('InsertCoalescer', () => {
  it('inserts a lone batch at the end of the turn with its own token', async () => {
    const { client, calls } = controlledClient();
    const coalescer = new InsertCoalescer(client);
    const done = coalescer.insert('t', rows(3), 'tok-a');
    await tick();
    expect(calls.map((c) => [c.table, c.rows, c.token])).toEqual([['t', 3, 'tok-a']]);
    calls[0]?.finish();
    await expect(done).resolves.toBeUndefined();
  });

  it('combines the batches that arrive while an INSERT is in flight into the next one', async () => {
    const { client, calls } = controlledClient();
    const seen: [number, number][] = [];
    const coalescer = new InsertCoalescer(client, { onInsert: (_t, n, b) => seen.push([n, b]) });
    const first = coalescer.insert('t', rows(2), 'a');
    const otherTable = coalescer.insert('u', rows(1), 'u1');
    await tick();
    const second = coalescer.insert('t', rows(5), 'c');
    const third = coalescer.insert('t', rows(7), 'b');
    await tick();
    expect(calls.map((c) => [c.table, c.rows])).toEqual([
      ['t', 2],
      ['u', 1],
    ]);
    let secondDone = false;
    void second.then(() => (secondDone = true));
    calls[0]?.finish();
    await first;
    await tick();
    expect(calls[2]?.rows).toBe(12);
    expect(calls[2]?.token).toMatch(/^combined:[0-9a-f]{32}$/);
    expect(secondDone).toBe(false);
    calls[1]?.finish();
    await otherTable;
    calls[2]?.finish();
    await Promise.all([second, third]);
    expect(seen).toEqual([
      [2, 1],
      [1, 1],
      [12, 2],
    ]);
    // The same batches in another order give the same token.
    const again = controlledClient();
    const c2 = new InsertCoalescer(again.client);
    void c2.insert('t', rows(1), 'first');
    await tick();
    void c2.insert('t', rows(7), 'b');
    void c2.insert('t', rows(5), 'c');
    await tick();
    again.calls[0]?.finish();
    await tick();
    await tick();
    expect(again.calls[1]?.token).toBe(calls[2]?.token);
  });

  it('rejects every batch of a failed INSERT, and a retry joins the next one', async () => {
    const { client, calls } = controlledClient();
    const coalescer = new InsertCoalescer(client);
    const blocker = coalescer.insert('t', rows(1), 'x');
    await tick();
    const a = coalescer.insert('t', rows(2), 'a');
    const b = coalescer.insert('t', rows(3), 'b');
    await tick();
    calls[0]?.finish();
    await blocker;
    await tick();
    calls[1]?.finish(new Error('ClickHouse is down'));
    await expect(a).rejects.toThrow('ClickHouse is down');
    await expect(b).rejects.toThrow('ClickHouse is down');
    const retry = coalescer.insert('t', rows(2), 'a');
    await tick();
    expect(calls[2]?.token).toBe('a');
    calls[2]?.finish();
    await expect(retry).resolves.toBeUndefined();
  });

  it('caps the rows of a combined INSERT without splitting a batch', async () => {
    const { client, calls } = controlledClient();
    const coalescer = new InsertCoalescer(client, { maxRows: 10 });
    const blocker = coalescer.insert('t', rows(1), 'x');
    await tick();
    const all = [
      blocker,
      coalescer.insert('t', rows(6), 'a'),
      coalescer.insert('t', rows(6), 'b'),
      coalescer.insert('t', rows(15), 'c'),
    ];
    for (let i = 0; i < 4; i++) {
      await tick();
      calls[i]?.finish();
    }
    await Promise.all(all);
    expect(calls.map((c) => c.rows)).toEqual([1, 6, 6, 15]);
  });

  it('with a linger, combines batches that trickle in; flushRows starts an INSERT early, flush() all now; stopLingering() for good', async () => {
    const { client, calls } = controlledClient();
    const coalescer = new InsertCoalescer(client, { lingerMs: 60_000, flushRows: 10 });
    const a = coalescer.insert('t', rows(3), 'a');
    const u = coalescer.insert('u', rows(1), 'u');
    await tick();
    const b = coalescer.insert('t', rows(4), 'b');
    await tick();
    expect(calls, 'nothing before the linger ends or flushRows is reached').toHaveLength(0);
    const c = coalescer.insert('t', rows(3), 'c');
    await tick();
    expect(calls.map((call) => [call.table, call.rows])).toEqual([['t', 10]]);
    coalescer.flush();
    await tick();
    expect(calls.map((call) => [call.table, call.rows])).toEqual([
      ['t', 10],
      ['u', 1],
    ]);
    for (const call of calls) call.finish();
    await Promise.all([a, b, c, u]);
    // stopLingering() holds for tables written to later too.
    coalescer.stopLingering();
    const v = coalescer.insert('v', rows(2), 'v');
    await tick();
    expect(calls.at(-1)?.table).toBe('v');
    calls.at(-1)?.finish();
    await v;
  });

  it('with retryDelayMs, makes a failed INSERT again with the same rows and token', async () => {
    const { client, calls } = controlledClient();
    const retried: [string, number][] = [];
    const coalescer = new InsertCoalescer(client, {
      retryDelayMs: (table, attempt) => {
        retried.push([table, attempt]);
        return attempt < 1 ? 1 : null;
      },
    });
    const a = coalescer.insert('t', rows(2), 'a');
    const b = coalescer.insert('t', rows(3), 'b');
    await tick();
    calls[0]?.finish(new Error('timeout'));
    for (let i = 0; i < 1_000 && calls.length < 2; i++) await new Promise((r) => setTimeout(r, 2));
    expect(calls[1]?.rows).toBe(5);
    expect(calls[1]?.token, 'the same token, so ClickHouse drops it if the first was stored').toBe(
      calls[0]?.token,
    );
    calls[1]?.finish(new Error('timeout'));
    await expect(a).rejects.toThrow('timeout');
    await expect(b).rejects.toThrow('timeout');
    expect(retried).toEqual([
      ['t', 0],
      ['t', 1],
    ]);
  });

  it("with columnsOf, sends a table's rows as JSONCompactEachRow values in its column order; other tables as JSONEachRow", async () => {
    const { client, calls } = controlledClient();
    const coalescer = new InsertCoalescer(client, {
      columnsOf: (table) => (table === 'raw' ? ['b', 'a', 'c'] : undefined),
    });
    const first = coalescer.insert('raw', [{ a: 1, b: 'x', c: [1] }], 'r1');
    const named = coalescer.insert('other', [{ a: 1 }], 'o1');
    await tick();
    // A row lacking a column sends null: ClickHouse gives it the column's default, as JSONEachRow does.
    const second = coalescer.insert('raw', [{ c: [], a: 2 }], 'r2');
    const third = coalescer.insert('raw', [{ a: 3, b: 'z', c: [3] }], 'r3');
    calls[0]?.finish();
    calls[1]?.finish();
    await tick();
    expect(calls.map((c) => [c.table, c.format, c.columns])).toEqual([
      ['raw', 'JSONCompactEachRow', ['b', 'a', 'c']],
      ['other', 'JSONEachRow', undefined],
      ['raw', 'JSONCompactEachRow', ['b', 'a', 'c']],
    ]);
    expect(calls[0]?.values).toEqual([['x', 1, [1]]]);
    expect(calls[1]?.values).toEqual([{ a: 1 }]);
    expect(JSON.stringify(calls[2]?.values)).toBe('[[null,2,[]],["z",3,[3]]]');
    calls[2]?.finish();
    await Promise.all([first, named, second, third]);
  });
});
