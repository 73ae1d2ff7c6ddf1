/**
 * What ingest does to one record before any I/O: validate it, normalise it once, and build its raw
 * row and the value forwarded to `traffic.normalized`. Pure and self-contained, so it runs on the
 * main thread or in the worker threads of prepare-pool.ts with the same result.
 */
import { forwardedValue, type NormalizeOptions, normalizeEvent } from '@floodgate/detect';
import { type ParseProblem, parseEventBytes } from '@floodgate/schema';
import { type BodyStorage, type RawTable, rawRowOf } from './raw-rows.ts';

/** Plain data (no callbacks), so worker threads receive the same options. */
export interface PrepareOptions {
  normalize: Omit<NormalizeOptions, 'countryOfMessage'>;
  bodyStorage: BodyStorage;
  /** Event times further ahead of the clock than this are rejected (see IngestConfig.maxFutureMs). */
  maxFutureMs?: number;
}

export type Prepared =
  /** Valid: its raw row, and the forwarded record's key (the account) and value. */
  | { kind: 'ok'; table: RawTable; row: Record<string, unknown>; key: string; value: string }
  /** Rejected by the schema (or empty, too large, not JSON): dead-lettered with these reasons. */
  | { kind: 'invalid'; problems: ParseProblem[] }
  /** Valid but normalisation threw: a bug to fix, dead-lettered rather than stopping the partition. */
  | { kind: 'failed'; error: string; stack: string | undefined };

/** `source` is `topic/partition@offset` of the record, carried in the forwarded value. */
export function prepareRecord(
  bytes: Uint8Array | null | undefined,
  source: string,
  options: PrepareOptions,
  nowMs = Date.now(),
): Prepared {
  const parsed = parseEventBytes(bytes);
  if (!parsed.ok) return { kind: 'invalid', problems: parsed.problems };
  const event = parsed.value;
  const aheadMs = event.eventTime - nowMs;
  if (options.maxFutureMs !== undefined && aheadMs > options.maxFutureMs) {
    // A clock running ahead would move the detector's watermark: every other sender's events in
    // the partition would then look late and be dropped, for as long as that clock is ahead.
    const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
    return {
      kind: 'invalid',
      problems: [
        {
          path: 'eventTime',
          code: 'in_future',
          message: `event time ${new Date(event.eventTime).toISOString()} is ${seconds(aheadMs)} ahead of ingest's clock (at most ${seconds(options.maxFutureMs)}): is the sender's clock set?`,
        },
      ],
    };
  }
  try {
    const normalized = normalizeEvent(event, options.normalize);
    const raw = rawRowOf(event, normalized, options.bodyStorage);
    return {
      kind: 'ok',
      table: raw.table,
      row: raw.row,
      key: event.accountId,
      // Names its source record, so the detector recognises the copies a crash-and-retry of this
      // batch forwards again (in the value: a header costs kafkajs ~7 µs per record).
      value: forwardedValue(normalized, source),
    };
  } catch (error) {
    return { kind: 'failed', error: String(error), stack: error instanceof Error ? error.stack : undefined };
  }
}
