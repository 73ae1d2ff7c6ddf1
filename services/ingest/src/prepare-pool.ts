/**
 * Worker threads that prepare (validate, normalise, build rows and forwarded values of) ingest's
 * batches, so that work — about half of ingest's main-thread CPU — runs beside the main thread's
 * Kafka client, writes and, when one process hosts both, the detector. Each batch goes whole to the
 * worker with the fewest batches outstanding, and comes back in record order. A worker that dies is
 * replaced and its batches fail, so their offsets are not committed and the consumer reads them
 * again.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Prepared, PrepareOptions } from './prepare.ts';

/** A batch sent to a worker: its record values concatenated, with [start, end) per record (−1: none). */
export interface PrepareJob {
  id: number;
  data: Uint8Array;
  bounds: Int32Array;
  sources: readonly string[];
}

export interface PrepareReply {
  id: number;
  prepared: Prepared[];
}

/**
 * Workers when the configuration names none: none on up to 2 cores, else one fewer than the cores
 * (the main thread keeps one), at most 4. On 2 cores shared with a broker and the store, the cores
 * are already busy and a worker only adds the cost of handing batches over: measured (`pnpm bench`,
 * INGEST_NORMALIZE_WORKERS=0 against 1, interleaved), ingest and end-to-end throughput were 4-10 %
 * lower with one, for a sixth of the event-loop delay.
 */
export function defaultPrepareWorkers(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(4, cores - 1);
}

export interface PreparePoolSettings {
  /** Called when a worker dies (after it is replaced; its batches have failed). */
  onWorkerFailure?: (error: Error) => void;
  /** The worker's module (tests); default prepare-worker beside this file. */
  workerUrl?: URL;
}

interface Pending {
  resolve(prepared: Prepared[]): void;
  reject(error: Error): void;
}

interface WorkerSlot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class PreparePool {
  readonly #options: PrepareOptions;
  readonly #onWorkerFailure: (error: Error) => void;
  readonly #workerUrl: URL | undefined;
  readonly #slots: WorkerSlot[] = [];
  #nextId = 0;
  #closed = false;

  constructor(size: number, options: PrepareOptions, settings: PreparePoolSettings = {}) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a prepare pool needs ≥ 1 worker, got ${size}`);
    this.#options = options;
    this.#onWorkerFailure = settings.onWorkerFailure ?? (() => {});
    this.#workerUrl = settings.workerUrl;
    for (let i = 0; i < size; i++) this.#slots.push(this.#spawn());
  }

  /** Prepares `values` (record values; `sources[i]` names record i) on a worker, in order. */
  prepare(values: readonly (Uint8Array | null)[], sources: readonly string[]): Promise<Prepared[]> {
    if (this.#closed) return Promise.reject(new Error('the prepare pool is closed'));
    if (values.length !== sources.length) throw new RangeError('one source per value');
    let total = 0;
    for (const value of values) if (value) total += value.byteLength;
    // One buffer for the batch, moved (not copied) to the worker.
    const data = new Uint8Array(total);
    const bounds = new Int32Array(2 * values.length);
    let at = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (!value) {
        bounds[2 * i] = -1;
        bounds[2 * i + 1] = -1;
        continue;
      }
      data.set(value, at);
      bounds[2 * i] = at;
      at += value.byteLength;
      bounds[2 * i + 1] = at;
    }
    let slot = this.#slots[0] as WorkerSlot;
    for (const candidate of this.#slots) if (candidate.pending.size < slot.pending.size) slot = candidate;
    const job: PrepareJob = { id: this.#nextId++, data, bounds, sources };
    return new Promise<Prepared[]>((resolve, reject) => {
      slot.pending.set(job.id, { resolve, reject });
      slot.worker.postMessage(job, [data.buffer, bounds.buffer]);
    });
  }

  /** Stops the workers; batches still outstanding fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new Error('the prepare pool is closed');
    await Promise.all(
      this.#slots.map(async (slot) => {
        await slot.worker.terminate();
        for (const pending of slot.pending.values()) pending.reject(closed);
        slot.pending.clear();
      }),
    );
  }

  #spawn(): WorkerSlot {
    // From source (.ts, run with --conditions=source) or from the build (.js): the worker is its sibling.
    const url =
      this.#workerUrl ??
      new URL(
        import.meta.url.endsWith('.ts') ? './prepare-worker.ts' : './prepare-worker.js',
        import.meta.url,
      );
    const fromSource = url.pathname.endsWith('.ts');
    const execArgv =
      fromSource && !process.execArgv.includes('--conditions=source')
        ? [...process.execArgv, '--conditions=source']
        : undefined;
    const worker = new Worker(url, { workerData: this.#options, ...(execArgv ? { execArgv } : {}) });
    // The main thread's own work (Kafka, the store) keeps the process alive, not an idle worker.
    worker.unref();
    const slot: WorkerSlot = { worker, pending: new Map() };
    const fail = (error: Error) => {
      for (const pending of slot.pending.values()) pending.reject(error);
      slot.pending.clear();
      const index = this.#slots.indexOf(slot);
      if (index < 0 || this.#closed) return;
      this.#slots[index] = this.#spawn();
      this.#onWorkerFailure(error);
    };
    worker.on('message', (reply: PrepareReply) => {
      const pending = slot.pending.get(reply.id);
      if (!pending) return;
      slot.pending.delete(reply.id);
      pending.resolve(reply.prepared);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`prepare worker exited with code ${code}`)));
    return slot;
  }
}
