/**
 * A stop that arrives while ingest is still handling a batch (parsing, forwarding) must let that
 * batch hand its rows over and then store and commit them before the consumer leaves its group. A
 * drain that began first saw nothing to wait for: the consumer left, the batch's INSERT ran on
 * after the stop returned (into an engine about to close) and its offsets failed to commit.
 */
import { simulate } from '@floodgate/simulator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';
import {
  ingestCommittedRecords,
  metricTotal,
  startTestPipeline,
  type TestPipeline,
} from './setup/pipeline.ts';

const STORED_ROWS = `SELECT
  (SELECT count() FROM messages_outbound) + (SELECT count() FROM messages_status)
  + (SELECT count() FROM messages_inbound) + (SELECT count() FROM messages_feedback)
  + (SELECT count() FROM accounts_audit) AS n`;

describe('ingest stopped mid-batch', () => {
  let ch: TestClickhouse;
  let pipeline: TestPipeline;
  const simulation = simulate({
    seed: 11,
    startMs: Date.UTC(2026, 9, 21, 9, 0, 0),
    durationMs: 60 * 60_000,
    accounts: 200,
    scenarios: [],
  });

  beforeAll(async () => {
    ch = await openTestClickhouse('ingest-stop');
    // Lingering for longer than the test: only the stop stores what was handed over.
    pipeline = await startTestPipeline(inject('kafkaBrokers'), ch, `ingeststop${Date.now()}`, {
      ingest: { storeLingerMs: 60_000 },
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await ch?.dispose();
  });

  it('stores and commits the batches in hand, and only those', async () => {
    // Stop as soon as a batch is being handled: its handler counts it first, then yields (to
    // forward it) before its rows are tracked. Polled while the events are still being produced.
    const produced = pipeline.produce(simulation.events);
    const consumed = () => metricTotal(pipeline.ingest.registry, 'floodgate_ingest_consumed_total');
    const deadline = Date.now() + 60_000;
    while ((await consumed()) === 0) {
      if (Date.now() > deadline) throw new Error('ingest consumed nothing within 60 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await pipeline.ingest.stop();
    await produced;

    const [stored] = await (await ch.client.query({ query: STORED_ROWS, format: 'JSONEachRow' })).json<{
      n: string;
    }>();
    const committed = await ingestCommittedRecords(inject('kafkaBrokers'), pipeline);
    expect(committed, 'the batches in hand at the stop were committed').toBeGreaterThan(0);
    expect(committed, 'some records were left for the next start').toBeLessThan(simulation.events.length);
    expect(Number(stored?.n), 'exactly the committed records are stored').toBe(committed);
  });
});
