import type { Clickhouse } from '@floodgate/clickhouse';
import { simulate } from '@floodgate/simulator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';
import {
  eventually,
  ingestCommittedRecords,
  metricTotal,
  startTestPipeline,
  type TestPipeline,
} from './setup/pipeline.ts';

const OUTAGE_MS = 20_000;
/** Rows ingest may hold unstored before it stops fetching (the smallest allowed). */
const BUFFER_ROWS = 1_000;

/** The real client, with inserts failing while `down` is set: a ClickHouse that stopped answering. */
function withOutage(real: TestClickhouse): {
  clickhouse: TestClickhouse;
  setDown(down: boolean): void;
  failures(): number;
} {
  let down = false;
  let failures = 0;
  const client = new Proxy(real.client, {
    get(target, property, receiver) {
      if (property === 'insert') {
        return async (...args: Parameters<Clickhouse['client']['insert']>) => {
          if (down) {
            failures++;
            throw new Error('connect ECONNREFUSED 127.0.0.1:8123 (injected outage)');
          }
          return target.insert(...args);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    clickhouse: { ...real, client },
    setDown: (value) => {
      down = value;
    },
    failures: () => failures,
  };
}

describe('ingest while ClickHouse is down for 20 s', () => {
  let real: TestClickhouse;
  let pipeline: TestPipeline;
  let outage: ReturnType<typeof withOutage>;
  const startMs = Date.UTC(2026, 9, 20, 9, 0, 0);
  const simulation = simulate({ seed: 3, startMs, durationMs: 40 * 60_000, accounts: 15, scenarios: [] });

  beforeAll(async () => {
    real = await openTestClickhouse('outage');
    outage = withOutage(real);
    pipeline = await startTestPipeline(inject('kafkaBrokers'), outage.clickhouse, `outage${Date.now()}`, {
      ingest: { storeBufferRows: BUFFER_ROWS },
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await real?.dispose();
  });

  it('pauses instead of dropping, reports degraded, and afterwards stores every event exactly once', async () => {
    const tables = [
      'messages_outbound',
      'messages_inbound',
      'messages_status',
      'messages_feedback',
      'accounts_audit',
    ];
    const total = simulation.events.length;
    const countAll = async (final: boolean): Promise<number> => {
      let n = 0;
      for (const table of tables) {
        const [row] = await (
          await real.client.query({
            query: `SELECT count() AS n FROM ${table}${final ? ' FINAL' : ''}`,
            format: 'JSONEachRow',
          })
        ).json<{ n: string | number }>();
        n += Number(row?.n ?? 0);
      }
      return n;
    };
    const third = Math.floor(simulation.events.length / 3);
    await pipeline.produce(simulation.events.slice(0, third));
    outage.setDown(true);
    await pipeline.produce(simulation.events.slice(third, 2 * third));
    await eventually(
      async () => !pipeline.ingest.ready().ready && pipeline.ingest.ready().reason.startsWith('degraded'),
      15_000,
      'readiness to report degraded',
    );
    // Rows past the buffer: a partition whose batch finds them is held (its next fetch waits), and
    // what is produced now stays in Kafka, but for a batch each of partitions not held yet.
    await eventually(
      async () =>
        (await metricTotal(pipeline.ingest.registry, 'floodgate_ingest_store_pending_rows')) > BUFFER_ROWS,
      15_000,
      'unstored rows past the buffer',
    );
    await pipeline.produce(simulation.events.slice(2 * third));
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - 3_000));
    const consumedLate = await metricTotal(pipeline.ingest.registry, 'floodgate_ingest_consumed_total');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(outage.failures(), 'inserts were attempted and failed during the outage').toBeGreaterThan(0);
    const consumedDuring = await metricTotal(pipeline.ingest.registry, 'floodgate_ingest_consumed_total');
    expect(consumedDuring, 'consumption paused while the rows could not be stored').toBe(consumedLate);
    expect(consumedDuring, 'records left in Kafka, not held in memory').toBeLessThan(total);
    const committedDuring = await ingestCommittedRecords(inject('kafkaBrokers'), pipeline);
    const storedDuring = await countAll(false);
    expect(
      committedDuring,
      `offsets committed only for stored rows (${storedDuring} stored, ${consumedDuring} consumed)`,
    ).toBeLessThanOrEqual(storedDuring);
    expect(storedDuring, 'rows consumed during the outage are not stored').toBeLessThan(consumedDuring);
    outage.setDown(false);

    await eventually(async () => (await countAll(true)) >= total, 60_000, `all ${total} events stored`);
    await eventually(async () => pipeline.ingest.ready().ready, 15_000, 'readiness to recover');
    expect(await countAll(true), 'distinct events stored').toBe(total);
    expect(await countAll(false), 'no duplicate rows, even before merges').toBe(total);
    await eventually(
      async () => (await ingestCommittedRecords(inject('kafkaBrokers'), pipeline)) === total,
      15_000,
      'offsets committed up to every stored event',
    );
  });
});
