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

/** Long enough that nothing is stored by the linger's timer while the test looks. */
const LINGER_MS = 30_000;

describe('ingest stores rows lingering, forwards at once, and commits offsets after the rows', () => {
  let ch: TestClickhouse;
  let pipeline: TestPipeline;
  const simulation = simulate({
    seed: 5,
    startMs: Date.UTC(2026, 9, 21, 9, 0, 0),
    durationMs: 10 * 60_000,
    accounts: 5,
    scenarios: [],
  });
  const outbound = simulation.events.filter((e) => e.type === 'message.outbound').length;

  beforeAll(async () => {
    ch = await openTestClickhouse('linger');
    pipeline = await startTestPipeline(inject('kafkaBrokers'), ch, `linger${Date.now()}`, {
      ingest: { storeLingerMs: LINGER_MS },
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await ch?.dispose();
  });

  it('has the detector counting events before their rows are stored, and a stop stores and commits them', async () => {
    const started = Date.now();
    await pipeline.produce(simulation.events);
    const total = simulation.events.length;
    await eventually(
      async () =>
        (await metricTotal(pipeline.detector.registry, 'floodgate_detector_consumed_total')) >= outbound,
      LINGER_MS - 10_000,
      'the detector to consume the forwarded outbound events',
    );
    const [row] = await (
      await ch.client.query({ query: 'SELECT count() AS n FROM messages_outbound', format: 'JSONEachRow' })
    ).json<{ n: string }>();
    expect(Date.now() - started, 'the check ran inside the linger').toBeLessThan(LINGER_MS);
    expect(Number(row?.n), 'rows still lingering while their events were forwarded').toBe(0);
    expect(
      await ingestCommittedRecords(inject('kafkaBrokers'), pipeline),
      'no offset committed before its rows are stored',
    ).toBe(0);

    await pipeline.ingest.stop();
    const [stored] = await (
      await ch.client.query({
        query: `SELECT
          (SELECT count() FROM messages_outbound) + (SELECT count() FROM messages_status)
          + (SELECT count() FROM messages_inbound) + (SELECT count() FROM messages_feedback)
          + (SELECT count() FROM accounts_audit) AS n`,
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    expect(Number(stored?.n), 'the stop stored every lingering row').toBe(total);
    expect(
      await ingestCommittedRecords(inject('kafkaBrokers'), pipeline),
      'and committed their offsets before leaving the group',
    ).toBe(total);
  });
});
