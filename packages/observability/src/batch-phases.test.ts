import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BatchGaps, batchPhaseTimer } from './batch-phases.ts';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

async function sums(registry: Registry): Promise<Record<string, { sum: number; count: number }>> {
  const out: Record<string, { sum: number; count: number }> = {};
  for (const v of (await registry.getSingleMetric('floodgate_batch_phase_seconds')?.get())?.values ?? []) {
    const name = String((v as { metricName?: string }).metricName);
    const key = `${v.labels['group']}/${v.labels['phase']}`;
    out[key] ??= { sum: 0, count: 0 };
    if (name.endsWith('_sum')) out[key].sum = v.value;
    if (name.endsWith('_count')) out[key].count = v.value;
  }
  return out;
}

describe('batchPhaseTimer', () => {
  it('attributes the time between marks to the phase marked, per group, with the wait given', async () => {
    const registry = new Registry();
    const clock = batchPhaseTimer(registry, 'g1').start(0.25);
    busy(15);
    clock.mark('process');
    busy(5);
    clock.mark('flush');
    busy(5);
    clock.mark('process');
    expect(Object.keys(clock.phases)).toEqual(['wait', 'process', 'flush']);
    expect(clock.phases['wait']).toBe(0.25);
    expect(clock.phases['process']).toBeGreaterThanOrEqual(0.02);
    expect(clock.phases['flush']).toBeGreaterThanOrEqual(0.005);
    expect(clock.phases['flush']).toBeLessThan(clock.phases['process'] as number);
    expect(clock.elapsed()).toBeGreaterThanOrEqual(0.025);
    // A second group shares the histogram (one per process) under its own label.
    batchPhaseTimer(registry, 'g2').start().mark('process');
    const observed = await sums(registry);
    expect(observed['g1/wait']).toEqual({ sum: 0.25, count: 1 });
    expect(observed['g1/process']?.count).toBe(2);
    expect(observed['g1/process']?.sum).toBeCloseTo(clock.phases['process'] as number, 6);
    expect(observed['g2/process']?.count).toBe(1);
    expect(observed['g2/wait']).toBeUndefined();
  });
});

describe('BatchGaps', () => {
  it('knows no gap before a partition’s first batch, then the time since its previous one ended', () => {
    const gaps = new BatchGaps();
    expect(gaps.since('t:0')).toBeUndefined();
    gaps.ended('t:0');
    busy(10);
    expect(gaps.since('t:0')).toBeGreaterThanOrEqual(0.01);
    expect(gaps.since('t:1')).toBeUndefined();
  });
});
