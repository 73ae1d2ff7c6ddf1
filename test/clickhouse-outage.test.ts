import type { Clickhouse } from '@floodgate/clickhouse';
import { simulate } from '@floodgate/simulator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';
import { eventually, startTestPipeline, type TestPipeline } from './setup/pipeline.ts';

const OUTAGE_MS = 20_000;

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
    pipeline = await startTestPipeline(inject('kafkaBrokers'), outage.clickhouse, `outage${Date.now()}`);
  });
  afterAll(async () => {
    await pipeline?.stop();
    await real?.dispose();
  });

  it('pauses instead of dropping, reports degraded, and afterwards stores every event exactly once', async () => {
    const half = Math.floor(simulation.events.length / 2);
    await pipeline.produce(simulation.events.slice(0, half));
    outage.setDown(true);
    await pipeline.produce(simulation.events.slice(half));
    await eventually(
      async () => !pipeline.ingest.ready().ready && pipeline.ingest.ready().reason.startsWith('degraded'),
      15_000,
      'readiness to report degraded',
    );
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    expect(outage.failures(), 'inserts were attempted and failed during the outage').toBeGreaterThan(0);
    outage.setDown(false);

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
    await eventually(async () => (await countAll(true)) >= total, 60_000, `all ${total} events stored`);
    await eventually(async () => pipeline.ingest.ready().ready, 15_000, 'readiness to recover');
    expect(await countAll(true), 'distinct events stored').toBe(total);
    expect(await countAll(false), 'no duplicate rows, even before merges').toBe(total);
  });
});
