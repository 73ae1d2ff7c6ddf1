/**
 * services/detector: one detection engine per assigned partition of `traffic.normalized`. Each
 * partition's engine state is checkpointed to ClickHouse with the offset it covers, and the Kafka
 * offset is committed only after that checkpoint is stored: a restarted or reassigned detector
 * restores the state and skips what the state already holds, so baselines survive restarts and
 * replayed records re-emit the same detection ids (the sink deduplicates by id).
 */
import { readFileSync } from 'node:fs';
import { type Clickhouse, createClickhouse, migrate } from '@floodgate/clickhouse';
import {
  type Detection,
  DetectionEngine,
  type EngineSnapshot,
  type NormalizedEvent,
} from '@floodgate/detect';
import { createKafka, type EachBatchPayload, restartingConsumerRetry, retrySink } from '@floodgate/kafka';
import {
  Counter,
  createLogger,
  createRegistry,
  Gauge,
  type Logger,
  type Registry,
} from '@floodgate/observability';
import { type ApiKeyInventoryEntry, apiKeyInventorySchema } from '@floodgate/schema';
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
  /** Records processed so far by this instance. */
  processed(): number;
  stop(): Promise<void>;
  /**
   * Drops everything not yet checkpointed and leaves the group without committing — what a SIGKILL
   * does to the process. For fault-injection tests of the restore path.
   */
  abort(): Promise<void>;
}

interface PartitionState {
  engine: DetectionEngine;
  /** Offset of the next record the engine has not seen. */
  nextOffset: bigint;
  checkpointedOffset: bigint;
  lastCheckpointMs: number;
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
  const checkpointAge = new Gauge({
    name: 'floodgate_detector_checkpoint_age_seconds',
    help: 'Age of the oldest partition checkpoint',
    registers: [registry],
  });

  const ownsClickhouse = !deps.clickhouse;
  const clickhouse = deps.clickhouse ?? (await createClickhouse(config.clickhouse));
  if (ownsClickhouse) await migrate(clickhouse, config.clickhouse);
  const inventory: ApiKeyInventoryEntry[] = config.inventoryFile
    ? apiKeyInventorySchema.parse(JSON.parse(readFileSync(config.inventoryFile, 'utf8')))
    : [];

