/**
 * cross_account_campaign: the second stage, keyed by template fingerprint. It sees one record per
 * (account, cluster, minute) from every partition's engine — through a repartition topic in the
 * pipeline, directly in replay — and fires when several accounts start sending the same new
 * cluster within the window. Clusters already in use during warm-up (shared OTP wording) are
 * established and never fire.
 */
import { deleteOldest, forgetCursor } from './bounded-map.ts';
import { cappedSeverity, type DetectConfig, type DetectConfigInput, detectConfigSchema } from './config.ts';
import { DETECTOR_VERSION, type Detection, detectionId } from './detection.ts';
import type { FingerprintObservation } from './engine/engine.ts';

interface AccountUse {
  firstMs: number;
  messages: number;
}

interface ClusterUse {
  /** Earliest observation time of the cluster (observations arrive out of order across partitions). */
  firstSeenMs: number;
  accounts: Map<string, AccountUse>;
  linkDomains: string[];
  sample: string;
  lastEmittedMs: number;
}

const MAX_ACCOUNTS_PER_CLUSTER = 256;
const MAX_CLUSTERS = 200_000;
const EVICTION_BATCH = MAX_CLUSTERS / 10;

export interface CrossAccountSnapshot {
  version: 1;
  startMs: number;
  maxTimeMs: number;
  clusters: Array<[string, Omit<ClusterUse, 'accounts'> & { accounts: Array<[string, AccountUse]> }]>;
}

export class CrossAccountStage {
  readonly config: DetectConfig;
  readonly #clusters = new Map<string, ClusterUse>();
  #startMs = Number.NaN;
  #maxTimeMs = Number.NEGATIVE_INFINITY;

  constructor(config: DetectConfigInput | DetectConfig = {}) {
    this.config = detectConfigSchema.parse(config);
  }

  process(observation: FingerprintObservation): Detection[] {
    const t = this.config.crossAccount;
    const time = observation.minuteStartMs;
    // The stream's start is the earliest observation seen, not the first to arrive: observations come
    // from every engine partition, each at its own point in event time (a backfill can deliver
    // hour 3 from one partition before hour 0 from another).
    if (Number.isNaN(this.#startMs) || time < this.#startMs) this.#startMs = time;
    if (time > this.#maxTimeMs) this.#maxTimeMs = time;
    let cluster = this.#clusters.get(observation.fingerprint);
    if (!cluster) {
      if (this.#clusters.size >= MAX_CLUSTERS) this.#evict();
      cluster = {
        firstSeenMs: time,
        accounts: new Map(),
        linkDomains: observation.linkDomains,
        sample: observation.sample,
        lastEmittedMs: Number.NEGATIVE_INFINITY,
      };
      this.#clusters.set(observation.fingerprint, cluster);
    } else if (time < cluster.firstSeenMs) cluster.firstSeenMs = time;
    let use = cluster.accounts.get(observation.accountId);
    if (!use) {
      if (cluster.accounts.size >= MAX_ACCOUNTS_PER_CLUSTER) return [];
      use = { firstMs: time, messages: 0 };
      cluster.accounts.set(observation.accountId, use);
    } else if (time < use.firstMs) use.firstMs = time;
    use.messages += observation.messages;
    // Clusters already in use during the warm-up are established (shared OTP wording). Decided at
    // each observation rather than at creation, so an out-of-order start cannot freeze the answer.
    if (cluster.firstSeenMs - this.#startMs < t.warmupMs) return [];
    if (time - cluster.lastEmittedMs < this.config.repeatAfterMs) return [];
    const active: string[] = [];
    let messages = 0;
    for (const [accountId, a] of cluster.accounts) {
      if (time - a.firstMs <= t.windowMs && a.messages >= t.minMessagesPerAccount) {
        active.push(accountId);
        messages += a.messages;
      }
    }
    if (active.length < t.minAccounts) return [];
    cluster.lastEmittedMs = time;
    active.sort();
    const windowStartMs = Math.floor((time - t.windowMs) / 60_000) * 60_000;
    const key = `fingerprint:${observation.fingerprint}`;
    return [
      {
        id: detectionId(
          'cross_account_campaign',
          '*',
          key,
          Math.floor(cluster.firstSeenMs / t.windowMs) * t.windowMs,
          t.windowMs,
        ),
        kind: 'cross_account_campaign',
        accountId: active[0] as string,
        key,
        windowStartMs,
        windowEndMs: time + 60_000,
        detectedAtMs: time + 60_000,
        observed: active.length,
        expected: 0,
        score: 2 + active.length / t.minAccounts,
        severity: cappedSeverity(
          this.config.severity,
          'cross_account_campaign',
          'critical',
          2 + active.length / t.minAccounts,
        ),
        labels: { fingerprint: observation.fingerprint, accounts: String(active.length) },
        evidence: {
          reason: `${active.length} accounts started sending the same new template within ${Math.round(t.windowMs / 60_000)} min (${messages} messages)`,
          topTemplates: [
            { fingerprint: observation.fingerprint, sample: cluster.sample, count: messages, isNew: true },
          ],
          topCountries: [],
          topPrefixes: [],
          distinctRecipients: 0,
          apiKeys: [],
          sourceIps: [],
          userAgents: [],
          linkDomains: cluster.linkDomains.map((value) => ({ value, count: messages })),
          auditEvents: [],
          estimatedCostUsd: 0,
          messagesBeforeDetection: messages,
          anomalyStartMs: cluster.firstSeenMs,
          metrics: { accounts: active.length, messages },
          accountIds: active,
          detectorVersion: DETECTOR_VERSION,
        },
      },
    ];
  }

  /**
   * Makes room when the cap is reached: clusters idle for a day go, then the oldest-created until
   * EVICTION_BATCH are free, so the scan over all clusters runs once per EVICTION_BATCH new ones
   * rather than for each (a stream of new templates, a rotating link domain, kept the stage at one
   * 200,000-cluster scan per observation).
   */
  #evict(): void {
    forgetCursor(this.#clusters);
    for (const [fingerprint, cluster] of this.#clusters) {
      let last = cluster.firstSeenMs;
      for (const a of cluster.accounts.values()) last = Math.max(last, a.firstMs);
      if (this.#maxTimeMs - last > 24 * 3_600_000) this.#clusters.delete(fingerprint);
    }
    while (this.#clusters.size > MAX_CLUSTERS - EVICTION_BATCH) deleteOldest(this.#clusters);
  }

  snapshot(): CrossAccountSnapshot {
    return {
      version: 1,
      startMs: this.#startMs,
      maxTimeMs: this.#maxTimeMs,
      clusters: [...this.#clusters].map(([k, c]) => [
        k,
        { ...c, accounts: [...c.accounts].map(([a, u]) => [a, { ...u }]) },
      ]),
    };
  }

  static restore(
    snapshot: CrossAccountSnapshot,
    config: DetectConfigInput | DetectConfig = {},
  ): CrossAccountStage {
    const stage = new CrossAccountStage(config);
    // NaN (nothing observed yet) is written by JSON as null, and must come back as NaN: null
    // would read as 0, and every cluster would count as past warm-up.
    stage.#startMs = typeof snapshot.startMs === 'number' ? snapshot.startMs : Number.NaN;
    stage.#maxTimeMs = typeof snapshot.maxTimeMs === 'number' ? snapshot.maxTimeMs : Number.NEGATIVE_INFINITY;
    for (const [k, c] of snapshot.clusters) stage.#clusters.set(k, { ...c, accounts: new Map(c.accounts) });
    return stage;
  }
}
