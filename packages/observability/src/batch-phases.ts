/**
 * Where a consumed batch's time goes: `floodgate_batch_phase_seconds{group,phase}`, one histogram
 * shared by every consumer group of a process. A stalled pipeline shows here as the phase that grew
 * (waiting for the next fetch, the ClickHouse INSERT, the produce, a checkpoint) rather than as lag
 * alone. Each batch is timed by a clock that attributes the time since its previous mark to a phase.
 */
import { Histogram, type Registry } from 'prom-client';

const NAME = 'floodgate_batch_phase_seconds';

/** A batch taking at least this long (seconds, the wait for it excluded) counts as slow. */
const SLOW_BATCH_SECONDS = 2;

export interface BatchClock {
  /** Attributes the time since the previous mark (or the start) to `phase`. */
  mark(phase: string): void;
  /** Seconds per phase marked so far, in marking order. */
  readonly phases: Readonly<Record<string, number>>;
  /**
   * Ends the batch: the partition's next batch measures its `wait` from now. True when the batch
   * was slow (2 s or more, its wait excluded): the caller logs it with its phases.
   */
  finish(): boolean;
}

export interface BatchPhaseTimer {
  /**
   * A clock for one batch of `partition` (the topic and number when a consumer reads several
   * topics). Its `wait` phase is the time since that partition's previous batch finished: the fetch.
   */
  start(partition: string | number): BatchClock;
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
  /** When each partition's previous batch finished. */
  const finished = new Map<string | number, number>();
  return {
    start(partition) {
      const started = performance.now();
      let last = started;
      const phases: Record<string, number> = {};
      const previous = finished.get(partition);
      if (previous !== undefined) {
        phases['wait'] = (started - previous) / 1000;
        histogram.observe({ group, phase: 'wait' }, phases['wait']);
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
        finish() {
          const now = performance.now();
          finished.set(partition, now);
          return (now - started) / 1000 >= SLOW_BATCH_SECONDS;
        },
      };
    },
  };
}
