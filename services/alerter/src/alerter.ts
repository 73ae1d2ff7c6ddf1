/**
 * services/alerter: detections (Kafka) and scheduled SQL rules → incidents → notifications.
 *
 * Invariant (exactly-once-ish paging): a notification is stored `pending` in the outbox before the
 * offset of the detection that caused it is committed, and is delivered only from the outbox. A
 * crash before the write re-reads the detection (same deterministic ids); a crash after it finds
 * the pending row at start and delivers it once; an open incident is restored from `alerts` and
 * never triggered again.
 */
import { type Clickhouse, serviceClickhouse } from '@floodgate/clickhouse';
import type { Detection } from '@floodgate/detect';
import {
  createKafka,
  type EachBatchPayload,
  ensureTopics,
  restartingConsumerRetry,
  retrySink,
  startLagTracker,
} from '@floodgate/kafka';
import {
  Counter,
  consumerLagReporter,
  createLogger,
  createRegistry,
  Gauge,
  type Logger,
  type Registry,
} from '@floodgate/observability';
import type { AlerterConfig } from './config.ts';
import { detectionInstance } from './detection-instance.ts';
import { loadIncidentActions } from './incidents/actions.ts';
import { type Changes, IncidentBook } from './incidents/book.ts';
import type { Incident, IncidentAction, NotificationRecord } from './incidents/incident.ts';
import { AlertStore } from './incidents/store.ts';
import { DeliveryAborted, deliver } from './notify/deliver.ts';
import { createRenderer } from './notify/render.ts';
import { loadRules, type RuleSet, type SqlRule } from './rules/load.ts';
import { groupKeyOf, matchesDetection } from './rules/match.ts';
import { listSilences, type Silence } from './silences/silences.ts';
import { evaluateSqlRule } from './sql-rules.ts';

export interface AlerterDependencies {
  clickhouse?: Clickhouse;
  logger?: Logger;
  registry?: Registry;
  /** Rules already loaded; default: config.rulesFile, secrets from `env`. */
  rules?: RuleSet;
  env?: NodeJS.ProcessEnv;
}

export interface AlerterHandle {
  readonly registry: Registry;
  ready(): { ready: boolean; reason: string };
  /** Detection records consumed so far by this instance. */
  consumed(): number;
  /** Open incidents as this instance holds them (copies). */
  openIncidents(): Incident[];
  /** Re-reads silences now instead of at the next refresh. */
  refreshSilences(): Promise<void>;
  /** Reads and applies people's actions (acknowledge, resolve) now instead of at the next refresh. */
  refreshActions(): Promise<void>;
  stop(): Promise<void>;
  /**
   * What a SIGKILL does: drops in-flight deliveries and leaves the group without committing or
   * writing anything more. For fault-injection tests of the outbox.
   */
  abort(): Promise<void>;
}

function isDetection(value: unknown): value is Detection {
  const d = value as Partial<Detection> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.id === 'string' &&
    typeof d.kind === 'string' &&
    typeof d.accountId === 'string' &&
    typeof d.severity === 'string' &&
    typeof d.evidence === 'object' &&
    d.evidence !== null
  );
}

