/**
 * One stage of `pnpm bench`, in its own process (a fresh embedded ClickHouse engine, its own RSS):
 *
 *   consume-kafkajs      a kafkajs consumer group reading every input record, JSON-decoding each
 *   consume-platformatic the same with @platformatic/kafka (when it is installed)
 *   produce-kafkajs      produce-only: ingest's forwarded records (read from `recordsFile`) the way
 *                        ingest sends them: 500 per request, one request in flight, acks all, idempotent
 *   produce-platformatic the same with @platformatic/kafka
 *   consume-confluent    the consume stage with @confluentinc/kafka-javascript (librdkafka), when the
 *   produce-confluent    benchmark could build it (BENCH_CONFLUENT_DIR); the produce stage the same
 *   ingest               the ingest service: validate, normalise, store, forward
 *   detector             the detector service on the topic an ingest run forwarded to
 *   pipeline             ingest + detector together in one process, draining pre-produced events: the
 *                        end-to-end capacity
 *   e2e                  ingest + detector together; the parent produces live traffic and says when it stopped
 *   detector-service     the detector alone, for pipeline and e2e with `splitDetector`: reports its
 *                        metrics and RSS to the stage that started it, over IPC, until told to stop
 *
 * Arguments: the stage name and a JSON object (see StageInput). Prints one `RESULT {json}` line.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { createClickhouse, migrate, runReadOnlyQuery } from '@floodgate/clickhouse';
import { prefixedTopics } from '@floodgate/config';
import { detectorConfigSchema, startDetector } from '@floodgate/detector';
import { forwardRecords, ingestConfigSchema, ingestEnv, startIngest } from '@floodgate/ingest';
import { createKafka, DEFAULT_MAX_RECORDS_PER_REQUEST, type KeyedRecord } from '@floodgate/kafka';
import { createLogger, createRegistry, histogramTotals, type Registry } from '@floodgate/observability';

export interface StageInput {
  brokers: string;
  /** Topics holding the pre-produced input events (shared by every run). */
  inputPrefix: string;
  /** This run's own normalized/detections/observations topics. */
  runPrefix: string;
  /** The ingest run whose normalized topic a detector run reads. */
  sourcePrefix?: string;
  groupId: string;
  dataPath: string;
  /** A store's (or server's) URL: the stage then talks HTTP and never loads the embedded engine. */
  clickhouseUrl?: string;
  /**
   * Pipeline and e2e stages: the detector runs in a process of its own (the detector-service stage)
   * on `clickhouseUrl`, as the services are deployed, instead of beside ingest in this one.
   */
  splitDetector?: boolean;
  /** Records to wait for (consume and ingest stages). */
  expected: number;
  /** Produce stages: a file of `key\tvalue` lines to produce. */
  recordsFile?: string;
}

