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

export { Counter, Gauge, Histogram, Registry };
