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

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