const [stage = '', json = '{}'] = process.argv.slice(2);
const input = JSON.parse(json) as StageInput;
const logger = createLogger({ service: `bench-${stage}`, level: 'error' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resident memory in MiB from /proc/self/status: all of it (VmRSS), what the process allocated
 * (RssAnon: heap, ArrayBuffers, the engine's allocations) and mapped files' pages (RssFile: code,
 * mostly the embedded engine's ~540 MB library, shared and reclaimable by the kernel).
 */
function residentMiB(): { rss: number; anon: number; file: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024, file: kib('RssFile') / 1024 };
}

/**
 * Where the anonymous resident memory sits, in MiB, from /proc/self/smaps: V8's heap as V8 counts
 * it (committed, all spaces), the brk heap (glibc's main arena), 64 MiB malloc arenas (glibc's
 * per-thread arenas: the thread pool's and the embedded engine's threads), and the other anonymous
 * mappings (V8's pages, ArrayBuffers above the mmap threshold, thread stacks) by size. Read when the
 * stage ends and at its anonymous peak, so a run that ends far above the others says where.
 */
function anonymousBreakdown(): Record<string, number> {
  const smaps = readFileSync('/proc/self/smaps', 'utf8');
  const out = {
    v8Committed: 0,
    brkHeap: 0,
    arenas: 0,
    arenaCount: 0,
    small: 0,
    medium: 0,
    large: 0,
    largest: 0,
    lazyFree: 0,
  };
  for (const block of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const head = block.slice(0, block.indexOf('\n'));
    const [range = '', , , , , name = ''] = head.split(/\s+/);
    if (name !== '' && name !== '[heap]') continue;
    const [lo = 0, hi = 0] = range.split('-').map((h) => Number.parseInt(h, 16));
    const rssMiB = Number(/^Rss:\s+(\d+)/m.exec(block)?.[1] ?? 0) / 1024;
    const sizeMiB = (hi - lo) / 2 ** 20;
    // Pages freed with MADV_FREE: counted as resident until the kernel reclaims them under pressure.
    out.lazyFree += Number(/^LazyFree:\s+(\d+)/m.exec(block)?.[1] ?? 0) / 1024;
    if (name === '[heap]') out.brkHeap += rssMiB;
    // glibc reserves each secondary arena as one 64 MiB-aligned mapping of up to 64 MiB (its
    // unused tail is a separate PROT_NONE mapping, so the used head is ≤ 64 MiB and aligned).
    else if (lo % 2 ** 26 === 0 && sizeMiB <= 64 && /^[0-9a-f]+-[0-9a-f]+ rw-p/.test(head)) {
      out.arenas += rssMiB;
      if (rssMiB > 0) out.arenaCount++;
    } else if (sizeMiB < 1) out.small += rssMiB;
    else if (sizeMiB < 64) out.medium += rssMiB;
    else out.large += rssMiB;
    out.largest = Math.max(out.largest, rssMiB);
  }
  out.v8Committed = getHeapStatistics().total_physical_size / 2 ** 20;
  for (const key of Object.keys(out) as Array<keyof typeof out>) out[key] = Math.round(out[key]);
  return out;
}

let rssMax = 0;
let anonMax = 0;
/** Set by the detector stage (smaps is too costly to read in every stage's timer). */
let trackAnonymousPeak = false;
/** The breakdown at the anonymous peak (read when the peak grows by 16 MiB or more, not every sample). */
let anonAtPeak: Record<string, number> | null = null;
let anonAtPeakMiB = 0;
function sampleResident(): void {
  const { rss, anon } = residentMiB();
  rssMax = Math.max(rssMax, rss);
  anonMax = Math.max(anonMax, anon);
  if (trackAnonymousPeak && anon >= anonAtPeakMiB + 16) {
    anonAtPeakMiB = anon;
    anonAtPeak = { anonMiB: Math.round(anon), ...anonymousBreakdown() };
  }
}
const rssTimer = setInterval(sampleResident, 250);

function result(value: Record<string, unknown>): void {
  clearInterval(rssTimer);
  sampleResident();
  console.log(
    `RESULT ${JSON.stringify({
      ...value,
      rssMaxMiB: Math.round(rssMax),
      rssAnonMaxMiB: Math.round(anonMax),
      ...(input.splitDetector ? { detectorRssMaxMiB: remote.rssMaxMiB } : {}),
    })}`,
  );
}

/**
 * The latest figures of a detector in a process of its own (splitDetector), as it last reported
 * them: metric sums by name, batch phase sums, its RSS max. Added to this process's own by `metric`
 * and `phaseSums`, so the stages read both services alike.
 */
const remote = {
  metrics: new Map<string, number>(),
  phases: new Map<string, number>(),
  rssMaxMiB: 0,
  ready: { ready: false, reason: 'not started' },
};
/** The metrics a detector-service reports (what the pipeline and e2e stages read). */
const REMOTE_METRICS = [
  'floodgate_detector_consumed_total',
  'floodgate_consumer_lag',
  'floodgate_detector_group_joins_total',
] as const;

/** Sum of `floodgate_batch_phase_seconds` per `group/phase`. */
async function phaseSums(registry: Registry): Promise<Map<string, number>> {
  const sums = new Map(remote.phases);
  for (const { labels, sum } of await histogramTotals(registry, 'floodgate_batch_phase_seconds'))
    sums.set(`${labels['group']}/${labels['phase']}`, sum);
  return sums;
}

/** ingest's INSERTs over the run (all tables): how many, and their rows (each costs the engine a part). */
async function insertSizes(registry: Registry): Promise<{ inserts: number; rows: number }> {
  let inserts = 0;
  let rows = 0;
  for (const { sum, count } of await histogramTotals(registry, 'floodgate_ingest_insert_rows')) {
    inserts += count;
    rows += sum;
  }
  return { inserts, rows };
}

async function metric(registry: Registry, name: string): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.reduce((sum, v) => sum + v.value, remote.metrics.get(name) ?? 0);
}

/** Common config of the services: the input topics of the shared set, the rest this run's. */
function topics() {
  const own = prefixedTopics(input.runPrefix);
  const source = prefixedTopics(input.sourcePrefix ?? input.runPrefix);
  const shared = prefixedTopics(input.inputPrefix);
  return {
    ...own,
    outbound: shared.outbound,
    inbound: shared.inbound,
    status: shared.status,
    feedback: shared.feedback,
    audit: shared.audit,
    normalized: source.normalized,
  };
}

const inputTopics = () => {
  const t = prefixedTopics(input.inputPrefix);
  return [t.outbound, t.inbound, t.status, t.feedback, t.audit];
};

/** A kafkajs client on the local broker, named after the stage's group. */
const stageKafka = () =>
  createKafka({ brokers: [input.brokers], clientId: input.groupId, tls: false, tlsRejectUnauthorized: true });

async function consumeKafkajs(): Promise<void> {
  const kafka = stageKafka();
  // The same fetch settings as ingest's consumer.
  const consumer = kafka.consumer({
    groupId: input.groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxWaitTimeInMs: 1_000,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: inputTopics(), fromBeginning: true });
  const meter = consumeMeter();
  await consumer.run({ eachBatch: async ({ batch }) => meter.batch(batch.messages) });
  await meter.untilExpected();
  await consumer.disconnect();
  meter.report();
}

/**
 * What a consume stage measures: every record JSON-decoded, the time from the first batch to the
 * last, and the process's CPU (all threads) over that time.
 */
function consumeMeter() {
  let count = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  let cpuUsed: NodeJS.CpuUsage = { user: 0, system: 0 };
  const started = performance.now();
  return {
    batch(messages: readonly { value: Buffer | null }[]): void {
      if (first === 0) {
        first = performance.now();
        cpuAtFirst = process.cpuUsage();
      }
      for (const message of messages) {
        JSON.parse((message.value as Buffer).toString('utf8'));
        bytes += message.value?.length ?? 0;
      }
      count += messages.length;
      last = performance.now();
      cpuUsed = process.cpuUsage(cpuAtFirst);
    },
    async untilExpected(): Promise<void> {
      while (count < input.expected) await sleep(50);
    },
    report(): void {
      result({
        events: count,
        seconds: (last - first) / 1000,
        eventsPerSecond: count / ((last - first) / 1000),
        cpuMicrosPerRecord: (cpuUsed.user + cpuUsed.system) / count,
        startupMs: first - started,
        mib: bytes / 2 ** 20,
      });
    },
  };
}

/** @platformatic/kafka, or undefined after reporting the stage skipped when it is not installed. */
async function platformatic(): Promise<typeof import('@platformatic/kafka') | undefined> {
  try {
    return await import('@platformatic/kafka');
  } catch (error) {
    result({ skipped: `@platformatic/kafka is not installed: ${(error as Error).message}` });
    return undefined;
  }
}

async function consumePlatformatic(): Promise<void> {
  const module = await platformatic();
  if (!module) return;
  const consumer = new module.Consumer({
    groupId: input.groupId,
    clientId: input.groupId,
    bootstrapBrokers: [input.brokers],
    deserializers: module.stringDeserializers,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxWaitTime: 1_000,
  });
  const started = performance.now();
  const stream = await consumer.consume({
    topics: inputTopics(),
    mode: module.MessagesStreamModes.EARLIEST,
    autocommit: true,
  });
  let count = 0;
  let first = 0;
  let last = 0;
  for await (const message of stream) {
    if (first === 0) first = performance.now();
    JSON.parse(message.value as string);
    count++;
    last = performance.now();
    if (count >= input.expected) break;
  }
  await stream.close();
  await consumer.close(true);
  result({
    events: count,
    seconds: (last - first) / 1000,
    eventsPerSecond: count / ((last - first) / 1000),
    startupMs: first - started,
  });
}

/**
 * @confluentinc/kafka-javascript's KafkaJS-compatible API, from the copy the benchmark built in
 * BENCH_CONFLUENT_DIR (see ensureConfluent in pipeline.ts), or undefined after reporting the stage
 * skipped. Typed loosely: it is not a dependency of the project.
 */
// biome-ignore lint/suspicious/noExplicitAny: loaded at run time from outside the workspace
function confluent(): any {
  const dir = process.env['BENCH_CONFLUENT_DIR'];
  try {
    if (!dir) throw new Error('not built (BENCH_CONFLUENT=0, or its build failed; see the benchmark output)');
    return createRequire(join(dir, 'package.json'))('@confluentinc/kafka-javascript').KafkaJS;
  } catch (error) {
    result({ skipped: `@confluentinc/kafka-javascript: ${(error as Error).message}` });
    return undefined;
  }
}

async function consumeConfluent(): Promise<void> {
  const KafkaJS = confluent();
  if (!KafkaJS) return;
  const consumer = new KafkaJS.Kafka({}).consumer({
    'bootstrap.servers': input.brokers,
    'client.id': input.groupId,
    'group.id': input.groupId,
    'auto.offset.reset': 'earliest',
    // ingest's fetch size; batches handed to eachBatch as large as kafkajs' (its default is 32).
    'max.partition.fetch.bytes': 4 * 1024 * 1024,
    'js.consumer.max.batch.size': 10_000,
    log_level: 3,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: inputTopics() });
  const meter = consumeMeter();
  consumer.run({
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }: { batch: { messages: { value: Buffer | null }[] } }) =>
      meter.batch(batch.messages),
  });
  await meter.untilExpected();
  await consumer.disconnect();
  meter.report();
}

