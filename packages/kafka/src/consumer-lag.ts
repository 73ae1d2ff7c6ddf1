/**
 * Consumer lag per partition: how many records each owned partition is behind the topic's end.
 * The position is what the service has *processed* (reported after each batch), not the committed
 * offset: the detector commits only at checkpoints, so committed lag would overstate it by up to a
 * checkpoint interval and never reach zero on an idle topic. Before a partition's first batch the
 * committed offset stands in (or the log start when the group never committed). High watermarks are
 * fetched on a timer with the admin client, so a consumer stuck on a failing sink still shows its
 * lag growing — the number an operator needs while ClickHouse is down.
 */
import type { Admin, Consumer, Kafka } from 'kafkajs';

export interface LagSample {
  topic: string;
  partition: number;
  lag: number;
}

export interface LagTrackerOptions {
  kafka: Kafka;
  consumer: Consumer;
  groupId: string;
  topics: readonly string[];
  intervalMs: number;
  /** Called with every owned partition's lag after each refresh, and with `[]` when none are owned. */
  onLag(samples: readonly LagSample[]): void;
  onError?(error: unknown): void;
}

export interface LagTracker {
  /** The next offset to process on a partition (last processed offset + 1). */
  processed(topic: string, partition: number, nextOffset: bigint | string | number): void;
  /** Refreshes now (the timer does it every interval). */
  refresh(): Promise<readonly LagSample[]>;
  stop(): Promise<void>;
}

/** Lag of one partition: records between the position and the high watermark, never negative. */
export function partitionLag(highWatermark: bigint, position: bigint | undefined, logStart: bigint): number {
  const from = position === undefined || position < logStart ? logStart : position;
  return highWatermark > from ? Number(highWatermark - from) : 0;
}

export function startLagTracker(options: LagTrackerOptions): LagTracker {
  const positions = new Map<string, bigint>();
  let owned = new Map<string, number[]>();
  const key = (topic: string, partition: number) => `${partition}\u0000${topic}`;
  options.consumer.on(options.consumer.events.GROUP_JOIN, (event) => {
    const assignment = event.payload.memberAssignment as Record<string, number[]>;
    owned = new Map(Object.entries(assignment).filter(([topic]) => options.topics.includes(topic)));
    // After a rebalance consumption restarts from the committed offsets; old positions are stale.
    positions.clear();
  });
  let admin: Admin | undefined;
  let running: Promise<readonly LagSample[]> | undefined;
  let stopped = false;

  async function refreshOnce(): Promise<readonly LagSample[]> {
    if (owned.size === 0) {
      options.onLag([]);
      return [];
    }
    if (!admin) {
      admin = options.kafka.admin();
      await admin.connect();
    }
    const samples: LagSample[] = [];
    const committed = await admin.fetchOffsets({ groupId: options.groupId, topics: [...owned.keys()] });
    const committedOf = new Map<string, bigint>();
    for (const t of committed)
      for (const p of t.partitions)
        if (Number(p.offset) >= 0) committedOf.set(key(t.topic, p.partition), BigInt(p.offset));
    for (const [topic, partitions] of owned) {
      const ends = await admin.fetchTopicOffsets(topic);
      for (const partition of partitions) {
        const end = ends.find((e) => e.partition === partition);
        if (!end) continue;
        const k = key(topic, partition);
        const position = positions.get(k) ?? committedOf.get(k);
        samples.push({ topic, partition, lag: partitionLag(BigInt(end.high), position, BigInt(end.low)) });
      }
    }
    options.onLag(samples);
    return samples;
  }

  const refresh = (): Promise<readonly LagSample[]> => {
    running ??= refreshOnce().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) refresh().catch((error: unknown) => options.onError?.(error));
  }, options.intervalMs);
  timer.unref();

  return {
    processed(topic, partition, nextOffset) {
      positions.set(key(topic, partition), BigInt(nextOffset));
    },
    refresh,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
      await admin?.disconnect();
      admin = undefined;
    },
  };
}
