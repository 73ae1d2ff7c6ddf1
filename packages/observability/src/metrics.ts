/**
 * A prom-client registry per service with the default process metrics. Shared code depends on the
 * registry it is handed, never on prom-client's global one, so tests and the all-in-one runner can
 * keep services apart.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'floodgate_' });
  return registry;
}

export interface LagReport {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * `floodgate_consumer_lag{group,topic,partition}` on `registry` (one gauge, shared by every consumer
 * group a process runs). Returns a setter that replaces one group's series: partitions it no longer
 * owns disappear instead of reporting a frozen value.
 */
export function consumerLagReporter(
  registry: Registry,
  group: string,
): (samples: readonly LagReport[]) => void {
  const name = 'floodgate_consumer_lag';
  const gauge =
    (registry.getSingleMetric(name) as Gauge<'group' | 'topic' | 'partition'> | undefined) ??
    new Gauge({
      name,
      help: 'Records between the processed position and the end of each owned partition',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    });
  let reported: { topic: string; partition: string }[] = [];
  return (samples) => {
    for (const old of reported) gauge.remove({ group, ...old });
    reported = samples.map((s) => ({ topic: s.topic, partition: String(s.partition) }));
    for (const s of samples) gauge.set({ group, topic: s.topic, partition: String(s.partition) }, s.lag);
  };
}

/**
 * A histogram's sum and count per label set, e.g. `{ labels: { phase: 'write' }, sum: 3.2, count: 41 }`
 * (prom-client reports them as separate `_sum` and `_count` values).
 */
export async function histogramTotals(
  registry: Registry,
  name: string,
): Promise<{ labels: Record<string, string | number>; sum: number; count: number }[]> {
  const totals = new Map<string, { labels: Record<string, string | number>; sum: number; count: number }>();
  for (const v of (await registry.getSingleMetric(name)?.get())?.values ?? []) {
    const metricName = String((v as { metricName?: string }).metricName);
    const isSum = metricName.endsWith('_sum');
    if (!isSum && !metricName.endsWith('_count')) continue;
    const labels = v.labels as Record<string, string | number>;
    const key = JSON.stringify(labels);
    let total = totals.get(key);
    if (!total) {
      total = { labels, sum: 0, count: 0 };
      totals.set(key, total);
    }
    if (isSum) total.sum = v.value;
    else total.count = v.value;
  }
  return [...totals.values()];
}

export { Counter, Gauge, Histogram, Registry };
