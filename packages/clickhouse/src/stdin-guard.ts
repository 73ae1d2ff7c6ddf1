/**
 * The embedded engine reads the host process's standard input as extra data for every INSERT when
 * fd 0 is a pipe, socket or file with bytes waiting (chdb-io/chdb-core#239, open): the INSERT then
 * fails with "Processing async inserts with both inlined and external data (from stdin or infile)
 * is not supported" (code 48) — or, with async_insert=0, stores the stdin bytes as rows. A
 * supervisor that writes to the service's stdin, `floodgate replay -`, or a parent that talks to its
 * child over stdin was enough to make every INSERT fail, and ingest waits on a failing INSERT.
 *
 * So before the engine starts, fd 0 is pointed at /dev/null: a process that hosts the embedded
 * engine has no standard input. (Node cannot dup(2) a socket, which is what a Node parent's 'pipe'
 * stdio is, so the input cannot be kept on another descriptor.) Read what you need from stdin before
 * opening the engine, as `floodgate replay -` does, or talk to the process over IPC or the network.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';

export type StdinIsolation =
  /** fd 0 was a terminal, /dev/null or closed: the engine cannot read data from it. */
  | { state: 'untouched' }
  /** fd 0 was a pipe, socket or file and now reads /dev/null. */
  | { state: 'detached' }
  /** fd 0 could not be replaced (another thread took the descriptor): the hazard remains. */
  | { state: 'failed'; reason: string };

let isolation: StdinIsolation | undefined;

/**
 * Points fd 0 at /dev/null, once per process. Must run before anything reads `process.stdin`
 * (which would hold fd 0 open in the event loop).
 */
export function isolateStdinFromEngine(): StdinIsolation {
  if (isolation) return isolation;
  let carriesData: boolean;
  try {
    carriesData = !fstatSync(0).isCharacterDevice();
  } catch {
    carriesData = false; // closed
  }
  if (!carriesData) {
    isolation = { state: 'untouched' };
    return isolation;
  }
  closeSync(0);
  // open(2) returns the lowest free descriptor: 0, unless another thread opened one in between.
  const devNull = openSync('/dev/null', 'r');
  if (devNull !== 0) {
    closeSync(devNull);
    isolation = { state: 'failed', reason: `/dev/null opened as fd ${devNull}, not 0` };
    return isolation;
  }
  isolation = { state: 'detached' };
  return isolation;
}
