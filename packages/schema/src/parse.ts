/**
 * Parsing outside input into events. Bad input is a value, not an exception: the result lists every
 * problem with its path, so the DLQ record and the CLI can say exactly what was wrong.
 */
import type { z } from 'zod';
import { eventSchema, type FloodgateEvent } from './events.ts';
import { limits } from './limits.ts';

export interface ParseProblem {
  /** Dotted path to the offending field ('' for the whole event). */
  path: string;
  /** Machine-readable reason: a zod issue code, or 'invalid_json' / 'too_large' / 'not_an_object'. */
  code: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problems: ParseProblem[] };

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((segment) => String(segment)).join('.');
}

export function problemsOf(error: z.ZodError): ParseProblem[] {
  return error.issues.map((issue) => ({
    path: pathOf(issue.path),
    code: issue.code,
    message: issue.message,
  }));
}

/**
 * Why a file or value was rejected, one `path: message` line per problem, for a log line a person
 * can act on (a ZodError's own message is a JSON dump with a stack).
 */
export function describeProblems(error: unknown): string[] {
  const issues = (error as { issues?: unknown } | null)?.issues;
  if (Array.isArray(issues))
    return problemsOf(error as z.ZodError).map((p) => `${p.path || '(root)'}: ${p.message}`);
  return [error instanceof Error ? error.message : String(error)];
}

/** Validates an already-decoded value (for example one line of a replay file). */
export function parseEvent(input: unknown): ParseResult<FloodgateEvent> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      problems: [{ path: '', code: 'not_an_object', message: 'an event must be a JSON object' }],
    };
  }
  const result = eventSchema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, problems: problemsOf(result.error) };
}

/** Validates raw bytes as they come off Kafka: size first, then JSON, then the schema. */
export function parseEventBytes(bytes: Uint8Array | string | null | undefined): ParseResult<FloodgateEvent> {
  if (bytes === null || bytes === undefined) {
    return { ok: false, problems: [{ path: '', code: 'empty', message: 'record has no value' }] };
  }
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > limits.maxEventBytes) {
    return {
      ok: false,
      problems: [
        {
          path: '',
          code: 'too_large',
          message: `event is ${size} bytes; the limit is ${limits.maxEventBytes}`,
        },
      ],
    };
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(
      typeof bytes === 'string'
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    );
  } catch (error) {
    return {
      ok: false,
      problems: [{ path: '', code: 'invalid_json', message: `not valid JSON: ${(error as Error).message}` }],
    };
  }
  return parseEvent(decoded);
}
