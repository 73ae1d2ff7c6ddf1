/**
 * Ingest inserts its raw rows as JSONCompactEachRow (values in RAW_COLUMNS order): on the real
 * engine, every table must hold what the same rows inserted as JSONEachRow (named values) hold.
 */
import { InsertCoalescer } from '@floodgate/clickhouse';
import { normalizeEvent } from '@floodgate/detect';
import { RAW_COLUMNS, rawColumnsOf, rawRowOf } from '@floodgate/ingest';
import { exampleEvent, exampleEvents } from '@floodgate/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';

describe("ingest's compact raw-row inserts on the real engine", () => {
  let ch: TestClickhouse;

  beforeAll(async () => {
    ch = await openTestClickhouse('raw_rows');
  });
  afterAll(async () => {
    await ch?.dispose();
  });

  it('store the same values as JSONEachRow, in every raw table; a missing column takes its default', async () => {
    const rowsByTable = new Map<string, Record<string, unknown>[]>();
    for (const [type, example] of Object.entries(exampleEvents)) {
      for (let copy = 0; copy < 3; copy++) {
        // One outbound copy carries a link, so an array column (link_domains) holds a value.
        const link = type === 'message.outbound' && copy === 1;
        const event = exampleEvent(type as keyof typeof exampleEvents, {
          eventId: `${example.eventId}-${copy}`,
          ...(link ? { body: 'Your parcel is held: https://acme-parcels.example/p/9f2 to release it.' } : {}),
        });
        const raw = rawRowOf(event, normalizeEvent(event, { hmacKey: 'raw-rows-insert-key' }), 'full');
        const rows = rowsByTable.get(raw.table) ?? [];
        // One row per table lacks its last column: both formats must give it the column's default;
        // an outbound row also lacks `segments`, whose DEFAULT (1) is not its type's (0).
        if (copy === 2) {
          delete raw.row[RAW_COLUMNS[raw.table].at(-1) as string];
          if (raw.table === 'messages_outbound') delete raw.row['segments'];
        }
        rows.push(raw.row);
        rowsByTable.set(raw.table, rows);
      }
    }
    expect([...rowsByTable.keys()].sort()).toEqual(Object.keys(RAW_COLUMNS).sort());

    const compact = new InsertCoalescer(ch.client, { columnsOf: rawColumnsOf });
    const named = new InsertCoalescer(ch.client);
    for (const [table, rows] of rowsByTable) {
      await ch.client.command({ query: `CREATE TABLE ${table}_named AS ${table}` });
      await compact.insert(table, rows, `compact-${table}`);
      await named.insert(`${table}_named`, rows, `named-${table}`);
    }
    for (const table of rowsByTable.keys()) {
      const read = async (from: string) =>
        (
          await ch.client.query({
            query: `SELECT * EXCEPT ingested_at FROM ${from} ORDER BY event_id`,
            format: 'JSONEachRow',
          })
        ).json<Record<string, unknown>>();
      const stored = await read(table);
      expect(stored, table).toHaveLength(3);
      expect(stored, table).toEqual(await read(`${table}_named`));
      expect(stored[0]?.['event_id'], table).toMatch(/-0$/);
      if (table === 'messages_outbound') {
        expect(stored[1]?.['link_domains']).toEqual(['acme-parcels.example']);
        expect(stored[0]?.['metadata']).toEqual({ purpose: 'otp' });
        expect(stored[2]?.['segments'], 'the DEFAULT of a column the row lacks').toBe(1);
      }
    }
  });
});
