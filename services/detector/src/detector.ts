/**
 * services/detector: two checkpointed stages (see checkpointed-stage.ts).
 * 1. One detection engine per partition of `traffic.normalized` (keyed by account). Its
 *    detections go to ClickHouse (`detections`, idempotent by id) and the `detections` topic; its
 *    per-minute template observations are repartitioned by fingerprint to `fingerprints.observations`.
 * 2. The campaign stage consumes that topic — every observation of one fingerprint lands on one
 *    partition, whichever account sent it — and raises `cross_account_campaign`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { type Clickhouse, InsertCoalescer, serviceClickhouse } from '@floodgate/clickhouse';
import {
  type CrossAccountSnapshot,
  CrossAccountStage,
  type Detection,
  DetectionEngine,
  type FingerprintObservation,
  type NormalizedEvent,
  parseForwardedRecords,
} from '@floodgate/detect';
import { createKafka, createRecordSender, ensureTopics, groupedSends } from '@floodgate/kafka';
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
import { type ApiKeyInventoryEntry, apiKeyInventorySchema, describeProblems } from '@floodgate/schema';
import { linesOf, startCheckpointedStage } from './checkpointed-stage.ts';
import type { DetectorConfig } from './config.ts';
import { detectionRow } from './detection-rows.ts';

export interface DetectorDependencies {
  clickhouse?: Clickhouse;
  logger?: Logger;
  registry?: Registry;
}

export interface DetectorHandle {
  ready(): { ready: boolean; reason: string };
  readonly registry: Registry;
  /** Normalised events processed so far by this instance's engine stage. */
  processed(): number;
  stop(): Promise<void>;
  /**
   * Drops everything not yet checkpointed and leaves the groups without committing — what a
   * SIGKILL does to the process. For fault-injection tests of the restore path.
   */
  abort(): Promise<void>;
}

