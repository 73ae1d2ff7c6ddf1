import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { batchPhaseTimer } from './batch-phases.ts';
import { histogramTotals } from './metrics.ts';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

async function sums(registry: Registry): Promise<Record<string, { sum: number; count: number }>> {
  const out: Record<string, { sum: number; count: number }> = {};
  for (const { labels, sum, count } of await histogramTotals(registry, 'floodgate_batch_phase_seconds'))
    out[`${labels['group']}/${labels['phase']}`] = { sum, count };
  return out;
}

describe('batchPhaseTimer', () => {
  it('attributes the time between marks to the phase marked, per group', async () => {
    const registry = new Registry();
    const clock = batchPhaseTimer(registry, 'g1').start(0);
    busy(15);
    clock.mark('process');
    busy(5);
    clock.mark('flush');
    busy(5);
    clock.mark('process');
    // A partition's first batch has no wait to report.
    expect(Object.keys(clock.phases)).toEqual(['process', 'flush']);
    expect(clock.phases['process']).toBeGreaterThanOrEqual(0.02);
    expect(clock.phases['flush']).toBeGreaterThanOrEqual(0.005);
    expect(clock.phases['flush']).toBeLessThan(clock.phases['process'] as number);
    expect(clock.finish(), 'a 25 ms batch is not slow').toBe(false);
    // A second group shares the histogram (one per process) under its own label.
    batchPhaseTimer(registry, 'g2').start(0).mark('process');
    const observed = await sums(registry);
    expect(observed['g1/process']?.count).toBe(2);
    expect(observed['g1/process']?.sum).toBeCloseTo(clock.phases['process'] as number, 6);
    expect(observed['g1/wait']).toBeUndefined();
    expect(observed['g2/process']?.count).toBe(1);
  });

  it('measures each partition’s wait from its previous batch’s finish', async () => {
    const registry = new Registry();
    const timer = batchPhaseTimer(registry, 'g');
    timer.start('t:0').finish();
    busy(10);
    const second = timer.start('t:0');
    expect(second.phases['wait']).toBeGreaterThanOrEqual(0.01);
    expect(timer.start('t:1').phases['wait'], 'another partition’s first batch').toBeUndefined();
    const observed = await sums(registry);
    expect(observed['g/wait']?.count).toBe(1);
    expect(observed['g/wait']?.sum).toBe(second.phases['wait']);
  });
});
