/**
 * A consumer whose per-partition state is checkpointed to ClickHouse with the offset it covers.
 * The Kafka offset is committed only after the checkpoint is stored, so a restarted or reassigned
 * instance restores the state and skips the records the state already holds: nothing is learnt
 * twice and nothing is forgotten. Both detector stages (the per-account engine and the
 * fingerprint-keyed campaign stage) run on it.
 */
import { once } from 'node:events';
import { promisify } from 'node:util';
import { createZstdCompress, zstdDecompress } from 'node:zlib';
import type { Clickhouse } from '@floodgate/clickhouse';
import type { Detection } from '@floodgate/detect';
import {
  type EachBatchPayload,
  type Kafka,
  type LagSample,
  restartingConsumerRetry,
  retrySink,
  startLagTracker,
} from '@floodgate/kafka';
import type { BatchClock, BatchPhaseTimer, Logger } from '@floodgate/observability';

export interface StageLogic<S, I> {
  create(): S;
  /** The state from its stored text (the lines `serialize` gave, joined by newlines). */
  restore(text: string): S;
  /**
   * The state as lines of text without newlines, produced lazily: the checkpoint compresses them
   * as they come, so a large state is never held a second time as one string.
   */
  serialize(state: S): Iterable<string>;
  /**
   * Decodes one record's value into its items (one, or several when the producer batched them),
   * each with the source record it names, if any (else the record's `floodgate.source` header is
   * used): items already counted from that source are skipped.
   */
  decode(value: Buffer): { event: I; source: string | undefined }[];
  /** Processes one decoded item; pushes what it found into `detections`. */
  process(state: S, event: I, detections: Detection[]): void;
  /** Called after each batch with its detections, before offsets move (writes must be idempotent). */
  flush(
    partition: number,
    state: S,
    detections: Detection[],
    retry: <T>(what: string, action: () => Promise<T>) => Promise<T>,
  ): Promise<void>;
}

export interface StageOptions<S, I> {
  name: string;
  kafka: Kafka;
  clickhouse: Clickhouse;
  logger: Logger;
  topic: string;
  groupId: string;
  checkpointIntervalMs: number;
  /** Partitions whose batches are processed at once (each partition's batches stay in order). */
  partitionConcurrency?: number;
  retry: { initialBackoffMs: number; maxBackoffMs: number };
  logic: StageLogic<S, I>;
  onProcessed?: (count: number) => void;
  /** Items skipped as copies of items already counted (re-forwarded after an ingest crash). */
  onDuplicates?: (count: number) => void;
  /** Called on every (re)join of the consumer group: a rebalance pauses the stage and reloads its states. */
  onGroupJoin?: () => void;
  /** Seconds each live checkpoint took to write and commit (in the background). */
  onCheckpointWritten?: (seconds: number) => void;
  /** Times each batch's phases: wait (for the fetch), load, process, flush, checkpoint_encode, heartbeat. */
  phases: BatchPhaseTimer;
  /** Consumer lag per owned partition, refreshed every `lagIntervalMs`. */
  onLag?: (samples: readonly LagSample[]) => void;
  lagIntervalMs?: number;
}