async function produceConfluent(): Promise<void> {
  const KafkaJS = confluent();
  if (!KafkaJS) return;
  const records = recordsToProduce();
  const producer = new KafkaJS.Kafka({}).producer({
    'bootstrap.servers': input.brokers,
    'client.id': input.groupId,
    'enable.idempotence': true,
    acks: -1,
    // Java's murmur2 partitioning by key, as the other clients here.
    partitioner: 'murmur2_random',
    log_level: 3,
  });
  await producer.connect();
  const topic = topics().normalized;
  await timedProduce(records, (messages) => producer.send({ topic, messages }));
  await producer.disconnect();
}

/** The produce stages' records, read before the clock starts. */
function recordsToProduce(): { key: string; value: string }[] {
  const text = readFileSync(input.recordsFile ?? '', 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const tab = line.indexOf('\t');
      return { key: line.slice(0, tab), value: line.slice(tab + 1) };
    });
}

/** Partitions of the topics pipeline.ts creates (and the stages' ingest creates when missing). */
const PARTITIONS = 6;
/** Records per produce request, as ingest forwards them. */
const PRODUCE_REQUEST_RECORDS = DEFAULT_MAX_RECORDS_PER_REQUEST;

/**
 * Sends forwarded `events` as ingest does — PRODUCE_REQUEST_RECORDS events at a time, grouped into
 * records per partition (forwardRecords), one request at a time; events/s and CPU per event.
 */