export async function startAlerter(
  config: AlerterConfig,
  deps: AlerterDependencies = {},
): Promise<AlerterHandle> {
  const logger = deps.logger ?? createLogger({ service: 'alerter', level: config.logging.level });
  const rules = deps.rules ?? loadRules(config.rulesFile, { env: deps.env ?? process.env });
  const registry = deps.registry ?? createRegistry('alerter');
  const consumedTotal = new Counter({
    name: 'floodgate_alerter_detections_total',
    help: 'Detections consumed, by whether any rule matched',
    labelNames: ['matched'],
    registers: [registry],
  });
  const notificationsTotal = new Counter({
    name: 'floodgate_alerter_notifications_total',
    help: 'Notifications by receiver, action and final status (pending = queued)',
    labelNames: ['receiver', 'action', 'status'],
    registers: [registry],
  });
  const sqlErrorsTotal = new Counter({
    name: 'floodgate_alerter_sql_rule_errors_total',
    help: 'Failed evaluations of SQL threshold rules',
    labelNames: ['rule'],
    registers: [registry],
  });
  const openGauge = new Gauge({
    name: 'floodgate_alerter_open_incidents',
    help: 'Incidents pending or firing',
    registers: [registry],
  });
  const outboxGauge = new Gauge({
    name: 'floodgate_alerter_outbox_pending',
    help: 'Notifications stored and not yet delivered or failed',
    registers: [registry],
  });

  const { clickhouse, owned: ownsClickhouse } = await serviceClickhouse(
    config.clickhouse,
    deps.clickhouse,
    logger,
  );
  const store = new AlertStore(clickhouse);

  let silences: Silence[] = await listSilences(clickhouse);
  let silencesReadAtMs = Date.now();
  const book = new IncidentBook(rules, createRenderer(rules, config.publicBaseUrl), () => silences);
  const restored = await store.loadOpenIncidents();
  book.restore(restored, Date.now(), new Set(rules.receivers.keys()));

  let stopping = false;
  let aborted = false;
  let degraded = '';
  let assigned = false;
  let consumed = 0;
  const deliveries = new AbortController();

  const retry = <T>(what: string, action: () => Promise<T>, payload?: EachBatchPayload): Promise<T> =>
    retrySink(what, action, {
      ...config.retry,
      shouldStop: () =>
        stopping || aborted || (payload !== undefined && (!payload.isRunning() || payload.isStale())),
      ...(payload ? { heartbeat: () => payload.heartbeat() } : {}),
      onFailure: (failing, attempt, delayMs, error) => {
        degraded = `${failing} failing: ${(error as Error).message}`;
        logger.warn({ what: failing, attempt, delayMs, err: error }, 'ClickHouse write failed; retrying');
      },
      onSuccess: () => {
        degraded = '';
      },
    });

  // Book changes and their storage happen one at a time (consumer batches and ticks interleave).
  let exclusiveChain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = exclusiveChain.then(work, work);
    exclusiveChain = run.catch(() => undefined);
    return run;
  };

  // --- delivery from the outbox ----------------------------------------------------------------
  const chains = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  let pendingCount = 0;
  let running = 0;
  const waiting: (() => void)[] = [];
  const acquire = async (): Promise<void> => {
    if (running < config.delivery.concurrency) {
      running++;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  const gate = { acquire, release };

  async function runDelivery(record: NotificationRecord): Promise<void> {
    const receiver = rules.receivers.get(record.receiver);
    let result: { status: 'delivered' | 'failed'; attempts: number; reason: string };
    if (!receiver) result = { status: 'failed', attempts: 0, reason: 'receiver is no longer configured' };
    else
      result = await deliver(
        receiver,
        record,
        config.delivery,
        deliveries.signal,
        (attempt, delayMs, reason) =>
          logger.warn(
            {
              receiver: record.receiver,
              action: record.action,
              incident: record.incidentId,
              attempt,
              delayMs,
              reason,
            },
            'delivery failed; retrying',
          ),
        gate,
      );
    if (aborted) return;
    const final: NotificationRecord = {
      ...record,
      status: result.status,
      attempts: result.attempts,
      reason: result.reason,
      deliveredAtMs: result.status === 'delivered' ? Date.now() : null,
    };
    await retry('notification status', () => store.markNotification(final));
    notificationsTotal.inc({ receiver: record.receiver, action: record.action, status: result.status });
    const fields = {
      receiver: record.receiver,
      action: record.action,
      incident: record.incidentId,
      notification: record.id,
      attempts: result.attempts,
    };
    if (result.status === 'delivered') logger.info(fields, 'notification delivered');
    else logger.warn({ ...fields, reason: result.reason }, 'notification failed');
  }

  /** Deliveries to one receiver about one incident stay in order (a resolve never overtakes its trigger). */
  function enqueue(record: NotificationRecord): void {
    if (record.status !== 'pending' || aborted) return;
    pendingCount++;
    outboxGauge.set(pendingCount);
    const key = `${record.incidentId}\u0000${record.receiver}`;
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => (deliveries.signal.aborted ? undefined : runDelivery(record)))
      .catch((error: unknown) => {
        if (!(error instanceof DeliveryAborted) && !aborted && !stopping)
          logger.error({ err: error, notification: record.id }, 'delivery bookkeeping failed; left pending');
      })
      .finally(() => {
        pendingCount--;
        outboxGauge.set(pendingCount);
        inFlight.delete(next);
        if (chains.get(key) === next) chains.delete(key);
      });
    chains.set(key, next);
    inFlight.add(next);
  }

  async function persist(changes: Changes, payload?: EachBatchPayload): Promise<void> {
    if (
      changes.incidents.length === 0 &&
      changes.notifications.length === 0 &&
      changes.transitions.length === 0
    )
      return;
    if (aborted) throw new DeliveryAborted();
    const fresh = await retry('alert state write', () => store.write(changes), payload);
    for (const n of fresh) {
      if (n.status !== 'pending')
        notificationsTotal.inc({ receiver: n.receiver, action: n.action, status: n.status });
      if (n.status === 'silenced' || n.status === 'shadow')
        logger.info(
          { receiver: n.receiver, action: n.action, incident: n.incidentId, status: n.status },
          'notification recorded, not sent',
        );
    }
    for (const incident of changes.incidents)
      if (
        incident.state === 'firing' &&
        incident.firedAtMs !== null &&
        changes.transitions.some((t) => t.incidentId === incident.id && t.to === 'firing')
      )
        logger.info(
          {
            incident: incident.id,
            rule: incident.rule,
            group: incident.groupKey,
            severity: incident.severity,
            mode: incident.mode,
          },
          'incident firing',
        );
    for (const n of fresh) enqueue(n);
    openGauge.set(book.openIncidents().length);
  }

  const pending = await store.loadPendingNotifications();
  if (restored.length > 0 || pending.length > 0)
    logger.info(
      { openIncidents: restored.length, pendingNotifications: pending.length },
      'restored alerting state',
    );
  for (const record of pending) enqueue(record);
  await persist(book.drain()); // resolves of incidents whose rule is gone
  openGauge.set(book.openIncidents().length);

  // --- detections from Kafka -------------------------------------------------------------------
  const detectionRules = rules.rules.filter((r) => r.type === 'detection');
  const kafka = createKafka(config.kafka, logger);
  const consumer = kafka.consumer({
    groupId: config.groupId,
    // A stop waits for the fetch in flight: a short long-poll keeps SIGTERM well inside 10 s.
    maxWaitTimeInMs: 1_000,
    retry: restartingConsumerRetry((error) => logger.error({ err: error }, 'consumer failed; restarting')),
  });
  // Started before ingest on a new cluster, the alerter would find no detections topic and exit;
  // it creates it as ingest would (6 partitions, ingest's default) — ingest then finds it there.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic: config.topics.detections, partitions: 6 }]);
  } finally {
    await admin.disconnect();
  }
  await consumer.connect();
  await consumer.subscribe({ topics: [config.topics.detections], fromBeginning: config.fromBeginning });
  const lag = startLagTracker({
    kafka,
    consumer,
    groupId: config.groupId,
    topics: [config.topics.detections],
    intervalMs: config.lagIntervalMs,
    onLag: consumerLagReporter(registry, config.groupId),
    onError: (error) => logger.warn({ err: error }, 'consumer lag refresh failed'),
  });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assigned = Object.keys(event.payload.memberAssignment).length > 0;
  });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (batch.messages.length === 0 || aborted) return;
      await exclusive(async () => {
        const nowMs = Date.now();
        for (const message of batch.messages) {
          consumed++;
          let detection: unknown;
          try {
            detection = JSON.parse(message.value?.toString('utf8') ?? 'null');
          } catch {
            detection = undefined;
          }
          if (!isDetection(detection)) {
            logger.warn(
              { partition: batch.partition, offset: message.offset },
              'skipping a record that is not a detection',
            );
            continue;
          }
          let matched = false;
          try {
            for (const rule of detectionRules) {
              if (!matchesDetection(rule, detection)) continue;
              matched = true;
              book.observe(rule, detectionInstance(rule, detection), nowMs, detection.id);
            }
          } catch (error) {
            // One malformed detection must not stop the partition (it would be re-read forever).
            logger.error(
              { partition: batch.partition, offset: message.offset, detection: detection.id, err: error },
              'skipping a detection that could not be evaluated',
            );
          }
          consumedTotal.inc({ matched: String(matched) });
        }
        await persist(book.drain(), payload);
      });
      if (aborted) return;
      lag.processed(batch.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
      payload.resolveOffset(batch.lastOffset());
      // Committed only now: whatever the batch produced is in ClickHouse (outbox included).
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) },
      ]);
      await payload.heartbeat();
    },
  });

  // --- time: ticks, silences, SQL rules, Alertmanager re-sends ---------------------------------
  const sqlRules = rules.rules.filter((r): r is SqlRule => r.type === 'sql');
  const nextSqlRunMs = new Map<string, number>(sqlRules.map((r) => [r.name, 0]));
  const lastResendMs = new Map<string, number>();
  const renderResend = createRenderer(rules, config.publicBaseUrl);

  async function refreshSilences(): Promise<void> {
    silences = await listSilences(clickhouse);
    silencesReadAtMs = Date.now();
  }

  // People's actions on the open incidents this instance holds; each applied once (see IncidentBook).
  let actionsReadAtMs = 0;
  async function readActions(): Promise<IncidentAction[]> {
    actionsReadAtMs = Date.now();
    try {
      return await loadIncidentActions(
        clickhouse,
        book.openIncidents().map((i) => i.id),
      );
    } catch (error) {
      logger.warn({ err: error }, 'reading incident actions failed; retrying at the next refresh');
      return [];
    }
  }
  function applyActions(actions: readonly IncidentAction[], nowMs: number): void {
    for (const action of actions) {
      const outcome = book.applyAction(action, nowMs);
      if (outcome === 'applied' || outcome === 'unchanged')
        logger.info(
          { incident: action.incidentId, action: action.action, actor: action.actor, outcome },
          'incident action applied',
        );
    }
  }
  async function refreshActions(): Promise<void> {
    const actions = await readActions();
    await exclusive(async () => {
      applyActions(actions, Date.now());
      await persist(book.drain());
    });
  }

  function resendToAlertmanager(nowMs: number): void {
    for (const incident of book.openIncidents()) {
      if (incident.state !== 'firing' || incident.silencedBy || incident.mode !== 'live') continue;
      for (const name of incident.notified) {
        const receiver = rules.receivers.get(name);
        if (receiver?.type !== 'alertmanager') continue;
        const key = `${incident.id}\u0000${name}`;
        const last = lastResendMs.get(key);
        if (last === undefined) {
          lastResendMs.set(key, nowMs); // the trigger itself went through the outbox
          continue;
        }
        if (nowMs - last < receiver.resendIntervalMs || chains.has(key)) continue;
        lastResendMs.set(key, nowMs);
        const payload = renderResend(name, 'update', incident, nowMs).payload;
        // Re-sends are idempotent for Alertmanager and not recorded: a lost one is replaced by the next.
        deliver(
          receiver,
          { id: `${incident.id}-resend-${nowMs}`, action: 'update', payload },
          { ...config.delivery, maxAttempts: 2 },
          deliveries.signal,
          undefined,
          gate,
        )
          .then((result) => {
            if (result.status === 'failed')
              logger.warn(
                { receiver: name, incident: incident.id, reason: result.reason },
                'Alertmanager re-send failed',
              );
          })
          .catch(() => undefined);
      }
    }
    for (const key of lastResendMs.keys())
      if (!book.openIncidents().some((i) => key.startsWith(`${i.id}\u0000`))) lastResendMs.delete(key);
  }

  let ticking = false;
  async function tick(): Promise<void> {
    if (ticking || stopping || aborted) return;
    ticking = true;
    try {
      const nowMs = Date.now();
      if (nowMs - silencesReadAtMs >= config.silenceRefreshMs) await refreshSilences();
      const actions = nowMs - actionsReadAtMs >= config.actionRefreshMs ? await readActions() : [];
      const results: { rule: SqlRule; instances: Awaited<ReturnType<typeof evaluateSqlRule>> }[] = [];
      for (const rule of sqlRules) {
        if (nowMs < (nextSqlRunMs.get(rule.name) ?? 0)) continue;
        nextSqlRunMs.set(rule.name, nowMs + rule.everyMs);
        try {
          results.push({ rule, instances: await evaluateSqlRule(clickhouse, rule) });
        } catch (error) {
          sqlErrorsTotal.inc({ rule: rule.name });
          logger.warn(
            { rule: rule.name, err: error },
            'SQL rule evaluation failed; its incidents are left as they are',
          );
        }
      }
      await exclusive(async () => {
        const evaluatedAtMs = Date.now();
        applyActions(actions, evaluatedAtMs);
        for (const { rule, instances } of results) {
          const present = new Set<string>();
          for (const instance of instances) {
            present.add(groupKeyOf(rule.groupBy, instance.labels));
            book.observe(rule, instance, evaluatedAtMs, String(evaluatedAtMs));
          }
          book.markAbsent(rule, present, evaluatedAtMs);
        }
        book.tick(evaluatedAtMs);
        await persist(book.drain());
        resendToAlertmanager(evaluatedAtMs);
      });
    } catch (error) {
      if (!stopping && !aborted) logger.error({ err: error }, 'alert evaluation failed');
    } finally {
      ticking = false;
    }
  }
  const ticker = setInterval(() => void tick(), config.evaluationIntervalMs);
  ticker.unref();
  logger.info(
    {
      topic: config.topics.detections,
      groupId: config.groupId,
      rules: rules.rules.length,
      receivers: rules.receivers.size,
    },
    'alerter running',
  );

  return {
    registry,
    consumed: () => consumed,
    openIncidents: () => book.openIncidents().map((i) => structuredClone(i)),
    refreshSilences,
    refreshActions,
    ready: () => {
      if (degraded) return { ready: false, reason: `degraded: ${degraded}` };
      return assigned
        ? { ready: true, reason: 'ready' }
        : { ready: false, reason: 'waiting for partition assignment' };
    },
    abort: async () => {
      aborted = true;
      stopping = true;
      clearInterval(ticker);
      deliveries.abort();
      await lag.stop();
      await consumer.disconnect();
      await Promise.allSettled([...inFlight]);
      if (ownsClickhouse) await clickhouse.close();
    },
    stop: async () => {
      stopping = true;
      clearInterval(ticker);
      await lag.stop();
      await consumer.stop();
      await consumer.disconnect();
      await exclusiveChain;
      // Give in-flight deliveries a moment; whatever is left stays pending and is sent after a restart.
      const drained = Promise.allSettled([...inFlight]);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        drained,
        new Promise((resolve) => (timer = setTimeout(resolve, config.delivery.drainMs))),
      ]);
      clearTimeout(timer);
      deliveries.abort();
      await Promise.allSettled([...inFlight]);
      if (ownsClickhouse) await clickhouse.close();
      logger.info('alerter stopped');
    },
  };
}