export interface StageHandle<S> {
  processed(): number;
  assigned(): boolean;
  /** Reading the checkpoints of the partitions assigned at the last rebalance. */
  restoring(): boolean;
  degraded(): string;
  oldestCheckpointAgeS(): number;
  /** Visits the state of every partition this instance currently owns. */
  forEachState(visit: (state: S, partition: number) => void): void;
  stop(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Header naming a record's source record (`topic/partition@offset`), as ingest set it before the
 * source moved into the record's value (see forwardedValue); still read, for records of older versions.
 */
const SOURCE_HEADER = 'floodgate.source';
/**
 * A source offset at most this far behind the newest one seen from its source partition is a copy
 * re-forwarded after an ingest crash; further behind, the source was reset (topic recreated,
 * offsets rewound on purpose) and counting starts again rather than skipping everything.
 */
const REPLAY_WINDOW = 1_000_000n;

interface CheckpointRow {
  partition: number | string;
  next_offset: string | number;
  state: string;
  sources: string;
}

interface PartitionState<S> {
  state: S;
  /** Newest source offset counted, per source topic-partition (see StageLogic.decode). */
  sources: Map<string, bigint>;
  nextOffset: bigint;
  checkpointedOffset: bigint;
  lastCheckpointMs: number;
  /** How long the last checkpoint's serialisation took (it blocks the thread). */
  lastCheckpointCostMs: number;
  /** The offset this instance last seeked back to (to accept a gap that seeking cannot close). */
  seekedTo?: bigint;
}

export async function startCheckpointedStage<S, I>(options: StageOptions<S, I>): Promise<StageHandle<S>> {
  const { clickhouse, logger, logic } = options;
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    // A stop waits for the fetch in flight: a short long-poll keeps SIGTERM well inside 10 s.
    maxWaitTimeInMs: 1_000,
    retry: restartingConsumerRetry((error) =>
      logger.error({ stage: options.name, err: error }, 'consumer failed; restarting'),
    ),
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  const lag = startLagTracker({
    kafka: options.kafka,
    consumer,
    groupId: options.groupId,
    topics: [options.topic],
    intervalMs: options.lagIntervalMs ?? 10_000,
    onLag: (samples) => options.onLag?.(samples),
    onError: (error) => logger.warn({ stage: options.name, err: error }, 'consumer lag refresh failed'),
  });
  const partitions = new Map<number, PartitionState<S>>();
  /** Checkpoints being written in the background, per partition (see checkpointLive). */
  const writing = new Map<number, Promise<void>>();
  /**
   * Encodes run one at a time: partitions processed at once each took their checkpoint at once,
   * and interleaved encodes let V8's heap grow far past the state (pnpm bench step 3b: one run in
   * three ended ~700 MiB above the others, its heap having peaked at 1.2 GiB committed against
   * ~0.4). One at a time each finishes sooner, and a partition waits only for the encodes queued
   * before its own. The compressor's flush stays in the turn: with only the generating of lines
   * queued, the outlier came back (1 run in 6).
   */
  let encodeTurn: Promise<unknown> = Promise.resolve();
  let processed = 0;
  let assigned = false;
  let degraded = '';
  let stopping = false;
  let aborted = false;
  // The checkpoints of the partitions assigned at the last join, read in one query as soon as the
  // assignment is known (not each at its partition's first batch, behind everything else the engine
  // is writing by then); each is used once, by its partition's first batch.
  let preloaded: Promise<Map<number, CheckpointRow | undefined>> = Promise.resolve(new Map());
  /** Reading the checkpoints of the last assignment (the stage is not ready until they are read). */
  let restoring = false;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assigned = Object.keys(event.payload.memberAssignment).length > 0;
    // Partitions may move on a rebalance: forget states so the new owner's checkpoint is reloaded.
    partitions.clear();
    const owned = event.payload.memberAssignment[options.topic] ?? [];
    const current = (owned.length > 0 ? readCheckpoints(owned) : Promise.resolve(new Map())).catch(
      () => new Map<number, CheckpointRow | undefined>(), // stopping: a partition's first batch reads its own
    );
    preloaded = current;
    restoring = true;
    void current.then(() => {
      if (preloaded === current) restoring = false;
    });
    options.onGroupJoin?.();
  });

  const retry = <T>(
    what: string,
    payload: EachBatchPayload | undefined,
    action: () => Promise<T>,
  ): Promise<T> =>
    retrySink(what, action, {
      ...options.retry,
      shouldStop: () => stopping || (payload !== undefined && (!payload.isRunning() || payload.isStale())),
      ...(payload ? { heartbeat: () => payload.heartbeat() } : {}),
      onFailure: (failing, attempt, delayMs, error) => {
        degraded = `${failing} failing: ${(error as Error).message}`;
        logger.warn(
          { stage: options.name, what: failing, attempt, delayMs, err: error },
          'sink failed; retrying',
        );
      },
      onSuccess: () => {
        degraded = '';
      },
    });

  /** The stored checkpoints of `owned` partitions, after any of theirs still being written. */
  async function readCheckpoints(owned: readonly number[]): Promise<Map<number, CheckpointRow | undefined>> {
    // A checkpoint still being written (by this member before a rebalance) is the newest state.
    await Promise.all(owned.map((partition) => writing.get(partition)));
    const rows = await retry('checkpoint load', undefined, async () =>
      (
        await clickhouse.client.query({
          query: `SELECT partition, next_offset, state, sources FROM detector_checkpoints FINAL
                  WHERE group_id = {group:String} AND topic = {topic:String}
                    AND partition IN {partitions:Array(UInt32)}`,
          query_params: { group: options.groupId, topic: options.topic, partitions: owned },
          format: 'JSONEachRow',
        })
      ).json<CheckpointRow>(),
    );
    // Every partition asked for has an entry (undefined: no checkpoint yet, the state starts new).
    const found = new Map<number, CheckpointRow | undefined>(
      owned.map((partition) => [partition, undefined]),
    );
    for (const row of rows) found.set(Number(row.partition), row);
    return found;
  }