async function timedProduce(
  events: { key: string; value: string }[],
  send: (chunk: KeyedRecord[]) => Promise<unknown>,
): Promise<void> {
  await send(forwardRecords(events.slice(0, 10), PARTITIONS)); // connection, metadata and producer id outside the clock
  const cpu = process.cpuUsage();
  const started = performance.now();
  let records = 0;
  for (let start = 0; start < events.length; start += PRODUCE_REQUEST_RECORDS) {
    const chunk = forwardRecords(events.slice(start, start + PRODUCE_REQUEST_RECORDS), PARTITIONS);
    records += chunk.length;
    await send(chunk);
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  result({
    events: events.length,
    records,
    seconds,
    eventsPerSecond: events.length / seconds,
    cpuMicrosPerRecord: (used.user + used.system) / events.length,
    meanValueBytes: events.reduce((sum, r) => sum + Buffer.byteLength(r.value), 0) / events.length,
  });
}

async function produceKafkajs(): Promise<void> {
  const records = recordsToProduce();
  const producer = stageKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const topic = topics().normalized;
  await timedProduce(records, (messages) => producer.send({ topic, acks: -1, messages }));
  await producer.disconnect();
}

async function producePlatformatic(): Promise<void> {
  const module = await platformatic();
  if (!module) return;
  const records = recordsToProduce();
  const producer = new module.Producer({
    clientId: input.groupId,
    bootstrapBrokers: [input.brokers],
    serializers: module.stringSerializers,
    idempotent: true,
    acks: -1,
    // Java's (and kafkajs') murmur2 partitioning by key, so accounts land where kafkajs puts them.
    partitioner: module.compatibilityPartitioner,
  });
  const topic = topics().normalized;
  await timedProduce(records, (chunk) =>
    producer.send({
      messages: chunk.map((r) => ({ topic, key: r.key, value: r.value, partition: r.partition })),
    }),
  );
  await producer.close();
}

const common = () => ({
  kafka: {
    brokers: [input.brokers],
    clientId: input.groupId,
    // KAFKA_PRODUCER_CLIENT from the environment, for A/B runs (default: the services').
    ...(process.env['KAFKA_PRODUCER_CLIENT'] ? { producerClient: process.env['KAFKA_PRODUCER_CLIENT'] } : {}),
  },
  clickhouse: { dataPath: input.dataPath, ...(input.clickhouseUrl ? { url: input.clickhouseUrl } : {}) },
  topics: topics(),
  logging: { level: 'error' },
  lagIntervalMs: 500,
});

/** Ingest's tuning variables the stages take from the environment, for A/B runs. */
const INGEST_TUNING = [
  'INGEST_PARTITION_CONCURRENCY',
  'INGEST_NORMALIZE_WORKERS',
  'INGEST_FETCH_MIN_BYTES',
  'INGEST_FETCH_MAX_WAIT_MS',
  'INGEST_STORE_LINGER_MS',
  'INGEST_STORE_BUFFER_ROWS',
] as const;

/** Those of INGEST_TUNING that are set, as config fields (default: the service's). */
const ingestTuning = (): Record<string, number> =>
  Object.fromEntries(
    INGEST_TUNING.filter((name) => process.env[name]).map((name) => [
      ingestEnv[name],
      Number(process.env[name]),
    ]),
  );

/** Waits until `consumedMetric` reached `expected` and the group's lag is 0; returns first/last progress times. */
async function waitProcessed(registry: Registry, consumedMetric: string, expected: () => number) {
  let first = 0;
  let lastChange = performance.now();
  // The last poll that saw nothing consumed: the run started after it. (Taking the first poll that
  // saw records as the start made a small run that finished within one poll last 0 s.)
  let idleAt = lastChange;
  // The event loop's use over the same span: the share of it the main thread was busy (the rest
  // it waited on the broker, the store or its own writes).
  let eluAtIdle = performance.eventLoopUtilization();
  // And the CPU spent over it: the main thread's, and the whole process's (worker threads and the
  // embedded engine's threads too).
  let threadCpuAtIdle = process.threadCpuUsage();
  let cpuAtIdle = process.cpuUsage();
  let previous = 0;
  for (;;) {
    const consumed = await metric(registry, consumedMetric);
    const now = performance.now();
    if (consumed === 0) {
      idleAt = now;
      eluAtIdle = performance.eventLoopUtilization();
      threadCpuAtIdle = process.threadCpuUsage();
      cpuAtIdle = process.cpuUsage();
    } else if (first === 0) first = idleAt;
    if (consumed !== previous) {
      lastChange = now;
      previous = consumed;
    }
    const lag = await metric(registry, 'floodgate_consumer_lag');
    // Done when every record is counted and every partition's processed position is at its end:
    // the end is now (up to ~0.6 s late, with the 500 ms lag refresh), not the last count, since
    // records are counted when their batch starts and the batches in flight still had their writes
    // to do (with 32 partitions at once, all of a small run is counted within milliseconds). Ingest's
    // rows are stored after their batch (lingering for one INSERT a second): those too must be in.
    if (
      consumed >= expected() &&
      lag === 0 &&
      (await metric(registry, 'floodgate_ingest_store_pending_rows')) === 0
    ) {
      const thread = process.threadCpuUsage(threadCpuAtIdle);
      const all = process.cpuUsage(cpuAtIdle);
      return {
        first,
        last: now,
        consumed,
        busyPercent: 100 * performance.eventLoopUtilization(eluAtIdle).utilization,
        mainThreadCpuMicrosPerEvent: (thread.user + thread.system) / consumed,
        processCpuMicrosPerEvent: (all.user + all.system) / consumed,
      };
    }
    // Nothing more arrives although records are missing: fail with what is known, not hang.
    if (now - lastChange > 60_000)
      throw new Error(
        `${consumedMetric} stalled at ${consumed} of ${expected()} for 60 s (lag ${lag}); ${JSON.stringify(await registry.getMetricsAsJSON().then((m) => m.filter((x) => x.name.startsWith('floodgate_')).map((x) => [x.name, x.values.reduce((a, v) => a + v.value, 0)])))}`,
      );
    await sleep(100);
  }
}

async function ingest(): Promise<void> {
  const clickhouseConfig = ingestConfigSchema.parse(common()).clickhouse;
  const clickhouse = await createClickhouse(clickhouseConfig);
  await migrate(clickhouse, clickhouseConfig);
  const registry = createRegistry('bench');
  const started = performance.now();
  const handle = await startIngest(
    ingestConfigSchema.parse({
      ...common(),
      ...ingestTuning(),
      groupId: input.groupId,
      partitions: PARTITIONS,
    }),
    { clickhouse, registry, logger },
  );
  const { first, last, consumed, ...cpu } = await waitProcessed(
    registry,
    'floodgate_ingest_consumed_total',
    () => input.expected,
  );
  // What the detector stage reads next: the valid events (a forwarded record may carry several).
  const forwarded = consumed - (await metric(registry, 'floodgate_ingest_invalid_total'));
  await handle.stop();
  const { rows } = await runReadOnlyQuery(
    clickhouse.client,
    `SELECT (SELECT count() FROM messages_outbound) + (SELECT count() FROM messages_inbound) + (SELECT count() FROM messages_status)
          + (SELECT count() FROM messages_feedback) + (SELECT count() FROM accounts_audit) AS n`,
  );
  await clickhouse.close();
  const seconds = (last - first) / 1000;
  const stored = Number(rows[0]?.['n']);
  result({
    events: consumed,
    forwarded,
    seconds,
    eventsPerSecond: consumed / seconds,
    rows: stored,
    rowsPerSecond: stored / seconds,
    ...cpu,
    startupMs: first - started,
  });
}

async function detector(): Promise<void> {
  const kafka = stageKafka();
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topics().normalized);
  await admin.disconnect();
  // The events ingest forwarded when it filled the topic (its records may carry several each), else
  // one per record (the memory step's).
  const expected =
    input.expected > 0 ? input.expected : offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const clickhouseConfig = detectorConfigSchema.parse(common()).clickhouse;
  const clickhouse = await createClickhouse(clickhouseConfig);
  await migrate(clickhouse, clickhouseConfig);
  const registry = createRegistry('bench');
  // The process (with its embedded engine, unless it talks to a store), migrated, before it holds
  // any detection state.
  const rssBeforeMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  trackAnonymousPeak = true;
  const started = performance.now();
  const handle = await startDetector(detectorConfigSchema.parse({ ...common(), groupId: input.groupId }), {
    clickhouse,
    registry,
    logger,
  });
  const { first, last, consumed, ...cpu } = await waitProcessed(
    registry,
    'floodgate_detector_consumed_total',
    () => expected,
  );
  const detections = await metric(registry, 'floodgate_detector_detections_total');
  const accounts = await metric(registry, 'floodgate_detector_tracked_accounts');
  const rateKeys = await metric(registry, 'floodgate_detector_tracked_rate_keys');
  const usage = process.memoryUsage();
  // What the RSS holds: the JS heap in use (live state and garbage not yet collected) and the
  // ArrayBuffers (the engine's typed-array slabs); the rest is the heap's unused pages, code and
  // the embedded engine.
  const heapUsedMiB = Math.round(usage.heapUsed / 2 ** 20);
  const arrayBuffersMiB = Math.round(usage.arrayBuffers / 2 ** 20);
  const resident = residentMiB();
  // What the embedded engine itself holds by its own account (its allocations, outside V8); with a
  // store the engine is in the store's process, not this one.
  const engineRows =
    clickhouse.mode === 'embedded'
      ? await runReadOnlyQuery(
          clickhouse.client,
          "SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'",
        )
      : { rows: [] };
  const engineMiB = Math.round(Number(engineRows.rows[0]?.['value'] ?? Number.NaN) / 2 ** 20);
  const anonymousAtEnd = anonymousBreakdown();
  // The young generation's pages (V8 grows it to 2 × --max-semi-space-size under allocation).
  const newSpaceMiB = Math.round(
    (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0) / 2 ** 20,
  );
  await handle.stop();
  await clickhouse.close();
  const seconds = (last - first) / 1000;
  result({
    events: consumed,
    seconds,
    eventsPerSecond: consumed / seconds,
    ...cpu,
    detections,
    accounts,
    rateKeys,
    rssAtEndMiB: Math.round(resident.rss),
    rssAnonAtEndMiB: Math.round(resident.anon),
    rssFileAtEndMiB: Math.round(resident.file),
    engineMiB,
    newSpaceMiB,
    heapUsedMiB,
    arrayBuffersMiB,
    rssBeforeMiB,
    anonymousAtEnd,
    anonymousAtPeak: anonAtPeak,
    startupMs: first - started,
  });
}

