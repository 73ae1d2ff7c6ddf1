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

export { Counter, Gauge, Histogram, Registry };