  /** A partition's state: from its preloaded checkpoint, else read now, else new from `firstOffset`. */
  async function load(partition: number, firstOffset: bigint): Promise<PartitionState<S>> {
    const ready = await preloaded;
    let row: CheckpointRow | undefined;
    if (ready.has(partition)) {
      row = ready.get(partition);
      ready.delete(partition);
    } else row = (await readCheckpoints([partition])).get(partition);
    if (row) {
      const nextOffset = BigInt(row.next_offset);
      logger.info(
        { stage: options.name, partition, nextOffset: String(nextOffset) },
        'restored partition from checkpoint',
      );
      const sources = new Map<string, bigint>();
      for (const [source, offset] of Object.entries(
        JSON.parse(row.sources || '{}') as Record<string, string>,
      ))
        sources.set(source, BigInt(offset));
      return {
        state: logic.restore(await decodeState(row.state)),
        sources,
        nextOffset,
        checkpointedOffset: nextOffset,
        lastCheckpointMs: Date.now(),
        lastCheckpointCostMs: 0,
      };
    }
    return {
      state: logic.create(),
      sources: new Map(),
      nextOffset: firstOffset,
      checkpointedOffset: firstOffset,
      lastCheckpointMs: Date.now(),
      lastCheckpointCostMs: 0,
    };
  }

  /**
   * The state as a checkpoint row, encoded now: the partition's next batch must not change the
   * state while it is read, so the caller holds the partition until this resolves.
   */
  async function encodeCheckpoint(partition: number, p: PartitionState<S>) {
    // What the live path pays is the serialising, which blocks the thread (compressing runs off
    // it; the INSERT does not block, and a retried one during an outage must not stretch the pacing).
    const turn = encodeTurn.then(() => encodeStateLines(logic.serialize(p.state)));
    encodeTurn = turn.catch(() => {});
    const { stored, blockingMs } = await turn;
    return {
      nextOffset: p.nextOffset,
      blockingMs,
      row: {
        group_id: options.groupId,
        topic: options.topic,
        partition,
        next_offset: String(p.nextOffset),
        state: stored,
        sources: JSON.stringify(Object.fromEntries([...p.sources].map(([k, v]) => [k, String(v)]))),
      },
    };
  }

  /** Stores an encoded checkpoint, then (when `commit`) commits its offset: never ahead of a stored state. */
  async function storeCheckpoint(
    partition: number,
    p: PartitionState<S>,
    encoded: Awaited<ReturnType<typeof encodeCheckpoint>>,
    commit: boolean,
    payload?: EachBatchPayload,
  ): Promise<void> {
    await retry('checkpoint write', payload, () =>
      clickhouse.client.insert({
        table: 'detector_checkpoints',
        values: [encoded.row],
        format: 'JSONEachRow',
      }),
    );
    p.checkpointedOffset = encoded.nextOffset;
    p.lastCheckpointMs = Date.now();
    p.lastCheckpointCostMs = encoded.blockingMs;
    // (After the consumer stopped, the checkpoint alone is enough: a restart skips records below its offset.)
    if (commit)
      await consumer.commitOffsets([{ topic: options.topic, partition, offset: String(encoded.nextOffset) }]);
  }

  /** The final checkpoint of a partition (on stop), after any still being written. */
  async function checkpoint(partition: number, p: PartitionState<S>): Promise<void> {
    await writing.get(partition);
    if (aborted || p.nextOffset === p.checkpointedOffset) return;
    await storeCheckpoint(partition, p, await encodeCheckpoint(partition, p), false);
  }

