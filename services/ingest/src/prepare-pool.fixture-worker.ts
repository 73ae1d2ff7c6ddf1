/**
 * prepare-pool.int.test.ts's worker: the real one, except that a batch with a record named `crash`
 * ends the thread, as an out-of-memory or a native fault would.
 */
import { parentPort } from 'node:worker_threads';
import type { PrepareJob } from './prepare-pool.ts';

parentPort?.on('message', (job: PrepareJob) => {
  if (job.sources.includes('crash')) process.exit(3);
});
await import('./prepare-worker.ts');