/**
 * Ingest and the detector: in this process on one engine, as the all-in-one runner hosts them on
 * the embedded engine, or (splitDetector) the detector in a process of its own on the store.
 */
async function startPair(config: ReturnType<typeof common>) {
  const clickhouseConfig = ingestConfigSchema.parse(config).clickhouse;
  const clickhouse = await createClickhouse(clickhouseConfig);
  await migrate(clickhouse, clickhouseConfig);
  const registry = createRegistry('bench');
  const ingestHandle = await startIngest(
    ingestConfigSchema.parse({
      ...config,
      ...ingestTuning(),
      groupId: `${input.groupId}-ingest`,
      partitions: PARTITIONS,
    }),
    { clickhouse, registry, logger },
  );
  const detectorInput = { ...config, groupId: `${input.groupId}-detector` };
  const detectorHandle = input.splitDetector
    ? startDetectorProcess(detectorInput)
    : await startDetector(detectorConfigSchema.parse(detectorInput), { clickhouse, registry, logger });
  return { clickhouse, registry, ingestHandle, detectorHandle };
}

/**
 * The detector-service stage in a child process, reporting to `remote` until stopped. Fails this
 * stage if the child exits before it is told to stop.
 */
function startDetectorProcess(config: Record<string, unknown>): {
  ready(): typeof remote.ready;
  stop(): Promise<void>;
} {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), 'detector-service', JSON.stringify(input)],
    {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, BENCH_DETECTOR_CONFIG: JSON.stringify(config) },
    },
  );
  let stopping = false;
  child.on('message', (message: DetectorReport) => {
    remote.metrics = new Map(message.metrics);
    remote.phases = new Map(message.phases);
    remote.rssMaxMiB = message.rssMaxMiB;
    remote.ready = message.ready;
  });
  child.once('exit', (code) => {
    if (stopping) return;
    console.error(`the detector process exited (${code}) before it was stopped`);
    process.exit(1);
  });
  return {
    ready: () => remote.ready,
    stop: async () => {
      stopping = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ stop: true });
      await Promise.race([exited, sleep(30_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

interface DetectorReport {
  metrics: [string, number][];
  phases: [string, number][];
  rssMaxMiB: number;
  ready: { ready: boolean; reason: string };
}

/**
 * The detector alone on the store at `clickhouseUrl` (started by startDetectorProcess): sends its
 * metrics, batch phases and RSS max every 200 ms and once more after it stopped.
 */
async function detectorService(): Promise<void> {
  const config = detectorConfigSchema.parse(JSON.parse(process.env['BENCH_DETECTOR_CONFIG'] ?? '{}'));
  const clickhouse = await createClickhouse(config.clickhouse);
  const registry = createRegistry('bench');
  const handle = await startDetector(config, { clickhouse, registry, logger });
  const report = async (): Promise<void> => {
    sampleResident();
    const message: DetectorReport = {
      metrics: await Promise.all(
        REMOTE_METRICS.map(async (name) => [name, await metric(registry, name)] as [string, number]),
      ),
      phases: [...(await phaseSums(registry))],
      rssMaxMiB: Math.round(rssMax),
      ready: handle.ready(),
    };
    await new Promise<void>((resolve) => {
      if (!process.send) resolve();
      else process.send(message, () => resolve());
    });
  };
  const timer = setInterval(() => void report(), 200);
  await new Promise<void>((resolve) => {
    process.on('message', (message: { stop?: boolean }) => {
      if (message.stop) resolve();
    });
    // The stage that started it is gone (failed, or killed for its time budget): no orphan.
    process.once('disconnect', () => process.exit(1));
  });
  process.removeAllListeners('disconnect');
  clearInterval(timer);
  await handle.stop();
  await clickhouse.close();
  await report();
  process.disconnect?.();
}

/**
 * The end-to-end capacity: ingest and the detector together in one process (as the all-in-one
 * runner runs them on the embedded engine, sharing its thread), draining `expected` pre-produced
 * events from the input topics to detections. Events per second from the first record consumed to
 * the detector's last; the loads of the end-to-end stage are fractions of this.
 */
async function pipelineCapacity(): Promise<void> {
  const { clickhouse, registry, ingestHandle, detectorHandle } = await startPair(common());
  // The detector is done when it has counted every record ingest forwarded (all but the invalid).
  // The run starts after the last poll that saw ingest consume nothing.
  let forwarded = Number.POSITIVE_INFINITY;
  let idleAt = performance.now();
  let first = 0;
  const forwardedTimer = setInterval(async () => {
    const now = performance.now();
    const consumed = await metric(registry, 'floodgate_ingest_consumed_total');
    const invalid = await metric(registry, 'floodgate_ingest_invalid_total');
    if (consumed === 0) idleAt = now;
    else if (first === 0) first = idleAt;
    if (consumed >= input.expected) forwarded = consumed - invalid;
  }, 100);
  const { last, consumed } = await waitProcessed(
    registry,
    'floodgate_detector_consumed_total',
    () => forwarded,
  ).finally(() => clearInterval(forwardedTimer));
  await Promise.all([ingestHandle.stop(), detectorHandle.stop()]);
  await clickhouse.close();
  const seconds = (last - first) / 1000;
  result({ events: input.expected, forwarded: consumed, seconds, eventsPerSecond: input.expected / seconds });
}

/**
 * Ingest + detector on this run's input topics (runPrefix): says READY, samples lag and RSS while the
 * parent produces, and after the parent's `STOP <produced>` line waits for the backlog to drain,
 * then reports detection latency (event produce time → detection row stored).
 */
async function endToEnd(): Promise<void> {
  const { clickhouse, registry, ingestHandle, detectorHandle } = await startPair({
    ...common(),
    topics: prefixedTopics(input.runPrefix),
  });
  const readySince = performance.now();
  while (!ingestHandle.ready().ready || !detectorHandle.ready().ready) {
    if (performance.now() - readySince > 120_000)
      throw new Error(
        `not ready after 120 s: ingest ${ingestHandle.ready().reason}; detector ${detectorHandle.ready().reason}`,
      );
    await sleep(100);
  }
  console.log('READY');
  const readyAt = performance.now();
  // CPU of this process (ingest, the detector, the embedded engine) from ready to drained.
  const cpuAtReady = process.cpuUsage();
  const threadCpuAtReady = process.threadCpuUsage();
  const joinsAtReady = await metric(registry, 'floodgate_detector_group_joins_total');
  const lagSeries: number[] = [];
  // Whether a stall is this thread blocked (serialising, GC) or waiting (fetch, rebalance, INSERT):
  // the event loop's delay, and what the detector consumed each second.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  // How much of that delay is garbage collection: each GC's duration (the main thread's pause).
  const gcPausesMs: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPausesMs.push(entry.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const detectorSeries: number[] = [];
  let detectorBefore = 0;
  // Seconds each group spent per batch phase, each second (where a stalled second went).
  const phaseSeries: Record<string, number>[] = [];
  let phasesBefore = await phaseSums(registry);
  const lagTimer = setInterval(() => {
    phaseSums(registry).then((sums) => {
      const second: Record<string, number> = {};
      for (const [key, sum] of sums) {
        const delta = sum - (phasesBefore.get(key) ?? 0);
        if (delta >= 0.005) second[key] = Math.round(delta * 1000) / 1000;
      }
      phasesBefore = sums;
      phaseSeries.push(second);
    });
    metric(registry, 'floodgate_consumer_lag').then((lag) => lagSeries.push(lag));
    metric(registry, 'floodgate_detector_consumed_total').then((consumed) => {
      detectorSeries.push(consumed - detectorBefore);
      detectorBefore = consumed;
    });
  }, 1_000);
  // The parent's STOP comes over the IPC channel, not stdin: the embedded engine reads the host
  // process's stdin as INSERT data (see packages/clickhouse/src/stdin-guard.ts), which is what
  // swallowed a STOP line and left drains waiting forever before.
  const produced = await new Promise<number>((resolve) => {
    process.on('message', (message: { stop?: number }) => {
      if (typeof message.stop === 'number') resolve(message.stop);
    });
  });
  const drainStarted = performance.now();
  let drainChecks = 0;
  if (process.env['BENCH_DEBUG']) console.error(`STOP received: ${produced} produced`);
  // Drained: ingest consumed everything produced and neither group lags.
  for (;;) {
    const consumed = await metric(registry, 'floodgate_ingest_consumed_total');
    const lag = await metric(registry, 'floodgate_consumer_lag');
    if (consumed >= produced && lag === 0) break;
    if (process.env['BENCH_DEBUG'] && ++drainChecks % 25 === 0)
      appendFileSync(
        join(tmpdir(), 'floodgate-bench-drain.log'),
        `${new Date().toISOString()} draining: consumed ${consumed} of ${produced}; lag ${JSON.stringify(((await registry.getSingleMetric('floodgate_consumer_lag')?.get())?.values ?? []).filter((v) => v.value > 0).map((v) => [v.labels['group'], v.labels['topic'], v.labels['partition'], v.value]))}; detector consumed ${await metric(registry, 'floodgate_detector_consumed_total')}\n`,
      );
    if (performance.now() - drainStarted > 300_000)
      throw new Error(
        `not drained 300 s after the producer stopped: ingest consumed ${consumed} of ${produced}, lag ${lag}`,
      );
    await sleep(200);
  }
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  const cpuUsed = process.cpuUsage(cpuAtReady);
  const threadCpuUsed = process.threadCpuUsage(threadCpuAtReady);
  const loadSeconds = (performance.now() - readyAt) / 1000;
  clearInterval(lagTimer);
  const phaseTotals: Record<string, number> = {};
  for (const second of phaseSeries)
    for (const [key, seconds] of Object.entries(second))
      phaseTotals[key] = Math.round(((phaseTotals[key] ?? 0) + seconds) * 1000) / 1000;
  loopDelay.disable();
  gcObserver.disconnect();
  gcPausesMs.sort((x, y) => x - y);
  await Promise.all([ingestHandle.stop(), detectorHandle.stop()]);
  // detected_at is the event time of the event that triggered the detection, which the parent set to
  // its produce time; `version` is when the row was stored (DEFAULT now64(3)).
  const { rows } = await runReadOnlyQuery(
    clickhouse.client,
    `SELECT count() AS n, quantilesExact(0.5, 0.95, 0.99)(toFloat64(dateDiff('millisecond', detected_at, version))) AS q
       FROM detections`,
  );
  // Per kind: some detections come later by design (cross-account observations close per minute),
  // which is detection semantics, not pipeline delay.
  const perKind = await runReadOnlyQuery(
    clickhouse.client,
    `SELECT kind, count() AS n, quantilesExact(0.5, 0.99)(toFloat64(dateDiff('millisecond', detected_at, version))) AS q
       FROM detections GROUP BY kind ORDER BY kind`,
  );
  // Where the delay goes: event produce time → raw row stored by ingest (the rest is forwarding and
  // detection).
  const stored = await runReadOnlyQuery(
    clickhouse.client,
    `SELECT quantilesExact(0.5, 0.95, 0.99)(toFloat64(dateDiff('millisecond', event_time, ingested_at))) AS q
       FROM messages_outbound`,
  );
  if (process.env['BENCH_DEBUG']) {
    const slow = await runReadOnlyQuery(
      clickhouse.client,
      `SELECT id, kind, key, account_id, toString(window_start) AS ws, toString(detected_at) AS da, toString(version) AS v,
              dateDiff('millisecond', detected_at, version) AS ms, severity
         FROM detections ORDER BY ms DESC LIMIT 12`,
    );
    const copies = await runReadOnlyQuery(
      clickhouse.client,
      'SELECT count() AS rows, uniqExact(id) AS ids FROM detections',
    );
    appendFileSync(
      join(tmpdir(), 'floodgate-bench-slow.log'),
      `${JSON.stringify(copies.rows)}\n${slow.rows.map((r) => JSON.stringify(r)).join('\n')}\n---\n`,
    );
  }
  await clickhouse.close();
  const q = (rows[0]?.['q'] as number[] | undefined) ?? [];
  const sq = (stored.rows[0]?.['q'] as number[] | undefined) ?? [];
  result({
    produced,
    consumed: await metric(registry, 'floodgate_ingest_consumed_total'),
    detections: Number(rows[0]?.['n'] ?? 0),
    latencyMs: { p50: q[0] ?? null, p95: q[1] ?? null, p99: q[2] ?? null },
    storedLatencyMs: { p50: sq[0] ?? null, p95: sq[1] ?? null, p99: sq[2] ?? null },
    latencyByKind: Object.fromEntries(
      perKind.rows.map((r) => {
        const kq = (r['q'] as number[] | undefined) ?? [];
        return [String(r['kind']), { n: Number(r['n']), p50: kq[0] ?? null, p99: kq[1] ?? null }];
      }),
    ),
    lagMax: Math.max(0, ...lagSeries),
    lagSeries,
    drainSeconds,
    loopDelayMs: {
      p99: Math.round(loopDelay.percentile(99) / 1e6),
      max: Math.round(loopDelay.max / 1e6),
    },
    gcPausesMs: {
      count: gcPausesMs.length,
      total: Math.round(gcPausesMs.reduce((sum, ms) => sum + ms, 0)),
      max: Math.round(gcPausesMs.at(-1) ?? 0),
      over50: gcPausesMs.filter((ms) => ms >= 50).length,
    },
    detectorSeries,
    phaseTotals,
    insertRows: await insertSizes(registry),
    cpuMicrosPerEvent: (cpuUsed.user + cpuUsed.system) / produced,
    mainThreadCpuMicrosPerEvent: (threadCpuUsed.user + threadCpuUsed.system) / produced,
    cpuCores: (cpuUsed.user + cpuUsed.system) / 1e6 / loadSeconds,
    phaseSeries,
    // Group joins after the services became ready (each stage joins once at start).
    detectorGroupJoins: (await metric(registry, 'floodgate_detector_group_joins_total')) - joinsAtReady,
  });
}

const stages: Record<string, () => Promise<void>> = {
  'consume-kafkajs': consumeKafkajs,
  'consume-platformatic': consumePlatformatic,
  'produce-kafkajs': produceKafkajs,
  'produce-platformatic': producePlatformatic,
  'consume-confluent': consumeConfluent,
  'produce-confluent': produceConfluent,
  ingest,
  detector,
  e2e: endToEnd,
  pipeline: pipelineCapacity,
  'detector-service': detectorService,
};
const run = stages[stage];
if (!run) {
  console.error(`unknown stage "${stage}" (${Object.keys(stages).join(', ')})`);
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