  /**
   * A live checkpoint: encoded while the batch holds the partition, then written and committed in
   * the background. Awaiting the INSERT (and the commit) here held up every partition: the client
   * fetches for all of them only once each batch of the previous fetch is done, so a checkpoint's
   * INSERT queued behind ingest's in the embedded engine stopped the whole stage for up to seconds.
   * One write per partition at a time; a failed one leaves the offset where it was (the next
   * checkpoint covers it), and a new owner's load waits for it (see `load`).
   */
  async function checkpointLive(partition: number, p: PartitionState<S>, clock: BatchClock): Promise<void> {
    if (aborted || writing.has(partition) || p.nextOffset === p.checkpointedOffset) return;
    const encoded = await encodeCheckpoint(partition, p);
    clock.mark('checkpoint_encode');
    const started = performance.now();
    const write = storeCheckpoint(partition, p, encoded, true)
      .then(
        () => options.onCheckpointWritten?.((performance.now() - started) / 1000),
        (error: unknown) =>
          logger.warn(
            { stage: options.name, partition, err: error },
            'checkpoint write failed; the next checkpoint covers it',
          ),
      )
      .finally(() => writing.delete(partition));
    writing.set(partition, write);
  }

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: false,
    partitionsConsumedConcurrently: options.partitionConcurrency ?? 1,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (batch.messages.length === 0) return;
      const clock = options.phases.start(batch.partition);
      let p = partitions.get(batch.partition);
      if (!p) {
        p = await load(batch.partition, BigInt(batch.firstOffset() ?? 0));
        partitions.set(batch.partition, p);
        clock.mark('load');
      }
      // The state covers every record below nextOffset and none above. A batch that starts further on
      // (fetched before a rebalance replaced the state with its checkpoint, e.g. when a killed
      // member's session expires) would silently skip records: seek back instead. A gap that is still
      // there after seeking (records deleted by retention) is accepted and reported.
      const firstOffset = BigInt(batch.messages[0]?.offset ?? batch.firstOffset() ?? 0);
      if (firstOffset > p.nextOffset) {
        if (p.seekedTo !== p.nextOffset) {
          logger.warn(
            {
              stage: options.name,
              partition: batch.partition,
              from: String(p.nextOffset),
              batchStart: String(firstOffset),
            },
            'batch starts after the state; seeking back so no record is skipped',
          );
          p.seekedTo = p.nextOffset;
          consumer.seek({ topic: options.topic, partition: batch.partition, offset: String(p.nextOffset) });
          return;
        }
        logger.warn(
          {
            stage: options.name,
            partition: batch.partition,
            from: String(p.nextOffset),
            to: String(firstOffset),
          },
          'records before this batch are gone from the topic (retention?); continuing after the gap',
        );
      }
      const detections: Detection[] = [];
      let count = 0;
      let duplicates = 0;
      for (const message of batch.messages) {
        const offset = BigInt(message.offset ?? 0);
        if (offset < p.nextOffset) continue; // already inside the restored state
        p.nextOffset = offset + 1n;
        if (!message.value) continue;
        for (const item of logic.decode(message.value)) {
          count++;
          if (isReplayedCopy(p.sources, item.source ?? message.headers?.[SOURCE_HEADER])) {
            duplicates++;
            continue;
          }
          logic.process(p.state, item.event, detections);
        }
      }
      processed += count;
      options.onProcessed?.(count);
      if (duplicates > 0) options.onDuplicates?.(duplicates);
      if (aborted) return; // killed: nothing after this point happens
      clock.mark('process');
      try {
        await logic.flush(batch.partition, p.state, detections, (what, action) =>
          retry(what, payload, action),
        );
      } catch (error) {
        // The state already holds this batch but its detections were not stored: drop the state so
        // no checkpoint (the final one on shutdown included) can cover them; the batch is re-read
        // from the last checkpoint.
        if (partitions.get(batch.partition) === p) partitions.delete(batch.partition);
        throw error;
      }
      clock.mark('flush');
      payload.resolveOffset(batch.lastOffset());
      lag.processed(options.topic, batch.partition, p.nextOffset);
      if (
        Date.now() - p.lastCheckpointMs >=
        checkpointPause(options.checkpointIntervalMs, p.lastCheckpointCostMs, partitions.size)
      ) {
        await checkpointLive(batch.partition, p, clock);
      }
      await payload.heartbeat();
      clock.mark('heartbeat');
      if (clock.finish())
        logger.info(
          { stage: options.name, partition: batch.partition, events: count, phases: clock.phases },
          'slow batch',
        );
    },
  });

  return {
    processed: () => processed,
    assigned: () => assigned,
    restoring: () => restoring,
    degraded: () => degraded,
    oldestCheckpointAgeS: () => {
      let oldest = 0;
      for (const p of partitions.values())
        oldest = Math.max(oldest, (Date.now() - p.lastCheckpointMs) / 1000);
      return oldest;
    },
    forEachState: (visit) => {
      for (const [partition, p] of partitions) visit(p.state, partition);
    },
    abort: async () => {
      stopping = true;
      aborted = true;
      partitions.clear();
      await lag.stop();
      await consumer.disconnect();
    },
    stop: async () => {
      stopping = true;
      await lag.stop();
      await consumer.stop();
      await Promise.all(writing.values());
      for (const [partition, p] of partitions) {
        try {
          await checkpoint(partition, p);
        } catch (error) {
          logger.error(
            { stage: options.name, partition, err: error },
            'final checkpoint failed; the partition will be re-processed',
          );
        }
      }
      await consumer.disconnect();
    },
  };
}

