/**
 * Silences (maintenance windows): time-bounded label matchers, stored in ClickHouse
 * (`alert_silences`, versioned so a silence can be expired early). An alert whose labels satisfy
 * every matcher of an active silence is recorded but not sent. The CLI wraps createSilence /
 * listSilences / expireSilence.
 */
import { randomUUID } from 'node:crypto';
import type { Clickhouse } from '@floodgate/clickhouse';
import { z } from 'zod';
import { AlerterError } from '../errors.ts';
import { formatPath } from '../rules/load.ts';
import { versionNow } from '../version.ts';

export const matcherSchema = z
  .strictObject({
    name: z.string().min(1),
    value: z.string(),
    /** `=` equal, `!=` not equal, `=~` regex (anchored), `!~` not regex. */
    op: z.enum(['=', '!=', '=~', '!~']).default('='),
  })
  .superRefine((matcher, ctx) => {
    if (matcher.op === '=~' || matcher.op === '!~') {
      try {
        new RegExp(matcher.value);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'invalid regular expression' });
      }
    }
  });
export type Matcher = z.infer<typeof matcherSchema>;

export const silenceInputSchema = z
  .strictObject({
    matchers: z.array(matcherSchema).min(1, 'a silence needs at least one matcher'),
    startsAtMs: z.number().int().nonnegative().optional(),
    endsAtMs: z.number().int().positive(),
    createdBy: z.string().min(1),
    comment: z.string().default(''),
  })
  .refine((s) => s.startsAtMs === undefined || s.endsAtMs > s.startsAtMs, {
    path: ['endsAtMs'],
    message: 'a silence must end after it starts',
  });
export type SilenceInput = z.input<typeof silenceInputSchema>;

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAtMs: number;
  endsAtMs: number;
  createdBy: string;
  comment: string;
  createdAtMs: number;
}

export function matcherMatches(matcher: Matcher, labels: Record<string, string>): boolean {
  const value = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(value);
  }
}

export function silenceActive(silence: Silence, nowMs: number): boolean {
  return silence.startsAtMs <= nowMs && nowMs < silence.endsAtMs;
}

/** The first active silence whose matchers all hold for `labels`. */
export function findSilence(
  silences: readonly Silence[],
  labels: Record<string, string>,
  nowMs: number,
): Silence | undefined {
  return silences.find((s) => silenceActive(s, nowMs) && s.matchers.every((m) => matcherMatches(m, labels)));
}

interface SilenceRow {
  id: string;
  matchers: string;
  starts_at: string | number;
  ends_at: string | number;
  created_by: string;
  comment: string;
  created_at: string | number;
}

function silenceRow(silence: Silence): Record<string, unknown> {
  return {
    id: silence.id,
    matchers: JSON.stringify(silence.matchers),
    starts_at: silence.startsAtMs,
    ends_at: silence.endsAtMs,
    created_by: silence.createdBy,
    comment: silence.comment,
    created_at: silence.createdAtMs,
    version: versionNow(),
  };
}

export async function createSilence(
  clickhouse: Clickhouse,
  input: SilenceInput,
  nowMs: number = Date.now(),
): Promise<Silence> {
  const parsed = silenceInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new AlerterError(
      'ALERT_SILENCE_INVALID',
      `invalid silence: ${parsed.error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  const startsAtMs = parsed.data.startsAtMs ?? nowMs;
  if (parsed.data.endsAtMs <= startsAtMs)
    throw new AlerterError(
      'ALERT_SILENCE_INVALID',
      'invalid silence: endsAtMs: a silence must end after it starts',
    );
  const silence: Silence = {
    id: randomUUID(),
    matchers: parsed.data.matchers,
    startsAtMs,
    endsAtMs: parsed.data.endsAtMs,
    createdBy: parsed.data.createdBy,
    comment: parsed.data.comment,
    createdAtMs: nowMs,
  };
  await clickhouse.client.insert({
    table: 'alert_silences',
    values: [silenceRow(silence)],
    format: 'JSONEachRow',
  });
  return silence;
}

export interface ListSilencesOptions {
  /** Only silences active at this time (default: every silence that has not ended yet). */
  activeAtMs?: number;
  includeExpired?: boolean;
  nowMs?: number;
}

export async function listSilences(
  clickhouse: Clickhouse,
  options: ListSilencesOptions = {},
): Promise<Silence[]> {
  const nowMs = options.nowMs ?? Date.now();
  const rows = await (
    await clickhouse.client.query({
      // Latest version per id first (argMax), then the filter: see incidents/store.ts on FINAL.
      query: `SELECT * FROM (
                SELECT id, argMax(matchers, version) AS matchers,
                       toUnixTimestamp64Milli(argMax(starts_at, version)) AS starts_at,
                       toUnixTimestamp64Milli(argMax(ends_at, version)) AS ends_at,
                       argMax(created_by, version) AS created_by, argMax(comment, version) AS comment,
                       toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at
                FROM alert_silences GROUP BY id)
              WHERE {all:UInt8} = 1 OR ends_at > {now:Int64}
              ORDER BY starts_at, id`,
      query_params: { all: options.includeExpired ? 1 : 0, now: nowMs },
      format: 'JSONEachRow',
    })
  ).json<SilenceRow>();
  const silences = rows.map(
    (row): Silence => ({
      id: row.id,
      matchers: JSON.parse(row.matchers) as Matcher[],
      startsAtMs: Number(row.starts_at),
      endsAtMs: Number(row.ends_at),
      createdBy: row.created_by,
      comment: row.comment,
      createdAtMs: Number(row.created_at),
    }),
  );
  const at = options.activeAtMs;
  return at === undefined ? silences : silences.filter((s) => silenceActive(s, at));
}

/** Ends a silence now (a new version of its row); false when no such silence exists. */
export async function expireSilence(
  clickhouse: Clickhouse,
  id: string,
  nowMs: number = Date.now(),
): Promise<boolean> {
  const found = (await listSilences(clickhouse, { includeExpired: true, nowMs })).find((s) => s.id === id);
  if (!found) return false;
  const ended = { ...found, endsAtMs: Math.min(found.endsAtMs, nowMs) };
  if (ended.startsAtMs > nowMs) ended.startsAtMs = nowMs;
  await clickhouse.client.insert({
    table: 'alert_silences',
    values: [silenceRow(ended)],
    format: 'JSONEachRow',
  });
  return true;
}
