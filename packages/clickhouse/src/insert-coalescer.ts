/**
 * Group commit for INSERTs. Every INSERT costs ClickHouse a new part (≈10–20 ms on the embedded
 * engine whatever its size, measured: 100-row inserts reach ~5 k rows/s, 2,000-row ones ~110 k),
 * and ingest's partitions each deliver small batches under live load. So per table at most one
 * INSERT is in flight (GroupCommit); rows that arrive meanwhile wait and go out together in the
 * next one. When idle, the INSERT starts at the end of the current event-loop turn, so the batches
 * of one Kafka fetch share it; under load the batches grow on their own.
 *
 * Each caller's promise settles with the INSERT that carried its rows: resolved when it succeeded,
 * rejected with its error otherwise — the caller retries (its retry joins the next INSERT), unless
 * `retryDelayMs` makes the failed INSERT again itself, with the same rows and token.
 * The deduplication token of an INSERT with one batch is that batch's token; a combined INSERT gets
 * a token derived from all of its batches' tokens (sorted, so the same batches give the same token).
 */
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { GroupCommit, WriteLane } from '@floodgate/batching';

interface Batch {
  rows: readonly Record<string, unknown>[];
  token: string;
}

export interface InsertCoalescerOptions {
  /** Most rows in one INSERT (batches are not split: a single larger batch still goes alone). */
  maxRows?: number;
  /** Called after each INSERT with the rows it carried and how many batches they came from. */
  onInsert?: (table: string, rows: number, batches: number) => void;
  /**
   * INSERTs in flight at once across all tables (default: one per table). The embedded engine runs
   * one query at a time, so more only queue inside it, ahead of other callers' writes (the detector's
   * detections behind ingest's five tables); held back here, the rows join the next INSERT instead.
   */
  maxConcurrentInserts?: number;
  /**
   * How long a table's first waiting rows wait for more before their INSERT starts (default 0: the
   * end of the turn), and the waiting rows that start it at once (default `maxRows`): see GroupCommit.
   */
  lingerMs?: number;
  flushRows?: number;
  /**
   * After a failed INSERT: the delay before it is made again with the same rows and token (so an
   * INSERT that was stored after all is dropped by ClickHouse), or null to reject its callers.
   * Unset: callers are rejected at once and retry themselves (their retry joins the next INSERT).
   */
  retryDelayMs?: (table: string, attempt: number, error: unknown) => number | null;
  /**
   * The columns of a table whose rows go as JSONCompactEachRow (each row's values in this order,
   * a column the row lacks taking its default as in JSONEachRow) instead of JSONEachRow: without a
   * name per value the body is ~44 % smaller for ingest's raw rows, and storing them costs the
   * embedded engine ~18 % less CPU (bench/NOTES.md). Undefined for a table: JSONEachRow.
   */
  columnsOf?: (table: string) => readonly string[] | undefined;
}

export class InsertCoalescer {
  readonly #client: ClickHouseClient;
  readonly #maxRows: number;
  readonly #onInsert: InsertCoalescerOptions['onInsert'];
  readonly #tables = new Map<string, GroupCommit<Batch>>();
  readonly #lane: WriteLane | undefined;
  #lingerMs: number;
  readonly #flushRows: number | undefined;
  readonly #retryDelayMs: InsertCoalescerOptions['retryDelayMs'];
  readonly #columnsOf: InsertCoalescerOptions['columnsOf'];

  constructor(client: ClickHouseClient, options: InsertCoalescerOptions = {}) {
    this.#client = client;
    this.#maxRows = options.maxRows ?? 50_000;
    this.#onInsert = options.onInsert;
    this.#lingerMs = options.lingerMs ?? 0;
    this.#flushRows = options.flushRows;
    this.#retryDelayMs = options.retryDelayMs;
    this.#columnsOf = options.columnsOf;
    this.#lane = options.maxConcurrentInserts ? new WriteLane(options.maxConcurrentInserts) : undefined;
  }

  /** Inserts `rows` into `table`, possibly together with other callers' rows. */
  insert(table: string, rows: readonly Record<string, unknown>[], token: string): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    let queue = this.#tables.get(table);
    if (!queue) {
      const columns = this.#columnsOf?.(table);
      queue = new GroupCommit<Batch>({
        sizeOf: (batch) => batch.rows.length,
        maxSize: this.#maxRows,
        lane: this.#lane,
        lingerMs: this.#lingerMs,
        flushSize: this.#flushRows,
        retryDelayMs: this.#retryDelayMs
          ? (attempt, error) => this.#retryDelayMs?.(table, attempt, error) ?? null
          : undefined,
        write: async (batches) => {
          const rows = batches.length === 1 ? (batches[0] as Batch).rows : batches.flatMap((b) => b.rows);
          const clickhouse_settings = { insert_deduplication_token: combinedToken(batches) };
          if (columns === undefined || columns.length === 0)
            await this.#client.insert({ table, values: rows, format: 'JSONEachRow', clickhouse_settings });
          else
            await this.#client.insert<unknown[]>({
              table,
              columns: columns as [string, ...string[]],
              values: rows.map((row) => valuesOf(row, columns)),
              format: 'JSONCompactEachRow',
              clickhouse_settings,
            });
          let count = 0;
          for (const batch of batches) count += batch.rows.length;
          this.#onInsert?.(table, count, batches.length);
        },
      });
      this.#tables.set(table, queue);
    }
    return queue.submit({ rows, token });
  }

  /** Every table's lingering rows go out now. */
  flush(): void {
    for (const queue of this.#tables.values()) queue.flush();
  }

  /** Stops lingering for good, in tables written to later too (before a stop). */
  stopLingering(): void {
    this.#lingerMs = 0;
    for (const queue of this.#tables.values()) queue.stopLingering();
  }
}

function valuesOf(row: Record<string, unknown>, columns: readonly string[]): unknown[] {
  const values = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) values[i] = row[columns[i] as string];
  return values;
}

function combinedToken(batches: readonly Batch[]): string {
  if (batches.length === 1) return (batches[0] as Batch).token;
  const hash = createHash('sha256');
  for (const token of batches.map((b) => b.token).sort()) hash.update(token).update('\u0000');
  return `combined:${hash.digest('hex').slice(0, 32)}`;
}
