/**
 * A worker thread of prepare-pool.ts: prepares the records of the batches it is sent, in order, and
 * replies with the results. Holds its own normalisation caches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type Prepared, type PrepareOptions, prepareRecord } from './prepare.ts';
import type { PrepareJob, PrepareReply } from './prepare-pool.ts';

const options = workerData as PrepareOptions;
const port = parentPort;
if (!port) throw new Error('prepare-worker.ts runs as a worker thread (see prepare-pool.ts)');

port.on('message', (job: PrepareJob) => {
  const prepared: Prepared[] = new Array(job.sources.length);
  for (let i = 0; i < job.sources.length; i++) {
    const start = job.bounds[2 * i] as number;
    const end = job.bounds[2 * i + 1] as number;
    const bytes = start < 0 ? null : job.data.subarray(start, end);
    prepared[i] = prepareRecord(bytes, job.sources[i] as string, options);
  }
  const reply: PrepareReply = { id: job.id, prepared };
  port.postMessage(reply);
});