/**
 * Whether a record is a copy of one already counted: its source offset is not newer than the newest
 * counted from the same source partition (records of one source partition arrive in order). Records
 * without the header (other producers) are always counted. Updates `sources` otherwise.
 */
export function isReplayedCopy(
  sources: Map<string, bigint>,
  header: Buffer | string | (Buffer | string)[] | undefined,
): boolean {
  if (header === undefined) return false;
  const text = String(Array.isArray(header) ? header[0] : header);
  const at = text.lastIndexOf('@');
  if (at <= 0) return false;
  const source = text.slice(0, at);
  let offset: bigint;
  try {
    offset = BigInt(text.slice(at + 1));
  } catch {
    return false;
  }
  const newest = sources.get(source);
  if (newest !== undefined && offset <= newest && newest - offset <= REPLAY_WINDOW) return true;
  sources.set(source, offset);
  return false;
}

/**
 * Serialising checkpoints may take at most this share of the time. A checkpoint serialises the
 * partition's whole state (1–2 s per 10,000 accounts with 10 rate-tracked keys each, measured), so
 * with a large state the interval stretches instead of the detector doing little else: a restart
 * then replays more from Kafka, which is cheap, rather than the live path stalling behind
 * checkpoints (at 100,000 accounts it fell behind for good before).
 */
export const CHECKPOINT_MAX_SHARE = 0.1;

/**
 * Time to wait after a partition's checkpoint before its next one: the interval, or longer for
 * costly ones. The partitions of one instance share its thread, so the share is divided among them.
 */
export function checkpointPause(intervalMs: number, lastCostMs: number, partitionsOwned = 1): number {
  return Math.max(intervalMs, (lastCostMs * Math.max(1, partitionsOwned)) / CHECKPOINT_MAX_SHARE);
}

const decompress = promisify(zstdDecompress);
/** Marks a zstd-compressed, base64-encoded state; a stored state without it is plain JSON. */
const ZSTD_PREFIX = 'zstd:';

/** Text handed to the compressor at a time: large enough to amortise the calls, small beside a state. */
const CHUNK_CHARS = 1 << 20;

/**
 * A partition's state as stored: its lines, each ended by a newline, zstd-compressed and base64.
 * With 17,000 accounts the text is ~130 MiB (sparse rings and repeated keys) and every copy of it
 * — the client's escaping, the engine's parsing — cost seconds and gigabytes; compressed it is a
 * small fraction of that. Streamed: lines are compressed in 1 MiB chunks as the iterable yields
 * them, so memory holds the compressed output and one chunk, not the whole text. `blockingMs` is
 * the time spent on this thread producing and handing over the lines (compression runs on the
 * thread pool).
 */
export async function encodeStateLines(
  lines: Iterable<string>,
): Promise<{ stored: string; blockingMs: number }> {
  const compressor = createZstdCompress();
  const output: Buffer[] = [];
  compressor.on('data', (chunk: Buffer) => output.push(chunk));
  const finished = once(compressor, 'end');
  // Awaited only after the last write: a compressor error while a write waits for 'drain' rejects
  // that wait, and must not also surface here as an unhandled rejection.
  finished.catch(() => {});
  let blockingMs = 0;
  let started = performance.now();
  let pending: string[] = [];
  let pendingChars = 0;
  for (const line of lines) {
    pending.push(line, '\n');
    pendingChars += line.length + 1;
    if (pendingChars < CHUNK_CHARS) continue;
    const writable = compressor.write(pending.join(''));
    pending = [];
    pendingChars = 0;
    blockingMs += performance.now() - started;
    if (!writable) await once(compressor, 'drain');
    started = performance.now();
  }
  compressor.end(pending.join(''));
  blockingMs += performance.now() - started;
  await finished;
  return { stored: ZSTD_PREFIX + Buffer.concat(output).toString('base64'), blockingMs };
}

/** The lines of a stored state's text (as `encodeStateLines` joined them), without copying it. */
export function* linesOf(text: string): Generator<string> {
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    yield text.slice(from, to);
    from = to + 1;
  }
}

/** The JSON of a stored state, compressed or (written by an older version) plain. */
export async function decodeState(stored: string): Promise<string> {
  if (!stored.startsWith(ZSTD_PREFIX)) return stored;
  return (await decompress(Buffer.from(stored.slice(ZSTD_PREFIX.length), 'base64'))).toString('utf8');
}
