/** Runs the built `floodgate` binary (packages/cli/dist/main.js) as a person would, for CLI tests. */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Builds the binary under test (incremental: fast when up to date). */
export function buildCli(): void {
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'packages/cli'], { cwd: ROOT, stdio: 'inherit' });
}

export function runCli(args: string[], env: Record<string, string> = {}, input = ''): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A command that exits without reading its input closes the pipe: EPIPE, not a test error.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
