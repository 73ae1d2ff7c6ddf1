/** The machine a benchmark ran on, printed with every result. */
import { cpus, freemem, totalmem } from 'node:os';

export function machineInfo(): {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
} {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function describeMachine(): string {
  const m = machineInfo();
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB (${Math.round(freemem() / 2 ** 30)} GiB free), Node ${m.node}, ${m.platform}`;
}

/**
 * Nanoseconds per dependent load over a working set of `bytes`: a pointer chase through a random
 * cycle with one pointer per 64-byte line, so each load waits for the one before (no prefetch or
 * overlap helps). Beyond the caches this is the price of every cache miss a benchmark's state
 * causes, which differs between hosts (and on this VM between sessions) more than arithmetic does.
 * The median of `rounds` chases of `loads` loads each.
 */
export function memoryLatencyNs(bytes: number, rounds = 3, loads = 2_000_000): number {
  const stride = 16; // Int32 words per 64-byte line
  const lines = Math.max(2, Math.floor(bytes / 64));
  const order = new Int32Array(lines);
  for (let i = 0; i < lines; i++) order[i] = i;
  let seed = 0x9e3779b9;
  for (let i = lines - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
    const j = seed % (i + 1);
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
  const next = new Int32Array(lines * stride);
  for (let i = 0; i < lines; i++)
    next[(order[i] as number) * stride] = (order[(i + 1) % lines] as number) * stride;
  let at = 0;
  for (let i = 0; i < lines; i++) at = next[at] as number;
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < loads; i++) at = next[at] as number;
    times.push(Number(process.hrtime.bigint() - start) / loads);
  }
  // `at` is used, so the loops cannot be dropped.
  return at < 0 ? Number.NaN : median(times);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
