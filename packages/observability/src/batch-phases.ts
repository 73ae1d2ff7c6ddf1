/**
 * Where a consumed batch's time goes: `floodgate_batch_phase_seconds{group,phase}`, one histogram
 * shared by every consumer group of a process. A stalled pipeline shows here as the phase that grew
 * (waiting for the next fetch, the ClickHouse INSERT, the produce, a checkpoint) rather than as lag
 * alone. Each batch is timed by a clock that attributes the time since its previous mark to a phase.
 */
import { Histogram, type Registry } from 'prom-client';

const NAME = 'floodgate_batch_phase_seconds';

/** A batch taking at least this long (seconds, the wait for it excluded) is logged with its phases. */
export const SLOW_BATCH_SECONDS = 2;

export interface BatchClock {
  /** Attributes the time since the previous mark (or the start) to `phase`. */
  mark(phase: string): void;
  /** Seconds per phase marked so far, in marking order. */
  readonly phases: Readonly<Record<string, number>>;
  /** Seconds since the clock started. */
  elapsed(): number;
}

export interface BatchPhaseTimer {
  /** A clock for one batch; `waited` (seconds) is recorded as the `wait` phase when given. */
  start(waited?: number): BatchClock;
}

export function batchPhaseTimer(registry: Registry, group: string): BatchPhaseTimer {
  const histogram =
    (registry.getSingleMetric(NAME) as Histogram<'group' | 'phase'> | undefined) ??
    new Histogram({
      name: NAME,
      help: 'Seconds a consumed batch spent per phase (wait = since the partition’s previous batch ended)',
      labelNames: ['group', 'phase'],
      buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    });
  return {
    start(waited) {
      const started = performance.now();
      let last = started;
      const phases: Record<string, number> = {};
      if (waited !== undefined) {
        phases['wait'] = waited;
        histogram.observe({ group, phase: 'wait' }, waited);
      }
      return {
        phases,
        mark(phase) {
          const now = performance.now();
          const seconds = (now - last) / 1000;
          last = now;
          phases[phase] = (phases[phase] ?? 0) + seconds;
          histogram.observe({ group, phase }, seconds);
        },
        elapsed: () => (performance.now() - started) / 1000,
      };
    },
  };
}

/**
 * Seconds since each partition's previous batch ended (`undefined` for its first): the wait for the
 * next fetch. `key` names the partition (topic and number when a consumer reads several topics).
 */
export class BatchGaps {
  readonly #ended = new Map<string | number, number>();

  since(key: string | number): number | undefined {
    const ended = this.#ended.get(key);
    return ended === undefined ? undefined : (performance.now() - ended) / 1000;
  }

  ended(key: string | number): void {
    this.#ended.set(key, performance.now());
  }
}
