/**
 * `floodgate <command>`: dispatch, help, and exit codes — 0 ok, 1 runtime failure, 2 bad usage or
 * configuration — with messages a person can act on (no stack traces for expected failures).
 */
import { commands } from './commands/index.ts';
import { UsageError } from './usage.ts';

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Floodgate: streaming message-traffic anomaly detection.

Usage: floodgate <command> [options]     (floodgate <command> --help for its options)

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Configuration comes from environment variables (README, Configuration). Exit status: 0 ok,
1 runtime failure, 2 bad usage or configuration.`;
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`floodgate: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    if (
      typeof error === 'object' &&
      error !== null &&
      (error as { code?: unknown }).code === 'CONFIG_INVALID'
    ) {
      console.error((error as Error).message);
      return 2;
    }
    console.error(`floodgate ${name}: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env['FLOODGATE_DEBUG']) console.error(error);
    return 1;
  }
}
