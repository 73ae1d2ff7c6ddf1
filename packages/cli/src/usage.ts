/** Command-line plumbing shared by the commands: argument parsing, usage errors, output tables. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Wrong usage: the message says what to type instead; exit status 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

export interface Command {
  name: string;
  summary: string;
  /** Full help text, starting with the usage line. */
  help: string;
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with `--help` built in and errors turned into usage errors naming the command. */
export function parse<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = true,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[]; help: boolean } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | string[] | undefined>,
      positionals,
      help: (values as Record<string, unknown>)['help'] === true,
    };
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message} (see floodgate ${command} --help)`);
  }
}

/** A duration such as 90s, 15m, 3h, 30d (or plain milliseconds) in milliseconds. */
export function parseDurationMs(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${what}: expected a duration such as 90s, 15m, 3h or 30d, got "${text}"`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms'] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

export function parsePositiveInt(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new UsageError(`${what}: expected a positive integer, got "${text}"`);
  return value;
}

/** `k=v` pairs into an object (values stay strings: ClickHouse parses them by the placeholder type). */
export function parseParams(pairs: string[] | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--param: expected name=value, got "${pair}"`);
    params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return params;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}

/** A plain-text table, columns padded, long cells cut to `maxWidth`. */
export function formatTable(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  maxWidth = 60,
): string {
  const cut = (s: string) => (s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s);
  const cells = rows.map((row) => columns.map((c) => cut(cell(row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
