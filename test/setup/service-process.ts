/**
 * Runs a service's real `main.ts` as a separate Node process — the way it runs in production — so
 * tests can send it real signals (SIGTERM, SIGKILL) and read its admin endpoint.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { prefixedTopics } from '@floodgate/config';
import { freePort } from '@floodgate/kafka';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceProcess {
  readonly adminUrl: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal that ended it) and how long after `since` it came. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  output(): string;
  metrics(): Promise<Map<string, number>>;
  ready(): Promise<boolean>;
}

export async function startServiceProcess(
  service: 'ingest' | 'detector' | 'alerter' | 'all-in-one' | 'store',
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const port = await freePort();
  const adminAddress = `127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--conditions=source', `services/${service}/src/main.ts`], {
    cwd: ROOT,
    env: { ...process.env, ...env, ADMIN_ADDRESS: adminAddress, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    // A pipe with bytes waiting on stdin, as some supervisors leave it: the embedded engine used to
    // read them as INSERT data and fail every INSERT (see packages/clickhouse/src/stdin-guard.ts).
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.on('error', () => {});
  child.stdin?.write('bytes on stdin that are not for the engine\n');
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>(
    (resolve) => child.once('exit', (code, signal) => resolve({ code, signal, atMs: Date.now() })),
  );
  const adminUrl = `http://${adminAddress}`;
  return {
    adminUrl,
    child,
    exited,
    output: () => output,
    async ready() {
      try {
        return (await fetch(`${adminUrl}/readyz`)).status === 200;
      } catch {
        return false;
      }
    },
    async metrics() {
      const text = await (await fetch(`${adminUrl}/metrics`)).text();
      return parsePrometheus(text);
    },
  };
}

/** `name{labels} value` lines into a map keyed by `name{labels}` (labels as printed). */
export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

/** Sum of every series of `name` whose labels include all of `labels`. */
export function metricSum(values: Map<string, number>, name: string, labels: Record<string, string> = {}) {
  let sum = 0;
  let series = 0;
  for (const [key, value] of values) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) continue;
    sum += value;
    series++;
  }
  return { sum, series };
}

/** Waits until the service's /readyz answers 200; fails with its output if it exits or takes too long. */
export async function untilReady(service: ServiceProcess, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await service.ready())) {
    if (service.child.exitCode !== null || service.child.signalCode !== null || Date.now() > deadline)
      throw new Error(`${what} never became ready:\n${service.output().slice(-4_000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The TOPIC_* variables that point a service at `topics`. */
export function topicEnv(topics: ReturnType<typeof prefixedTopics>): Record<string, string> {
  return {
    TOPIC_OUTBOUND: topics.outbound,
    TOPIC_INBOUND: topics.inbound,
    TOPIC_STATUS: topics.status,
    TOPIC_FEEDBACK: topics.feedback,
    TOPIC_AUDIT: topics.audit,
    TOPIC_DLQ: topics.deadLetter,
    TOPIC_NORMALIZED: topics.normalized,
    TOPIC_DETECTIONS: topics.detections,
    TOPIC_OBSERVATIONS: topics.observations,
  };
}