  const kafka = createKafka(config.kafka, logger);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: config.groupId,
    retry: restartingConsumerRetry((error) => logger.error({ err: error }, 'consumer failed; restarting')),
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.topics.normalized], fromBeginning: true });

  const partitions = new Map<number, PartitionState>();
  let processedCount = 0;
  let assigned = false;
  let degraded = '';
  let stopping = false;
  let aborted = false;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assigned = Object.keys(event.payload.memberAssignment).length > 0;
    // Partitions may move on a rebalance: forget engines so the new owner's checkpoint is reloaded.
    partitions.clear();
  });

  function withRetry<T>(
    what: string,
    payload: EachBatchPayload | undefined,
    action: () => Promise<T>,
  ): Promise<T> {
    return retrySink(what, action, {
      ...config.retry,
      shouldStop: () => stopping || (payload !== undefined && (!payload.isRunning() || payload.isStale())),
      ...(payload ? { heartbeat: () => payload.heartbeat() } : {}),
      onFailure: (failing, attempt, delayMs, error) => {
        degraded = `${failing} failing: ${(error as Error).message}`;
        logger.warn({ what: failing, attempt, delayMs, err: error }, 'sink failed; retrying');
      },
      onSuccess: () => {
        degraded = '';
      },
    });
  }

  async function loadPartition(partition: number, firstOffset: bigint): Promise<PartitionState> {
    const rows = await withRetry('checkpoint load', undefined, async () =>
      (
        await clickhouse.client.query({
          query: `SELECT next_offset, state FROM detector_checkpoints FINAL
                  WHERE group_id = {group:String} AND topic = {topic:String} AND partition = {partition:UInt32}`,
          query_params: { group: config.groupId, topic: config.topics.normalized, partition },
          format: 'JSONEachRow',
        })
      ).json<{ next_offset: string | number; state: string }>(),
    );
    const row = rows[0];
    if (row) {
      const engine = DetectionEngine.restore(JSON.parse(row.state) as EngineSnapshot, {
        config: config.detect,
        inventory,
      });
      const nextOffset = BigInt(row.next_offset);
      logger.info({ partition, nextOffset: String(nextOffset) }, 'restored partition from checkpoint');
      return { engine, nextOffset, checkpointedOffset: nextOffset, lastCheckpointMs: Date.now() };
    }
    return {
      engine: new DetectionEngine({ config: config.detect, inventory }),
      nextOffset: firstOffset,
      checkpointedOffset: firstOffset,
      lastCheckpointMs: Date.now(),
    };
  }

  async function checkpoint(
    partition: number,
    state: PartitionState,
    payload?: EachBatchPayload,
    commit = true,
  ): Promise<void> {
    if (aborted || state.nextOffset === state.checkpointedOffset) return;
    const snapshot = JSON.stringify(state.engine.snapshot());
    const nextOffset = state.nextOffset;
    await withRetry('checkpoint write', payload, () =>
      clickhouse.client.insert({
        table: 'detector_checkpoints',
        values: [
          {
            group_id: config.groupId,
            topic: config.topics.normalized,
            partition,
            next_offset: String(nextOffset),
            state: snapshot,
          },
        ],
        format: 'JSONEachRow',
      }),
    );
    state.checkpointedOffset = nextOffset;
    state.lastCheckpointMs = Date.now();
    // The committed offset never runs ahead of the stored state. (After the consumer stopped the
    // checkpoint alone is enough: a restart skips records below its offset.)
    if (commit)
      await consumer.commitOffsets([
        { topic: config.topics.normalized, partition, offset: String(nextOffset) },
      ]);
  }

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (batch.messages.length === 0) return;
      let state = partitions.get(batch.partition);
      if (!state) {
        state = await loadPartition(batch.partition, BigInt(batch.firstOffset() ?? 0));
        partitions.set(batch.partition, state);
      }
      const detections: Detection[] = [];
      for (const message of batch.messages) {
        const offset = BigInt(message.offset ?? 0);
        if (offset < state.nextOffset) continue; // already inside the restored state
        consumedTotal.inc();
        processedCount++;
        if (message.value) {
          const event = JSON.parse(message.value.toString('utf8')) as NormalizedEvent;
          for (const detection of state.engine.process(event)) detections.push(detection);
        }
        state.nextOffset = offset + 1n;
      }
      if (aborted) return; // killed: nothing after this point happens
      if (detections.length > 0) {
        await withRetry('detections insert', payload, () =>
          clickhouse.client.insert({
            table: 'detections',
            values: detections.map(detectionRow),
            format: 'JSONEachRow',
          }),
        );
        await producer.send({
          topic: config.topics.detections,
          acks: -1,
          messages: detections.map((d) => ({ key: d.accountId, value: JSON.stringify(d) })),
        });
        for (const d of detections) detectionsTotal.inc({ kind: d.kind, severity: d.severity });
      }
      payload.resolveOffset(batch.lastOffset());
      if (Date.now() - state.lastCheckpointMs >= config.checkpointIntervalMs)
        await checkpoint(batch.partition, state, payload);
      let oldest = 0;
      for (const s of partitions.values())
        oldest = Math.max(oldest, (Date.now() - s.lastCheckpointMs) / 1000);
      checkpointAge.set(oldest);
      await payload.heartbeat();
    },
  });
  logger.info({ topic: config.topics.normalized, groupId: config.groupId }, 'detector running');

  return {
    registry,
    processed: () => processedCount,
    abort: async () => {
      stopping = true;
      aborted = true;
      partitions.clear();
      await consumer.disconnect();
      await producer.disconnect();
      if (ownsClickhouse) await clickhouse.close();
    },
    ready: () =>
      degraded
        ? { ready: false, reason: `degraded: ${degraded}` }
        : assigned
          ? { ready: true, reason: 'ready' }
          : { ready: false, reason: 'waiting for partition assignment' },
    stop: async () => {
      stopping = true;
      await consumer.stop();
      for (const [partition, state] of partitions) {
        try {
          await checkpoint(partition, state, undefined, false);
        } catch (error) {
          logger.error(
            { partition, err: error },
            'final checkpoint failed; the partition will be re-processed',
          );
        }
      }
      await consumer.disconnect();
      await producer.disconnect();
      if (ownsClickhouse) await clickhouse.close();
      logger.info('detector stopped');
    },
  };
}
