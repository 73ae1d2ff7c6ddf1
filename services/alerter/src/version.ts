/**
 * Row versions for the ReplacingMergeTree tables: microseconds since the epoch, strictly increasing
 * within the process, so two updates in one millisecond never tie and a restarted process (later
 * wall clock) always writes newer versions than the one before it.
 */
let last = 0;

export function versionNow(): number {
  const candidate = Date.now() * 1000;
  last = candidate > last ? candidate : last + 1;
  return last;
}
