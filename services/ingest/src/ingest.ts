/**
 * services/ingest: consumes the producer topics, validates every record, dead-letters the invalid
 * ones with their reasons, normalises the rest once, stores raw rows in ClickHouse and forwards
 * normalised events to `traffic.normalized` on their account's partition, a batch's events for one
 * partition in one record (forward-records.ts). Forwarding does not wait for storage:
 * raw rows linger up to `storeLingerMs` so each table gets about one INSERT a second, and a batch's
 * offsets are committed once its rows are stored and its forwarded records acknowledged (see
 * DeferredCommits). While ClickHouse is down the rows are retried with capped, jittered backoff
 * (readiness degraded) and ingest stops fetching once `storeBufferRows` wait, instead of dropping.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { type Clickhouse, InsertCoalescer, serviceClickhouse } from '@floodgate/clickhouse';
import { sampleErrorCodeCategories } from '@floodgate/detect';
import {
  backoffDelayMs,
  createKafka,
  createRecordSender,
  DeferredCommits,
  type EachBatchPayload,
  ensureTopics,
  groupedSends,
  restartingConsumerRetry,
  sleep,
  startLagTracker,
  topicPartitionCount,
} from '@floodgate/kafka';
import {
  batchPhaseTimer,
  Counter,
  consumerLagReporter,
  createLogger,
  createRegistry,
  Gauge,
  Histogram,
  type Logger,
  type Registry,
} from '@floodgate/observability';
import {
  type ApiKeyInventoryEntry,
  apiKeyInventorySchema,
  describeProblems,
  type ParseProblem,
} from '@floodgate/schema';
import type { IngestConfig } from './config.ts';
import { forwardRecords } from './forward-records.ts';
import { type Prepared, type PrepareOptions, prepareRecord } from './prepare.ts';
import { defaultPrepareWorkers, PreparePool } from './prepare-pool.ts';
import { apiKeyRow, rawColumnsOf } from './raw-rows.ts';

export interface IngestDependencies {
  clickhouse?: Clickhouse;
  logger?: Logger;
  registry?: Registry;
}

export interface IngestHandle {
  ready(): { ready: boolean; reason: string };
  readonly registry: Registry;
  stop(): Promise<void>;
}

/** How long a stop waits for the lingering rows to be stored and their offsets committed. */
const STOP_DRAIN_MS = 5_000;