export async function startDetector(
  config: DetectorConfig,
  deps: DetectorDependencies = {},
): Promise<DetectorHandle> {
  const logger = deps.logger ?? createLogger({ service: 'detector', level: config.logging.level });
  const registry = deps.registry ?? createRegistry('detector');
  const detectionsTotal = new Counter({
    name: 'floodgate_detector_detections_total',
    help: 'Detections emitted',
    labelNames: ['kind', 'severity'],
    registers: [registry],
  });
  const consumedTotal = new Counter({
    name: 'floodgate_detector_consumed_total',
    help: 'Normalized events consumed',
    registers: [registry],
  });
  const duplicatesTotal = new Counter({
    name: 'floodgate_detector_replayed_copies_skipped_total',
    help: 'Normalized events skipped as copies re-forwarded after an ingest crash',
    registers: [registry],
  });
  const groupJoins = new Counter({
    name: 'floodgate_detector_group_joins_total',
    help: 'Consumer group (re)joins per stage: each rebalance pauses the stage and reloads its states from checkpoints',
    labelNames: ['stage'],
    registers: [registry],
  });
  const inventoryReloads = new Counter({
    name: 'floodgate_detector_inventory_reloads_total',
    help: 'API key inventory file reloads, applied or rejected as invalid',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const checkpointWrites = new Histogram({
    name: 'floodgate_detector_checkpoint_write_seconds',
    help: 'Seconds a live checkpoint took to store and commit (in the background, beside consumption)',
    labelNames: ['stage'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const checkpointAge = new Gauge({
    name: 'floodgate_detector_checkpoint_age_seconds',
    help: 'Age of the oldest partition checkpoint',
    registers: [registry],
  });

  // What the engines hold, summed over the partitions this instance owns (read at scrape time).
  let engineStats: () => { accounts: number; rateKeys: number } = () => ({ accounts: 0, rateKeys: 0 });
  new Gauge({
    name: 'floodgate_detector_tracked_accounts',
    help: 'Accounts the engines hold state for',
    registers: [registry],
    collect() {
      this.set(engineStats().accounts);
    },
  });
  new Gauge({
    name: 'floodgate_detector_tracked_rate_keys',
    help: 'Rate-tracked keys the engines hold: accounts, account x API key, account x country',
    registers: [registry],
    collect() {
      this.set(engineStats().rateKeys);
    },
  });

  const { clickhouse, owned: ownsClickhouse } = await serviceClickhouse(
    config.clickhouse,
    deps.clickhouse,
    logger,
  );
  const readInventory = (path: string): ApiKeyInventoryEntry[] =>
    apiKeyInventorySchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  let inventory: ApiKeyInventoryEntry[] = config.inventoryFile ? readInventory(config.inventoryFile) : [];

  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    {
      topic: config.topics.observations,
      partitions: config.observationPartitions,
      retentionMs: 6 * 3_600_000,
    },
    // Ingest creates it too; a detector started first (or on its own, replaying a normalized topic)
    // would otherwise retry its first detection forever. 6 partitions: ingest's default.
    { topic: config.topics.detections, partitions: 6 },
  ]);
  await admin.disconnect();
  const producer = await createRecordSender(config.kafka, kafka);

  // Partitions are processed concurrently and each batch's writes have a fixed cost (an INSERT
  // makes a part; a produce request is a broker round trip), so the batches in flight share them:
  // group commit per table and per topic. Each batch still waits for the writes carrying its own
  // records before its offset moves.
  const detectionInserts = new InsertCoalescer(clickhouse.client);
  const detectionSends = groupedSends(producer, config.topics.detections);
  const observationSends = groupedSends(producer, config.topics.observations);

  const emit = async (
    detections: Detection[],
    retry: <T>(what: string, action: () => Promise<T>) => Promise<T>,
  ): Promise<void> => {
    if (detections.length === 0) return;
    const rows = detections.map(detectionRow);
    // Rows are keyed by the detections' deterministic ids, so the same batch re-processed after a
    // restart gives the same token (and ReplacingMergeTree collapses the copies regardless).
    const token = `detections:${createHash('sha256')
      .update(detections.map((d) => d.id).join(','))
      .digest('hex')
      .slice(0, 32)}`;
    await retry('detections insert', () => detectionInserts.insert('detections', rows, token));
    await detectionSends.send(detections.map((d) => ({ key: d.accountId, value: JSON.stringify(d) })));
    for (const d of detections) detectionsTotal.inc({ kind: d.kind, severity: d.severity });
  };

  const engines = await startCheckpointedStage<DetectionEngine, NormalizedEvent>({
    name: 'engine',
    kafka,
    clickhouse,
    logger,
    topic: config.topics.normalized,
    groupId: config.groupId,
    checkpointIntervalMs: config.checkpointIntervalMs,
    partitionConcurrency: config.partitionConcurrency,
    retry: config.retry,
    onProcessed: (count) => consumedTotal.inc(count),
    onDuplicates: (count) => duplicatesTotal.inc(count),
    onGroupJoin: () => groupJoins.inc({ stage: 'engine' }),
    phases: batchPhaseTimer(registry, config.groupId),
    onCheckpointWritten: (seconds) => checkpointWrites.observe({ stage: 'engine' }, seconds),
    onLag: consumerLagReporter(registry, config.groupId),
    lagIntervalMs: config.lagIntervalMs,
    logic: {
      create: () => new DetectionEngine({ config: config.detect, inventory }),
      restore: (text) => DetectionEngine.restoreLines(linesOf(text), { config: config.detect, inventory }),
      serialize: (engine) => engine.snapshotLines(),
      decode: (value) => parseForwardedRecords(value.toString('utf8')),
      process: (engine, event, detections) => {
        for (const d of engine.process(event)) detections.push(d);
      },
      // The observations (for the campaign stage) go out while the detections are stored: the two
      // are independent, and each batch waits for both before its offset moves.
      flush: async (_partition, engine, detections, retry) => {
        const observations = engine.drainObservations();
        await Promise.all([
          emit(detections, retry),
          observationSends.send(observations.map((o) => ({ key: o.fingerprint, value: JSON.stringify(o) }))),
        ]);
      },
    },
  });

  const campaigns = await startCheckpointedStage<CrossAccountStage, FingerprintObservation>({
    name: 'campaigns',
    kafka,
    clickhouse,
    logger,
    topic: config.topics.observations,
    groupId: `${config.groupId}-campaigns`,
    onGroupJoin: () => groupJoins.inc({ stage: 'campaigns' }),
    phases: batchPhaseTimer(registry, `${config.groupId}-campaigns`),
    onCheckpointWritten: (seconds) => checkpointWrites.observe({ stage: 'campaigns' }, seconds),
    checkpointIntervalMs: config.checkpointIntervalMs,
    partitionConcurrency: config.partitionConcurrency,
    onLag: consumerLagReporter(registry, `${config.groupId}-campaigns`),
    lagIntervalMs: config.lagIntervalMs,
    retry: config.retry,
    logic: {
      create: () => new CrossAccountStage(config.detect),
      restore: (json) => CrossAccountStage.restore(JSON.parse(json) as CrossAccountSnapshot, config.detect),
      serialize: (stage) => [JSON.stringify(stage.snapshot())],
      decode: (value) => [
        { event: JSON.parse(value.toString('utf8')) as FingerprintObservation, source: undefined },
      ],
      process: (stage, observation, detections) => {
        for (const d of stage.process(observation)) detections.push(d);
      },
      flush: (_partition, _stage, detections, retry) => emit(detections, retry),
    },
  });
  // Scope checks follow the inventory file: a changed file applies to every owned partition's engine
  // and to engines created or restored later; an invalid one is reported and the old one kept.
  const inventoryFile = config.inventoryFile;
  if (inventoryFile) {
    watchFile(inventoryFile, { interval: config.inventoryPollMs }, () => {
      try {
        inventory = readInventory(inventoryFile);
        engines.forEachState((engine) => engine.setInventory(inventory));
        inventoryReloads.inc({ outcome: 'applied' });
        logger.info({ path: inventoryFile, keys: inventory.length }, 'API key inventory reloaded');
      } catch (error) {
        inventoryReloads.inc({ outcome: 'rejected' });
        logger.error(
          { path: inventoryFile, problems: describeProblems(error) },
          'API key inventory invalid; keeping the previous one',
        );
      }
    });
  }
  engineStats = () => {
    const total = { accounts: 0, rateKeys: 0 };
    engines.forEachState((engine) => {
      const stats = engine.stats();
      total.accounts += stats.accounts;
      total.rateKeys += stats.rateKeys;
    });
    return total;
  };
  const ageTimer = setInterval(
    () => checkpointAge.set(Math.max(engines.oldestCheckpointAgeS(), campaigns.oldestCheckpointAgeS())),
    5_000,
  );
  ageTimer.unref();
  logger.info({ topic: config.topics.normalized, groupId: config.groupId }, 'detector running');

  return {
    registry,
    processed: () => engines.processed(),
    ready: () => {
      const degraded = engines.degraded() || campaigns.degraded();
      if (degraded) return { ready: false, reason: `degraded: ${degraded}` };
      if (!engines.assigned()) return { ready: false, reason: 'waiting for partition assignment' };
      return engines.restoring() || campaigns.restoring()
        ? { ready: false, reason: 'reading the checkpoints of the assigned partitions' }
        : { ready: true, reason: 'ready' };
    },
    abort: async () => {
      clearInterval(ageTimer);
      if (inventoryFile) unwatchFile(inventoryFile);
      await engines.abort();
      await campaigns.abort();
      try {
        await producer.close();
      } finally {
        if (ownsClickhouse) await clickhouse.close();
      }
    },
    stop: async () => {
      clearInterval(ageTimer);
      if (inventoryFile) unwatchFile(inventoryFile);
      const startedAt = Date.now();
      await Promise.all([engines.stop(), campaigns.stop()]);
      logger.info({ tookMs: Date.now() - startedAt }, 'detector stages stopped and checkpointed');
      try {
        await producer.close();
      } finally {
        if (ownsClickhouse) await clickhouse.close();
      }
      logger.info('detector stopped');
    },
  };
}