export function loadInventory(path: string): ApiKeyInventoryEntry[] {
  return apiKeyInventorySchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

export async function startIngest(
  config: IngestConfig,
  deps: IngestDependencies = {},
): Promise<IngestHandle> {
  const logger = deps.logger ?? createLogger({ service: 'ingest', level: config.logging.level });
  const registry = deps.registry ?? createRegistry('ingest');
  const consumed = new Counter({
    name: 'floodgate_ingest_consumed_total',
    help: 'Records consumed',
    labelNames: ['topic'],
    registers: [registry],
  });
  const invalid = new Counter({
    name: 'floodgate_ingest_invalid_total',
    help: 'Records dead-lettered',
    labelNames: ['topic', 'reason'],
    registers: [registry],
  });
  const insertLatency = new Histogram({
    name: 'floodgate_ingest_clickhouse_insert_seconds',
    help: 'ClickHouse insert latency of a batch (including the linger and the wait for the INSERT it joins)',
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'floodgate_ingest_dead_lettered_total',
    help: 'Records written to the dead-letter topic (acknowledged)',
    labelNames: ['topic'],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'floodgate_ingest_batch_size',
    help: 'Records per consumed batch',
    buckets: [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000],
    registers: [registry],
  });
  const insertRows = new Histogram({
    name: 'floodgate_ingest_insert_rows',
    help: 'Rows per ClickHouse INSERT (batches of concurrent partitions are combined)',
    buckets: [1, 10, 100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000],
    registers: [registry],
  });
  const insertBatches = new Histogram({
    name: 'floodgate_ingest_insert_batches',
    help: 'Consumed batches combined into one ClickHouse INSERT',
    buckets: [1, 2, 3, 5, 10, 20, 50],
    registers: [registry],
  });
  const sinkErrors = new Counter({
    name: 'floodgate_ingest_sink_errors_total',
    help: 'Failed ClickHouse inserts (retried)',
    registers: [registry],
  });

  const { clickhouse, owned: ownsClickhouse } = await serviceClickhouse(
    config.clickhouse,
    deps.clickhouse,
    logger,
  );

  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  const inputTopics = [
    config.topics.outbound,
    config.topics.inbound,
    config.topics.status,
    config.topics.feedback,
    config.topics.audit,
  ];
  if (config.createTopics) {
    await ensureTopics(admin, [
      ...inputTopics.map((topic) => ({ topic, partitions: config.partitions })),
      { topic: config.topics.deadLetter, partitions: 1, maxMessageBytes: 8 * 1024 * 1024 },
      {
        topic: config.topics.normalized,
        partitions: config.partitions,
        retentionMs: config.normalizedRetentionMs,
      },
      { topic: config.topics.detections, partitions: config.partitions },
    ]);
  }
  // Forwards go to explicit partitions (see forward-records.ts), so ingest tracks the topic's
  // partition count itself, re-read every `partitionRefreshMs` (5 min by default): partitions added
  // later are used once the forward sender's client knows them too (see refreshPartitions below).
  let normalizedPartitions = await topicPartitionCount(admin, config.topics.normalized).finally(() =>
    admin.disconnect(),
  );

  // The inventory is stored in `api_keys` for analysts (the detector applies it in scope checks),
  // at start and whenever the file changes; an invalid file is reported and the table left alone.
  const storeInventory = (entries: ApiKeyInventoryEntry[]) =>
    clickhouse.client.insert({
      table: 'api_keys',
      values: entries.map(apiKeyRow),
      format: 'JSONEachRow',
    });
  if (config.inventoryFile) {
    const path = config.inventoryFile;
    await storeInventory(loadInventory(path));
    watchFile(path, { interval: config.inventoryPollMs }, () => {
      let entries: ApiKeyInventoryEntry[];
      try {
        entries = loadInventory(path);
      } catch (error) {
        logger.error(
          { path, problems: describeProblems(error) },
          'API key inventory invalid; keeping the previous one',
        );
        return;
      }
      storeInventory(entries).then(
        () => logger.info({ path, keys: entries.length }, 'API key inventory reloaded'),
        (error: unknown) => logger.error({ path, err: error }, 'storing the API key inventory failed'),
      );
    });
  }

  // Dead letters (rare, with headers) go through kafkajs; forwards through the configured client.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const forwardSender = await createRecordSender(config.kafka, kafka, producer);
  const consumer = kafka.consumer({
    groupId: config.groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    // The broker answers a fetch once it has fetchMinBytes or fetchMaxWaitMs passed. A stop waits
    // for the fetch in flight: a short long-poll keeps SIGTERM well inside 10 s.
    minBytes: config.fetchMinBytes,
    maxWaitTimeInMs: config.fetchMaxWaitMs,
    // A failing batch is retried from its uncommitted offset; the consumer never gives up for good.
    retry: restartingConsumerRetry((error) => logger.error({ err: error }, 'consumer failed; restarting')),
  });
  await consumer.connect();
  await consumer.subscribe({ topics: inputTopics, fromBeginning: true });
  const lag = startLagTracker({
    kafka,
    consumer,
    groupId: config.groupId,
    topics: inputTopics,
    intervalMs: config.lagIntervalMs,
    onLag: consumerLagReporter(registry, config.groupId),
    onError: (error) => logger.warn({ err: error }, 'consumer lag refresh failed'),
  });

  const prepareOptions: PrepareOptions = {
    normalize: {
      hmacKey: config.privacy.hmacKey,
      prefixDigits: config.privacy.prefixDigits,
      errorCodeCategories: sampleErrorCodeCategories,
    },
    bodyStorage: config.privacy.bodyStorage,
    maxFutureMs: config.maxFutureMs,
  };
  // Validation and normalisation, about half of ingest's main-thread CPU, run on worker threads when
  // there are cores to spare; a worker that dies fails its batches, which are read again (see
  // prepare-pool.ts).
  const workers = config.normalizeWorkers ?? defaultPrepareWorkers();
  const pool =
    workers > 0
      ? new PreparePool(workers, prepareOptions, {
          onWorkerFailure: (error) =>
            logger.error({ err: error }, 'normalisation worker failed; replaced, its batches are read again'),
        })
      : null;
  let assigned = false;
  let sinkDegraded = '';
  /** A stop has begun: batches fetched from now on are left for the next start, rows are flushed. */
  let draining = false;
  /** Batches being handled (past the drain check): a stop lets them hand their rows over first. */
  const handling = new Set<Promise<unknown>>();
  /** INSERT retries give up (after the drain). */
  let stopping = false;
  let stopped: Promise<void> | undefined;

  // Offsets follow the INSERTs that stored their rows. A (re)join makes kafkajs fetch from the
  // committed offsets, so what was tracked before it is forgotten.
  const commits = new DeferredCommits({
    commit: (offsets) => consumer.commitOffsets(offsets),
    onCommitError: (error) => logger.warn({ err: error }, 'offset commit failed; retrying'),
  });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assigned = Object.keys(event.payload.memberAssignment).length > 0;
    commits.reset();
  });
  new Gauge({
    name: 'floodgate_ingest_forward_partitions',
    help: 'Partitions of the normalised topic that ingest places forwards on (re-read every INGEST_PARTITION_REFRESH_MS)',
    registers: [registry],
    collect() {
      this.set(normalizedPartitions);
    },
  });
  new Gauge({
    name: 'floodgate_ingest_store_pending_rows',
    help: 'Raw rows handed to ClickHouse and not yet stored (their offsets wait for them)',
    registers: [registry],
    collect() {
      this.set(commits.pendingRows);
    },
  });

  const inserts = new InsertCoalescer(clickhouse.client, {
    // The embedded engine runs one query at a time: one INSERT of ingest's at a time there keeps the
    // detector's writes (sharing the engine in one process) from queueing behind five of them.
    ...(clickhouse.mode === 'embedded' ? { maxConcurrentInserts: 1 } : {}),
    lingerMs: config.storeLingerMs,
    columnsOf: rawColumnsOf,
    // ClickHouse's advice is INSERTs of thousands of rows at most about once a second: a busy table
    // goes at half the buffer (5,000 rows by default), the rest when their linger ends.
    flushRows: Math.floor(config.storeBufferRows / 2),
    // A failed INSERT is made again as it was — the same rows and token, so one that was stored
    // after all (a timeout) is dropped by ClickHouse — with capped, jittered backoff, until it
    // succeeds or a stop gives up on it; its batches wait and later rows queue behind it.
    retryDelayMs: (table, attempt, error) => {
      if (stopping) return null;
      const delayMs = backoffDelayMs(attempt, config.retry.initialBackoffMs, config.retry.maxBackoffMs);
      sinkErrors.inc();
      sinkDegraded = `ClickHouse insert into ${table} failing: ${(error as Error).message}`;
      logger.warn({ table, attempt, delayMs, err: error }, 'ClickHouse insert failed; retrying');
      return delayMs;
    },
    onInsert: (table, rows, batches) => {
      insertRows.observe(rows);
      insertBatches.observe(batches);
      if (sinkDegraded) logger.info({ table }, 'ClickHouse answers again; resuming');
      sinkDegraded = '';
    },
  });

  // The batches processed at once share their forwards' produce requests, as they share INSERTs.
  const forwards = groupedSends(forwardSender, config.topics.normalized);
  const phases = batchPhaseTimer(registry, config.groupId);

  /** Stores a batch's rows for one table (in the table's next INSERT, which retries as it was). */
  async function timedInsert(table: string, rows: Record<string, unknown>[], token: string): Promise<void> {
    const stopTimer = insertLatency.startTimer();
    try {
      // The same batch re-delivered after a crash carries the same token: ClickHouse drops it
      // (when it is inserted alone or with the same batches; otherwise ReplacingMergeTree
      // collapses the copies by event id).
      await inserts.insert(table, rows, token);
    } finally {
      stopTimer();
    }
  }

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: false,
    // Batches of different partitions overlap (one parses while another's insert is in flight);
    // each partition's batches stay in order.
    partitionsConsumedConcurrently: config.partitionConcurrency,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (batch.messages.length === 0) return;
      // Left unresolved during a stop: read again from the committed offset after the next start
      // (the pause lets nothing new in; should it have failed, this keeps the refetch from spinning).
      if (draining) return await sleep(100);
      const handled = handleBatch(payload);
      handling.add(handled);
      try {
        await handled;
      } finally {
        handling.delete(handled);
      }
    },
  });
  logger.info({ topics: inputTopics, groupId: config.groupId, normalizeWorkers: workers }, 'ingest running');

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const joinEpoch = commits.epoch;
    const clock = phases.start(`${batch.topic}:${batch.partition}`);
    batchSize.observe(batch.messages.length);
    consumed.inc({ topic: batch.topic }, batch.messages.length);
    const rowsByTable = new Map<string, Record<string, unknown>[]>();
    const forwarded: { key: string; value: string }[] = [];
    const deadLetters: {
      key: Buffer | null;
      value: Buffer | null;
      headers: Record<string, string | Buffer>;
    }[] = [];
    const messages = batch.messages;
    const sources = messages.map((message) => `${batch.topic}/${batch.partition}@${message.offset}`);
    const prepared = pool
      ? await pool.prepare(
          messages.map((message) => message.value),
          sources,
        )
      : messages.map((message, i) => prepareRecord(message.value, sources[i] as string, prepareOptions));
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as (typeof messages)[number];
      const outcome = prepared[i] as Prepared;
      if (outcome.kind === 'ok') {
        let rows = rowsByTable.get(outcome.table);
        if (!rows) {
          rows = [];
          rowsByTable.set(outcome.table, rows);
        }
        rows.push(outcome.row);
        forwarded.push({ key: outcome.key, value: outcome.value });
        continue;
      }
      const headers: Record<string, string | Buffer> = {};
      let problems: ParseProblem[];
      if (outcome.kind === 'invalid') {
        problems = outcome.problems;
        invalid.inc({ topic: batch.topic, reason: problems[0]?.code ?? 'unknown' });
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : (v as Buffer);
      } else {
        // A record that breaks normalisation is a bug to fix, not a reason to stop the partition.
        problems = [{ path: '', code: 'normalize_failed', message: outcome.error }];
        invalid.inc({ topic: batch.topic, reason: 'normalize_failed' });
        const err = new Error(outcome.error);
        err.stack = outcome.stack ?? outcome.error;
        logger.error(
          { topic: batch.topic, offset: message.offset, err },
          'normalisation failed; dead-lettering',
        );
      }
      headers['floodgate.source.topic'] = batch.topic;
      headers['floodgate.source.partition'] = String(batch.partition);
      headers['floodgate.source.offset'] = message.offset;
      headers['floodgate.reasons'] = JSON.stringify(problems);
      deadLetters.push({ key: message.key, value: message.value, headers });
    }
    clock.mark('process');
    const span = `${batch.topic}:${batch.partition}:${batch.firstOffset()}-${batch.lastOffset()}`;
    // The rows go to their tables' lingering INSERTs and the batch moves on once its forward and
    // dead letters are acknowledged; its offset is committed when the rows are stored too. A
    // retry after a crash repeats both: ClickHouse drops the repeated inserts by token (or
    // ReplacingMergeTree collapses them by event id) and the detector skips the forwarded copies
    // by source.
    let rowCount = 0;
    for (const rows of rowsByTable.values()) rowCount += rows.length;
    const stored = Promise.all(
      [...rowsByTable].map(([table, rows]) => timedInsert(table, rows, `${config.groupId}:${span}:${table}`)),
    );
    // Its outcome is read where the batch is tracked; should the forward fail first, the batch is
    // read again anyway (the consumer restarts from the committed offset), so nothing waits on it.
    stored.catch(() => {});
    await forwards.send(forwardRecords(forwarded, normalizedPartitions));
    clock.mark('forward');
    for (const deadLetter of deadLetters) {
      await producer.send({ topic: config.topics.deadLetter, acks: -1, messages: [deadLetter] });
      deadLettered.inc({ topic: batch.topic });
    }
    if (deadLetters.length > 0) clock.mark('dead_letter');
    // The group was rejoined meanwhile: the new assignment reads from the committed offsets, and
    // resolving this batch there would move past batches the rejoin forgot (stored or not).
    if (commits.epoch !== joinEpoch) return;
    payload.resolveOffset(batch.lastOffset());
    lag.processed(batch.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
    commits.track(batch.topic, batch.partition, String(Number(batch.lastOffset()) + 1), rowCount, stored);
    // Storage behind (or ClickHouse down): hold this partition's next fetch, heartbeating, until it
    // catches up, so the rows held stay bounded.
    if (commits.pendingRows > config.storeBufferRows) {
      inserts.flush();
      while (
        commits.pendingRows > config.storeBufferRows &&
        !draining &&
        payload.isRunning() &&
        !payload.isStale()
      ) {
        await commits.whenRowsAtMost(config.storeBufferRows, 1_000);
        await payload.heartbeat();
      }
      clock.mark('store_wait');
    }
    await payload.heartbeat();
    clock.mark('heartbeat');
    if (clock.finish())
      logger.info(
        {
          topic: batch.topic,
          partition: batch.partition,
          records: batch.messages.length,
          phases: clock.phases,
        },
        'slow batch',
      );
  }

  // Re-reads the partition count, one read at a time. A grown count is used once the forward
  // sender's client knows the new partitions too (newPartitionDelayMs after ingest first saw them):
  // a record for a partition the client does not know would fail its batch (see RecordSender.send).
  let grown: { partitions: number; seenAt: number } | undefined;
  const refreshPartitions = async (): Promise<void> => {
    const refresher = kafka.admin();
    try {
      await refresher.connect();
      const partitions = await topicPartitionCount(refresher, config.topics.normalized);
      if (partitions === normalizedPartitions) {
        grown = undefined;
        return;
      }
      if (partitions > normalizedPartitions) {
        if (grown?.partitions !== partitions) grown = { partitions, seenAt: Date.now() };
        if (Date.now() - grown.seenAt < forwardSender.newPartitionDelayMs) return;
      }
      logger.info(
        { topic: config.topics.normalized, from: normalizedPartitions, to: partitions },
        'partition count changed; forwarding by the new count',
      );
      normalizedPartitions = partitions;
      grown = undefined;
    } catch (error) {
      logger.warn({ topic: config.topics.normalized, err: error }, 'partition count refresh failed');
    } finally {
      await refresher.disconnect().catch(() => undefined);
    }
  };
  let partitionRefresh: NodeJS.Timeout | undefined;
  const scheduleRefresh = (): void => {
    if (stopping) return;
    partitionRefresh = setTimeout(
      () => void refreshPartitions().finally(scheduleRefresh),
      config.partitionRefreshMs,
    );
    partitionRefresh.unref();
  };
  scheduleRefresh();

  return {
    registry,
    ready: () =>
      sinkDegraded
        ? { ready: false, reason: `degraded: ${sinkDegraded}` }
        : assigned
          ? { ready: true, reason: 'ready' }
          : { ready: false, reason: 'waiting for partition assignment' },
    // Once, however often it is called.
    stop: () => {
      stopped ??= (async () => {
        const startedAt = Date.now();
        // Store what lingers and commit it while still in the group; what is not stored in time is
        // read again after the next start.
        draining = true;
        try {
          consumer.pause(inputTopics.map((topic) => ({ topic })));
        } catch (error) {
          // Not running (it failed and is restarting): nothing is fetched anyway.
          logger.debug({ err: error }, 'pausing the consumer for the stop failed');
        }
        inserts.stopLingering();
        // A batch fetched before the stop may still be parsing or forwarding: its rows are handed to
        // the INSERTs (and tracked) only then, and a drain begun before would not wait for them —
        // the consumer would leave the group with their INSERTs running and their offsets uncommitted.
        const drainBy = Date.now() + STOP_DRAIN_MS;
        let handedOver: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(handling),
          new Promise((resolve) => (handedOver = setTimeout(resolve, STOP_DRAIN_MS))),
        ]);
        clearTimeout(handedOver);
        // At least a second, so the commits of what was stored are made even when handing over
        // took the whole budget (a stuck forward).
        if (!(await commits.drain(Math.max(1_000, drainBy - Date.now()))))
          logger.warn(
            { pendingRows: commits.pendingRows },
            'stopping with rows not yet stored; their records are read again at the next start',
          );
        stopping = true;
        clearTimeout(partitionRefresh);
        if (config.inventoryFile) unwatchFile(config.inventoryFile);
        await lag.stop();
        await consumer.disconnect();
        await pool?.close();
        try {
          await forwardSender.close();
        } finally {
          try {
            await producer.disconnect();
          } finally {
            if (ownsClickhouse) await clickhouse.close();
          }
        }
        logger.info({ tookMs: Date.now() - startedAt }, 'ingest stopped');
      })();
      return stopped;
    },
  };
}
