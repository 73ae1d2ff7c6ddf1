/**
 * The detection engine: normalised events in, detections out, no I/O, no clock. Time is event
 * time; the watermark (max event time − allowed lateness) decides what is too late. State is per
 * account (see account-state.ts), bounded by TTL and size caps, and can be snapshotted and restored
 * so a restarted detector continues with its baselines. The same input in the same order always
 * gives the same detections with the same ids. Rate trackers live in one slab (tracker-slab.ts);
 * whatever evicts an account, API key or country must release its tracker's slot.
 */
import { createHash } from 'node:crypto';
import type { ApiKeyInventoryEntry } from '@floodgate/schema';
import { deleteOldest, forgetCursor, LruMap } from '../bounded-map.ts';
import {
  cappedSeverity,
  type DetectConfig,
  type DetectConfigInput,
  type DetectionKind,
  detectConfigSchema,
  type Severity,
  severityRank,
  type ThresholdOverrides,
} from '../config.ts';
import { fingerprintFromHex, NearDuplicateIndex } from '../content/index.ts';
import { DETECTOR_VERSION, type Detection, detectionId } from '../detection.ts';
import type { NormalizedEvent, NormalizedOutbound } from '../normalized-event.ts';
import { checkCluster, checkNewDomain } from '../signals/content.ts';
import { checkCredential, observeAudit, type ScopeIndex } from '../signals/credential.ts';
import { checkDelivery } from '../signals/delivery.ts';
import { checkConversion, checkDestination } from '../signals/destination.ts';
import { checkOptOut, learnOptOutRate } from '../signals/opt-out.ts';
import { checkVolume } from '../signals/volume.ts';
import { BucketRing, ringGroup } from '../windows/bucket-ring.ts';
import {
  AccountState,
  ApiKeyState,
  boundedGet,
  ClusterState,
  CountryState,
  countryWords,
  DomainState,
  type RiskyAudit,
  type TrackerFactory,
} from './account-state.ts';
import { type AllowEntry, AllowLists, type AllowMatch, type AllowRecipient } from './allow-list.ts';
import type { EffectiveThresholds, EmitRequest, EngineCore } from './core.ts';
import { buildEvidence, EvidenceBuffer, type NoveltyLookup } from './evidence-buffer.ts';
import { NETWORKS } from './habit-counts.ts';
import { intern } from './intern.ts';
import { trackerWords, windowLayout } from './rate-tracker.ts';
import { compileInventory } from './scope-index.ts';
import {
  type AccountSnapshot,
  accountFromJSON,
  accountToJSON,
  type EngineSnapshot,
  READABLE_SNAPSHOT_VERSIONS,
  SNAPSHOT_VERSION,
} from './snapshot.ts';
import { TrackerSlab } from './tracker-slab.ts';

/** One account's use of a template cluster in one minute: the record the cross-account stage consumes. */
export interface FingerprintObservation {
  fingerprint: string;
  accountId: string;
  minuteStartMs: number;
  messages: number;
  firstForAccount: boolean;
  linkDomains: string[];
  sample: string;
}

export interface EngineStats {
  processed: number;
  late: number;
  detections: number;
  suppressed: number;
  evictedAccounts: number;
  evictedKeys: number;
  /** Messages (and replies) left out of detection by an exempt allow-list entry. */
  allowListed: number;
  accounts: number;
  /** Live rate-tracked keys: accounts, account × API key and account × country (the slab's slots). */
  rateKeys: number;
}

export interface EngineOptions {
  config?: DetectConfigInput | DetectConfig;
  inventory?: readonly ApiKeyInventoryEntry[];
}

const NOVELTY_MEMORY_MS = 60 * 60_000;
const SWEEP_EVERY_MS = 10 * 60_000;
const MAX_EVIDENCE_BUFFERS = 2_000;
/** Rings looked at for an idle one when an account needs a ring past the cap. */
const EVIDENCE_PROBES = 4;
const MAX_RECIPIENT_ATTRIBUTIONS = 200_000;
/** A country idle this long learns its idle minutes before its share of the account is read. */
const IDLE_SHARE_MS = 60 * 60_000;
/** A recipient attribution for an exempt message (no fingerprint or cluster id looks like it). */
const EXEMPT_SEND = '!exempt';
/**
 * How long an account remembers the API keys, countries, link domains and templates it used: what
 * makes "new" meaningful for senders whose campaigns recur daily or weekly.
 */
const HABIT_MEMORY_MS = 7 * 24 * 3_600_000;
/** Known (dropped) template clusters remembered per account, as a multiple of maxSubKeysPerAccount. */
const KNOWN_CLUSTERS_PER_SUB_KEY = 4;
const EMPTY: readonly Detection[] = Object.freeze([]);
const EVENT_KINDS: readonly NormalizedEvent['kind'][] = [
  'outbound',
  'inbound',
  'status',
  'feedback',
  'audit',
];

function exempts(entry: AllowEntry | undefined): boolean {
  return entry !== undefined && entry.mode === 'exempt';
}

export class DetectionEngine implements EngineCore {
  readonly config: DetectConfig;
  readonly factory: TrackerFactory;
  readonly #accounts = new Map<string, AccountState>();
  /** Evidence rings by account, least recently handed out (or found in use) first. */
  readonly #evidence = new LruMap<string, EvidenceBuffer>();
  /** (account, recipient) → the cluster last sent to them, least recently sent first. */
  readonly #lastFingerprint = new LruMap<string, string>();
  readonly #clusterIndex: NearDuplicateIndex<string>;
  #scope: ScopeIndex;
  #maxEventTimeMs = Number.NEGATIVE_INFINITY;
  /**
   * Max event time per event kind. Each kind arrives through its own source topic, in order per key
   * but skewed against the others whenever a consumer catches up (after an outage, on a backfill):
   * a status batch hours ahead of the outbound one must not make every outbound event "late".
   * Lateness is judged against the event's own stream, as a stream processor would per input.
   */
  readonly #maxEventTimeByKind = new Map<NormalizedEvent['kind'], number>();
  #lastSweepMs = Number.NEGATIVE_INFINITY;
  readonly #populationLog = { account: Number.NaN, apiKey: Number.NaN, country: Number.NaN };
  #out: Detection[] = [];
  #observations: FingerprintObservation[] = [];
  readonly #stats: EngineStats = {
    processed: 0,
    late: 0,
    detections: 0,
    suppressed: 0,
    evictedAccounts: 0,
    evictedKeys: 0,
    allowListed: 0,
    accounts: 0,
    rateKeys: 0,
  };
  readonly #overrideCache = new Map<string, EffectiveThresholds | null>();
  /** Thresholds of accounts and keys with no layer of their own, per country with an override. */
  readonly #countryThresholds = new Map<string, EffectiveThresholds>();
  readonly #hasAccountOverrides: boolean;
  readonly #hasOverrides: boolean;
  readonly #allow: AllowLists;
  /**
   * Event time between sweeps: ten minutes, or a quarter of the shortest idle TTL when that is
   * shorter, so short TTLs really bound the live set (and memory) instead of the sweep period.
   */
  readonly #sweepEveryMs: number;
  readonly #slabs: readonly [TrackerSlab, TrackerSlab];
  /** Set while a snapshotLines() generator is open: it reads the live state lazily. */
  #snapshotting = false;
  #digest: string | undefined;
  /** While restoring: whether the snapshot's config is this engine's (its cached thresholds hold). */
  #restoredThresholdsHold = false;
  /** While restoring: whether the snapshot carries the near-duplicate index (version 5 on). */
  #indexInSnapshot = false;

  constructor(options: EngineOptions = {}) {
    this.config = detectConfigSchema.parse(options.config ?? {});
    const layout = windowLayout(this.config.windowsMs);
    const { baselineHalfLifeMinutes: halfLife, seasonalitySlots: slots } = this.config;
    // Rate trackers of accounts and API keys share one slab, countries (whose slots also hold recent
    // recipient numbers) another; eviction releases them.
    const slab = new TrackerSlab(trackerWords(layout, slots));
    const countrySlab = new TrackerSlab(countryWords(layout, slots));
    this.#slabs = [slab, countrySlab];
    this.factory = {
      layout,
      halfLifeMinutes: halfLife,
      seasonalitySlots: slots,
      slab,
      countrySlab,
      fine: () =>
        new BucketRing(layout.fineBucketMs, layout.fineLength, [layout.shortBuckets, layout.fineLength]),
      fineGroup: (n) =>
        ringGroup(n, layout.fineBucketMs, layout.fineLength, [layout.shortBuckets, layout.fineLength]),
      coarse: () => new BucketRing(layout.coarseBucketMs, layout.coarseLength, [layout.coarseLength]),
    };
    this.#clusterIndex = new NearDuplicateIndex<string>({
      maxDistance: this.config.content.maxHammingDistance,
      capacity: 200_000,
    });
    this.#scope = compileInventory(options.inventory ?? []);
    this.#allow = new AllowLists(this.config);
    this.#hasOverrides =
      Object.keys(this.config.countryOverrides).length > 0 ||
      Object.keys(this.config.accountOverrides).length > 0 ||
      this.#allow.hasThresholdEntries;
    this.#sweepEveryMs = Math.min(
      SWEEP_EVERY_MS,
      Math.max(1_000, Math.floor(Math.min(this.config.accountIdleTtlMs, this.config.keyIdleTtlMs) / 4)),
    );
    this.#hasAccountOverrides = Object.keys(this.config.accountOverrides).length > 0;
  }

  /** Replaces the API key inventory (reloaded by the service when its file changes). */
  setInventory(inventory: readonly ApiKeyInventoryEntry[]): void {
    this.#scope = compileInventory(inventory);
  }

  /** The watermark of one event kind's stream: its max event time − allowed lateness. */
  watermarkMs(kind: NormalizedEvent['kind']): number {
    return (this.#maxEventTimeByKind.get(kind) ?? Number.NEGATIVE_INFINITY) - this.config.allowedLatenessMs;
  }

  stats(): EngineStats {
    return {
      ...this.#stats,
      accounts: this.#accounts.size,
      rateKeys: this.#slabs[0].live + this.#slabs[1].live,
    };
  }

  /**
   * Processes one event. The returned array is reused by the next call: consume it (or copy it)
   * before processing another event.
   */
  process(event: NormalizedEvent): readonly Detection[] {
    if (this.#snapshotting)
      throw new Error('the engine is being snapshotted (snapshotLines): finish or close it first');
    if (event.timeMs > this.#maxEventTimeMs) this.#maxEventTimeMs = event.timeMs;
    const kindMax = this.#maxEventTimeByKind.get(event.kind);
    if (kindMax === undefined || event.timeMs > kindMax)
      this.#maxEventTimeByKind.set(event.kind, event.timeMs);
    else if (event.timeMs < kindMax - this.config.allowedLatenessMs) {
      this.#stats.late++;
      return EMPTY;
    }
    this.#stats.processed++;
    if (this.#maxEventTimeMs - this.#lastSweepMs >= this.#sweepEveryMs) this.#sweep();
    // Most events detect nothing: setting an array's length goes through a slow path even when it
    // is already 0 (half of process's own time on the rate path, in a profile).
    if (this.#out.length !== 0) this.#out.length = 0;
    const account = this.#account(event.accountId, event.timeMs);
    switch (event.kind) {
      case 'outbound':
        this.#outbound(account, event);
        break;
      case 'inbound': {
        if (event.classification !== 'opt_out') break;
        const thresholds = this.thresholds(account, event.country, undefined, undefined, event);
        if (thresholds === null) {
          this.#stats.allowListed++;
          break;
        }
        const fingerprint = this.#lastFingerprint.get(`${event.accountId}\u0000${event.recipientKey}`);
        // A STOP to an exempt message is left out with it: its send is in no window either, so
        // counting the reply would raise the opt-out rate of the account's other messages.
        if (fingerprint === EXEMPT_SEND) {
          this.#stats.allowListed++;
          break;
        }
        const cluster = fingerprint ? account.clusters.get(fingerprint) : undefined;
        if (cluster) cluster.optOuts++;
        checkOptOut(this, account, thresholds, event.timeMs, fingerprint, cluster);
        break;
      }
      case 'status': {
        const thresholds = this.thresholds(account, event.country);
        if (thresholds) checkDelivery(this, account, thresholds, event);
        break;
      }
      case 'feedback': {
        const country = this.#countryOf(account, event.country || 'ZZ', event.timeMs);
        const thresholds = this.thresholds(account, event.country);
        if (thresholds) checkConversion(this, account, country, thresholds, event);
        break;
      }
      case 'audit':
        observeAudit(this, account, event);
        break;
    }
    return this.#out.length === 0 ? EMPTY : this.#out;
  }

  /** Cross-account observations produced since the last call (for the fingerprint-keyed stage). */
  drainObservations(): FingerprintObservation[] {
    const drained = this.#observations;
    this.#observations = [];
    return drained;
  }

  #account(accountId: string, timeMs: number): AccountState {
    let account = this.#accounts.get(accountId);
    if (account === undefined) {
      if (this.#accounts.size >= this.config.maxAccounts) {
        const oldest = deleteOldest(this.#accounts);
        if (oldest !== undefined) {
          releaseAccount(oldest[1]);
          this.#evidence.delete(oldest[0]);
          this.#stats.evictedAccounts++;
        }
      }
      account = new AccountState(accountId, this.factory, timeMs);
      account.evidence = this.#evidence.get(accountId);
      this.#accounts.set(accountId, account);
    }
    if (timeMs > account.lastSeenMs) account.lastSeenMs = timeMs;
    return account;
  }

  #outbound(account: AccountState, event: NormalizedOutbound): void {
    const config = this.config;
    const thresholds = this.thresholds(account, event.country, event.apiKeyId, event.fingerprint, event);
    if (thresholds === null) {
      // Exempt: left out of every window and baseline, so it cannot page through others' either;
      // the recipient's reply to it is left out too (see 'inbound').
      this.#stats.allowListed++;
      this.#attribute(event.accountId, event.recipientKey, EXEMPT_SEND);
      return;
    }
    const minute = Math.floor(event.timeMs / 60_000);
    if (minute > account.weightMinute) this.#accountMinute(account, minute);
    account.rate.add(event.timeMs);

    // Evidence is kept only for busy or suspicious accounts, a bounded number of them.
    // account.evidence mirrors this.#evidence.get(account.accountId), without the lookup.
    let evidence = account.evidence;
    if (evidence === undefined) {
      const suspicious = this.recentNovelty(account, event.timeMs) !== undefined;
      if (suspicious || account.rate.count(0) >= 20)
        evidence = this.#evidenceRing(account, event.timeMs, suspicious);
    }
    evidence?.push(event);

    const apiKey = this.#apiKeyOf(account, event.apiKeyId, event.timeMs);
    apiKey.lastSeenMs = Math.max(apiKey.lastSeenMs, event.timeMs);
    apiKey.messages++;
    apiKey.rate.add(event.timeMs);

    const country = this.#countryOf(account, event.country, event.timeMs);
    // A tracker learns its idle minutes at its next add: a country silent for an hour or more learns
    // them before its share is read, or a burst after two silent days is judged by the share the
    // country had two days ago (and missed).
    if (event.timeMs - country.lastSeenMs >= IDLE_SHARE_MS) country.rate.add(event.timeMs, 0);
    country.lastSeenMs = Math.max(country.lastSeenMs, event.timeMs);
    const accountMean = account.rate.baseline.mean;
    const shareBefore = accountMean > 0 ? Math.min(1, country.rate.baseline.mean / accountMean) : 1;
    country.rate.add(event.timeMs);
    if (country.rate.count(1) <= 1) country.rareAtStart = false;

    let newDomainInEvent = false;
    const linkDomains = event.linkDomains;
    for (let d = 0; d < linkDomains.length; d++) {
      const domainName = linkDomains[d] as string;
      const domain = boundedGet(
        account.mutableDomains(),
        domainName,
        config.maxSubKeysPerAccount,
        () => new DomainState(this.factory, event.timeMs, !this.isMature(account, event.timeMs)),
      );
      domain.lastSeenMs = Math.max(domain.lastSeenMs, event.timeMs);
      domain.messages++;
      domain.rate.add(event.timeMs);
      if (!domain.established && event.timeMs - domain.firstSeenMs <= config.content.newClusterMaxAgeMs)
        newDomainInEvent = true;
    }
    if (newDomainInEvent)
      this.noteNovelty(
        account,
        event.timeMs,
        `link domain ${event.linkDomains.join(', ')} new for the account`,
      );

    let cluster: ClusterState | undefined;
    if (event.fingerprint) {
      const clusterId = this.#clusterIndex.assignCluster(
        fingerprintFromHex(event.fingerprint),
        event.fingerprint,
      ).clusterId;
      cluster = account.clusters.get(clusterId) ?? this.#newCluster(account, clusterId, event);
      cluster.lastSeenMs = Math.max(cluster.lastSeenMs, event.timeMs);
      cluster.messages++;
      cluster.rate.add(event.timeMs);
      this.#observe(account, cluster, event, minute);
      this.#attribute(account.accountId, event.recipientKey, clusterId);
    }

    // Credential first: its novelty marks corroborate the volume and content signals below.
    checkCredential(this, account, apiKey, thresholds, this.#scope, event);
    checkDestination(this, account, country, thresholds, event, shareBefore);
    for (let d = 0; d < linkDomains.length; d++) {
      const domainName = linkDomains[d] as string;
      const domain = account.domains.get(domainName);
      if (domain) checkNewDomain(this, account, domainName, domain, thresholds, event);
    }
    if (cluster) checkCluster(this, account, cluster, thresholds, event, newDomainInEvent);
    checkVolume(this, account, account.rate, 'account', thresholds, event);
    checkVolume(this, account, apiKey.rate, 'apiKey', thresholds, event);
    checkVolume(this, account, country.rate, 'country', thresholds, event);
  }

  /** Remembers what the account last sent the recipient: a template cluster, or an exempt message. */
  #attribute(accountId: string, recipientKey: string, sent: string): void {
    if (this.#lastFingerprint.size >= MAX_RECIPIENT_ATTRIBUTIONS) this.#lastFingerprint.deleteOldest();
    this.#lastFingerprint.set(`${accountId}\u0000${recipientKey}`, sent);
  }

  /**
   * State for a cluster the account is not tracking: past the cap the oldest-inserted one is
   * dropped (and remembered as known); a cluster the account used before keeps its first sighting,
   * so it is not new.
   */
  #newCluster(account: AccountState, clusterId: string, event: NormalizedOutbound): ClusterState {
    const clusters = account.mutableClusters();
    if (clusters.size >= this.config.maxSubKeysPerAccount) {
      const oldest = deleteOldest(clusters);
      if (oldest !== undefined) this.#dropCluster(account, oldest[0], oldest[1]);
    }
    const known = account.takeKnownCluster(clusterId);
    const cluster = new ClusterState(
      this.factory,
      clusterId,
      known?.firstSeenMs ?? event.timeMs,
      event.maskedBody,
    );
    cluster.lastSeenMs = event.timeMs;
    cluster.countsSinceMs = event.timeMs;
    clusters.set(clusterId, cluster);
    return cluster;
  }

  /** Drops a cluster's state, remembering that the account used it (see AccountState.rememberCluster). */
  #dropCluster(account: AccountState, id: string, cluster: ClusterState): void {
    this.#flushObservation(account, cluster);
    account.mutableClusters().delete(id);
    account.rememberCluster(id, cluster, this.config.maxSubKeysPerAccount * KNOWN_CLUSTERS_PER_SUB_KEY);
  }

  /**
   * A ring for the account's evidence, or undefined when all MAX_EVIDENCE_BUFFERS are taken by
   * accounts still sending. Past the cap a ring comes from an account idle for a short window (a
   * few looked at, the one handed out or last found in use longest ago first); a suspicious account
   * takes the last one looked at even from a busy account. Handing rings round in insertion order,
   * as the engine once did, left every ring near-empty once more accounts than the cap were busy at
   * once (measured: 3,000 busy accounts, a median of 1 message per ring, `BENCH_ONLY=evidence pnpm
   * bench:detect`).
   */
  #evidenceRing(account: AccountState, timeMs: number, suspicious: boolean): EvidenceBuffer | undefined {
    let buffer: EvidenceBuffer | undefined;
    if (this.#evidence.size >= MAX_EVIDENCE_BUFFERS) {
      const idleBefore = timeMs - this.config.windowsMs.short;
      for (let probe = 0; probe < EVIDENCE_PROBES && buffer === undefined; probe++) {
        const oldest = this.#evidence.oldestKey();
        if (oldest === undefined) break;
        const candidate = this.#evidence.get(oldest) as EvidenceBuffer;
        if (candidate.lastUsedMs < idleBefore || (suspicious && probe === EVIDENCE_PROBES - 1)) {
          this.#evidence.delete(oldest);
          const owner = this.#accounts.get(oldest);
          if (owner) owner.evidence = undefined;
          buffer = candidate.reset();
        } else {
          // Still in use: it goes to the back of the queue, and the next is looked at.
          this.#evidence.touch(oldest);
        }
      }
      if (buffer === undefined) return undefined;
    }
    buffer ??= new EvidenceBuffer();
    this.#evidence.set(account.accountId, buffer);
    account.evidence = buffer;
    return buffer;
  }

  /** The account's state for an API key, created on first use (evicting the oldest past the cap). */
  #apiKeyOf(account: AccountState, apiKeyId: string, timeMs: number): ApiKeyState {
    let apiKey = account.apiKeys.get(apiKeyId);
    if (apiKey === undefined) {
      apiKey = new ApiKeyState(this.factory, timeMs);
      if (account.apiKeys.size >= this.config.maxSubKeysPerAccount) {
        const oldest = account.apiKeys.oldest();
        if (oldest) {
          oldest[1].release();
          account.apiKeys.delete(oldest[0]);
        }
      }
      account.apiKeys.set(apiKeyId, apiKey);
    }
    return apiKey;
  }

  #countryOf(account: AccountState, country: string, timeMs: number): CountryState {
    let state = account.countries.get(country);
    if (state === undefined) {
      state = new CountryState(this.factory, timeMs);
      if (account.countries.size >= this.config.maxSubKeysPerAccount) {
        const oldest = account.countries.oldest();
        if (oldest) {
          oldest[1].release();
          account.countries.delete(oldest[0]);
        }
      }
      account.countries.set(intern(country), state);
    }
    return state;
  }

  #observe(account: AccountState, cluster: ClusterState, event: NormalizedOutbound, minute: number): void {
    if (cluster.messages === 1) {
      cluster.observationMinute = minute;
      this.#observations.push({
        fingerprint: cluster.fingerprint,
        accountId: account.accountId,
        minuteStartMs: minute * 60_000,
        messages: 1,
        firstForAccount: true,
        linkDomains: event.linkDomains,
        sample: cluster.sample,
      });
      return;
    }
    if (minute !== cluster.observationMinute) {
      this.#flushObservation(account, cluster, event.linkDomains);
      cluster.observationMinute = minute;
    }
    cluster.pendingObservation++;
  }

  /**
   * Emits a cluster's pending count (its messages of `observationMinute` after the first). #observe
   * emits it when the account sends the template in a later minute; an account that sent it in one
   * burst and stopped never does, so sweeps and drops flush it here — without it, a campaign sent
   * as one-minute bursts from many accounts reached the cross-account stage as 1 message each.
   */
  #flushObservation(account: AccountState, cluster: ClusterState, linkDomains: string[] = []): void {
    if (cluster.pendingObservation <= 0) return;
    this.#observations.push({
      fingerprint: cluster.fingerprint,
      accountId: account.accountId,
      minuteStartMs: cluster.observationMinute * 60_000,
      messages: cluster.pendingObservation,
      firstForAccount: false,
      linkDomains,
      sample: cluster.sample,
    });
    cluster.pendingObservation = 0;
  }

  #accountMinute(account: AccountState, minute: number): void {
    const previous = account.weightMinute;
    account.weightMinute = minute;
    if (previous >= 0 && Math.floor(minute / 60) !== Math.floor(previous / 60))
      learnOptOutRate(account, Math.floor(minute / 60));
    // Population priors: geometric mean of mature keys' per-minute rates, per level.
    if (account.rate.baseline.minutes >= 60) {
      this.#learnPrior('account', account.rate.baseline.mean);
      for (const apiKey of account.apiKeys.values())
        if (apiKey.rate.baseline.minutes >= 60) this.#learnPrior('apiKey', apiKey.rate.baseline.mean);
    }
  }

  #learnPrior(level: 'account' | 'apiKey' | 'country', perMinute: number): void {
    const x = Math.log(perMinute + 0.01);
    const current = this.#populationLog[level];
    this.#populationLog[level] = Number.isNaN(current) ? x : current + 0.001 * (x - current);
  }

  prior(level: 'account' | 'apiKey' | 'country'): number {
    const value = this.#populationLog[level === 'country' ? 'apiKey' : level];
    return Number.isNaN(value) ? 0 : Math.max(0, Math.exp(value) - 0.01);
  }

  isMature(account: AccountState, timeMs: number): boolean {
    return timeMs - account.firstSeenMs >= this.config.accountWarmupMs;
  }

  /**
   * The thresholds for a message of `account` (to `country`, with `apiKeyId`, of template
   * `fingerprint`, to `recipient`), or null when an allow-list entry exempts it.
   */
  thresholds(
    account: AccountState,
    country?: string,
    apiKeyId?: string,
    fingerprint?: string,
    recipient?: AllowRecipient,
  ): EffectiveThresholds | null {
    const allow = this.#allow;
    let accountAllow: AllowEntry | undefined;
    let keyAllow: AllowEntry | undefined;
    let templateAllow: AllowMatch | undefined;
    let recipientAllow: AllowMatch | undefined;
    // Most deployments have no allow-list entry: one check instead of four lookups per message.
    if (allow.any) {
      accountAllow = allow.account(account.accountId);
      keyAllow = apiKeyId ? allow.apiKey(apiKeyId) : undefined;
      templateAllow = fingerprint ? allow.template(fingerprint) : undefined;
      recipientAllow = recipient ? allow.recipient(recipient) : undefined;
      if (
        exempts(accountAllow) ||
        exempts(keyAllow) ||
        exempts(templateAllow?.entry) ||
        exempts(recipientAllow?.entry)
      )
        return null;
    }
    if (!this.#hasOverrides) return this.config;
    const accountOverrides = this.#hasAccountOverrides
      ? this.config.accountOverrides[account.accountId]
      : undefined;
    const countryLayer = country ? this.config.countryOverrides[country] : undefined;
    if (!accountOverrides && !accountAllow && !keyAllow && !templateAllow && !recipientAllow) {
      // Only the country's layer can apply (the usual configuration: per-country floors), so the
      // thresholds depend on the country alone: one entry per configured country, instead of one
      // per account, key and country that a large tenant base would churn through.
      if (!countryLayer || !country) return this.config;
      let byCountry = this.#countryThresholds.get(country);
      if (byCountry === undefined) {
        byCountry = this.#merge([countryLayer]);
        this.#countryThresholds.set(country, byCountry);
      }
      return byCountry;
    }
    // Keyed by the layers that apply, not by account and key: accounts with the same layers share
    // one entry (keyed by account, one allow-listed template's thresholds took ~80 MiB of entries).
    const accountLayer = accountOverrides !== undefined || accountAllow !== undefined;
    const cacheKey = `${countryLayer ? country : ''}\u0000${accountLayer ? account.accountId : ''}\u0000${keyAllow ? apiKeyId : ''}\u0000${templateAllow?.id ?? ''}\u0000${recipientAllow?.id ?? ''}`;
    const cached = this.#overrideCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const merged = this.#merge([
      countryLayer,
      accountOverrides,
      accountAllow?.overrides,
      keyAllow?.overrides,
      templateAllow?.entry.overrides,
      recipientAllow?.entry.overrides,
    ]);
    if (this.#overrideCache.size > 100_000) this.#overrideCache.clear();
    this.#overrideCache.set(cacheKey, merged);
    return merged;
  }

  /** The configured thresholds with `layers` applied in order (later layers win). */
  #merge(layers: readonly (ThresholdOverrides | undefined)[]): EffectiveThresholds {
    const merged: EffectiveThresholds = {
      volume: { ...this.config.volume },
      destination: { ...this.config.destination },
      content: { ...this.config.content },
      optOut: { ...this.config.optOut },
      credential: { ...this.config.credential },
      delivery: { ...this.config.delivery },
    };
    for (const layer of layers) {
      if (!layer) continue;
      Object.assign(merged.volume, layer.volume);
      Object.assign(merged.destination, layer.destination);
      Object.assign(merged.content, layer.content);
      Object.assign(merged.optOut, layer.optOut);
      Object.assign(merged.credential, layer.credential);
      Object.assign(merged.delivery, layer.delivery);
    }
    return merged;
  }

  noteNovelty(account: AccountState, timeMs: number, reason: string, apiKeyId = ''): void {
    if (!this.isMature(account, timeMs)) return;
    if (timeMs >= account.lastNoveltyMs) {
      account.lastNoveltyMs = timeMs;
      account.noveltyReason = reason;
      account.noveltyKey = apiKeyId;
    }
  }

  recentNovelty(account: AccountState, timeMs: number, apiKeyId?: string): string | undefined {
    if (timeMs - account.lastNoveltyMs > NOVELTY_MEMORY_MS) return undefined;
    // Novelty about one key corroborates only traffic sent with that key: a new server of one
    // integration says nothing about a spike on another.
    if (apiKeyId !== undefined && account.noveltyKey !== '' && account.noveltyKey !== apiKeyId)
      return undefined;
    return account.noveltyReason;
  }

  takeoverChain(account: AccountState, timeMs: number, apiKeyId?: string): RiskyAudit[] {
    if (account.riskyAudits.length === 0) return [];
    const window = this.config.credential.takeoverChainWindowMs;
    const recent = account.riskyAudits.filter((a) => timeMs - a.timeMs <= window && a.timeMs <= timeMs);
    // A chain needs a risky login and a follow-up (MFA off, a key or scope change), or a key
    // created from a new network that is the very key now sending.
    const login = recent.some((a) => a.action === 'login');
    const followUp = recent.some((a) => a.action !== 'login');
    const keyMatch =
      apiKeyId !== undefined && recent.some((a) => a.targetApiKeyId === apiKeyId && a.newNetwork);
    return (login && followUp) || keyMatch ? recent : [];
  }

  suppressRepeat(
    account: AccountState,
    kind: DetectionKind,
    key: string,
    timeMs: number,
    severity: Severity,
  ): boolean {
    const previous = account.lastEmitted.get(`${kind}\u0000${key}`);
    if (
      previous !== undefined &&
      timeMs - previous.timeMs < this.config.repeatAfterMs &&
      severityRank[severity] <= previous.rank
    ) {
      this.#stats.suppressed++;
      return true;
    }
    return false;
  }

  emit(request: EmitRequest): boolean {
    const { account, kind, key, timeMs } = request;
    const suppressionKey = `${kind}\u0000${key}`;
    const severity = cappedSeverity(this.config.severity, kind, request.severity, request.score);
    const rank = severityRank[severity];
    if (this.suppressRepeat(account, kind, key, timeMs, severity)) return false;
    account.mutableLastEmitted().set(suppressionKey, { timeMs, rank });
    const bucketMs = this.factory.layout.fineBucketMs;
    const windowEndMs = (Math.floor(timeMs / bucketMs) + 1) * bucketMs;
    const windowStartMs = windowEndMs - request.windowMs;
    // Evidence describes the detection's window: what the ring holds from before it (a campaign
    // an hour ago, another key's traffic) is not what the detection observed.
    const since = request.focus.sinceMs;
    const base = buildEvidence(
      this.#evidence.get(account.accountId),
      request.trigger,
      { ...request.focus, sinceMs: since === undefined ? windowStartMs : Math.max(since, windowStartMs) },
      this.#noveltyLookup(account, timeMs),
      this.config.pricePerSegmentUsd,
      typeof request.observed === 'number' && request.observed >= 1
        ? request.observed
        : request.messagesBeforeDetection,
    );
    const detection: Detection = {
      id: detectionId(kind, account.accountId, key, windowStartMs, request.windowMs),
      kind,
      accountId: account.accountId,
      key,
      windowStartMs,
      windowEndMs,
      detectedAtMs: timeMs,
      observed: round(request.observed),
      expected: round(request.expected),
      score: round(request.score),
      severity,
      labels: { account_id: account.accountId, ...request.labels },
      evidence: {
        reason: request.reason,
        ...base,
        auditEvents: (request.audits ?? []).map((a) => ({ ...a })),
        messagesBeforeDetection: Math.round(request.messagesBeforeDetection),
        anomalyStartMs: request.anomalyStartMs,
        metrics: Object.fromEntries(Object.entries(request.metrics).map(([k, v]) => [k, round(v)])),
        detectorVersion: DETECTOR_VERSION,
      },
    };
    this.#out.push(detection);
    this.#stats.detections++;
    return true;
  }

  #noveltyLookup(account: AccountState, timeMs: number): NoveltyLookup {
    const newSince = account.firstSeenMs + this.config.accountWarmupMs;
    const mature = this.isMature(account, timeMs);
    return {
      isNewKey: (k) => mature && (account.apiKeys.get(k)?.firstSeenMs ?? timeMs) >= newSince,
      isNewNetwork: (k, network) => mature && account.apiKeys.get(k)?.hasHabit(NETWORKS, network) === false,
      isNewDomain: (d) => account.domains.get(d)?.established === false,
      isNewCountry: (c) => {
        const country = account.countries.get(c);
        return mature && (!country || country.firstSeenMs >= newSince) && (country?.rareAtStart ?? true);
      },
      isNewTemplate: (fp) => mature && (account.clusters.get(fp)?.firstSeenMs ?? timeMs) >= newSince,
    };
  }

  /** Evicts idle accounts and idle sub-keys so memory stays bounded with millions of keys. */
  #sweep(): void {
    this.#lastSweepMs = this.#maxEventTimeMs;
    const now = this.#maxEventTimeMs;
    const nowMinute = Math.floor(now / 60_000);
    const keyTtl = this.config.keyIdleTtlMs;
    // The sweep deletes from maps that evict through deleteOldest: their iterators must go (see forgetCursor).
    forgetCursor(this.#accounts);
    for (const [accountId, account] of this.#accounts) {
      if (now - account.lastSeenMs > this.config.accountIdleTtlMs) {
        releaseAccount(account);
        this.#accounts.delete(accountId);
        this.#evidence.delete(accountId);
        this.#stats.evictedAccounts++;
        continue;
      }
      if (account.clusters.size > 0) {
        // An idle cluster's state goes; that the account used the template stays (see rememberCluster).
        const clusters = account.mutableClusters();
        for (const [id, cluster] of clusters)
          if (now - cluster.lastSeenMs > keyTtl) {
            this.#dropCluster(account, id, cluster);
            this.#stats.evictedKeys++;
          } else if (cluster.observationMinute < nowMinute) this.#flushObservation(account, cluster);
        forgetCursor(clusters);
      }
      account.forgetKnownClusters(now, Math.max(keyTtl, HABIT_MEMORY_MS));
      this.#stats.evictedKeys +=
        account.domains.size > 0
          ? evictIdle(account.mutableDomains(), now, Math.max(keyTtl, HABIT_MEMORY_MS))
          : 0;
      for (const [k, state] of account.apiKeys) {
        // Keys and countries keep their habits for a week: that is what makes "new" meaningful.
        if (now - state.lastSeenMs > HABIT_MEMORY_MS) {
          state.release();
          account.apiKeys.delete(k);
          this.#stats.evictedKeys++;
        }
      }
      for (const [k, state] of account.countries) {
        if (now - state.lastSeenMs > HABIT_MEMORY_MS) {
          state.release();
          account.countries.delete(k);
          this.#stats.evictedKeys++;
        }
      }
      if (account.lastEmitted.size > 0) {
        const lastEmitted = account.mutableLastEmitted();
        for (const [k, at] of lastEmitted)
          if (now - at.timeMs > this.config.repeatAfterMs) lastEmitted.delete(k);
      }
    }
    const idleRings: string[] = [];
    for (const [accountId, buffer] of this.#evidence) {
      const account = this.#accounts.get(accountId);
      if (!account || now - account.lastSeenMs > keyTtl || buffer.size === 0) idleRings.push(accountId);
    }
    for (const accountId of idleRings) {
      this.#evidence.delete(accountId);
      const account = this.#accounts.get(accountId);
      if (account) account.evidence = undefined;
    }
  }

  snapshot(): EngineSnapshot {
    return {
      ...this.#header(),
      accounts: [...this.#accounts.values()].map(accountToJSON),
      evidence: [...this.#evidence.entries()].map(evidenceToJSON),
      lastFingerprint: [...this.#lastFingerprint.entries()],
      clusterIndex: this.#clusterIndexEntries(),
    };
  }

  /** The near-duplicate index as [id, sequence], least recently used first (ids are fingerprints). */
  #clusterIndexEntries(): Array<[string, number]> {
    return this.#clusterIndex.recencyOrder();
  }

  /** A digest of the config, so a restore can tell whether cached thresholds still hold. */
  #configDigest(): string {
    this.#digest ??= createHash('sha256').update(JSON.stringify(this.config)).digest('hex').slice(0, 16);
    return this.#digest;
  }

  /** Everything in a snapshot but the accounts, evidence rings, recipient attributions and index. */
  #header(): Omit<EngineSnapshot, 'accounts' | 'evidence' | 'lastFingerprint' | 'clusterIndex'> {
    return {
      version: SNAPSHOT_VERSION,
      maxEventTimeMs: this.#maxEventTimeMs,
      maxEventTimeByKind: Object.fromEntries(this.#maxEventTimeByKind),
      lastSweepMs: this.#lastSweepMs,
      populationLog: { ...this.#populationLog },
      stats: { ...this.#stats },
      configDigest: this.#configDigest(),
      clusterSequence: this.#clusterIndex.nextSequence,
    };
  }

  /**
   * The snapshot as JSON lines: a header, then one line per account, per evidence ring and per
   * batch of recipient attributions. A checkpoint serialises and compresses it line by line, so the
   * whole state is never held a second time as one object graph or one string (at 17,000 accounts
   * × 10 keys that pair was ~440 MiB). `restoreLines` reads it back to the same engine as
   * `restore(snapshot())`. The engine refuses events until the generator is done or closed.
   */
  *snapshotLines(): Generator<string> {
    this.#snapshotting = true;
    try {
      yield* this.#lines();
    } finally {
      this.#snapshotting = false;
    }
  }

  *#lines(): Generator<string> {
    yield JSON.stringify({ ...this.#header(), format: 'lines' });
    for (const account of this.#accounts.values()) yield JSON.stringify({ a: accountToJSON(account) });
    for (const entry of this.#evidence) yield JSON.stringify({ e: evidenceToJSON(entry) });
    let batch: Array<[string, string]> = [];
    for (const entry of this.#lastFingerprint) {
      batch.push(entry);
      if (batch.length === 10_000) {
        yield JSON.stringify({ f: batch });
        batch = [];
      }
    }
    if (batch.length > 0) yield JSON.stringify({ f: batch });
    const index = this.#clusterIndexEntries();
    for (let i = 0; i < index.length; i += 10_000) yield JSON.stringify({ c: index.slice(i, i + 10_000) });
  }

  /**
   * An engine from `snapshotLines()` output (empty lines ignored), or from a single line holding a
   * whole `snapshot()` (what checkpoints stored before lines).
   */
  static restoreLines(lines: Iterable<string>, options: EngineOptions = {}): DetectionEngine {
    let engine: DetectionEngine | undefined;
    for (const line of lines) {
      if (line === '') continue;
      const record = JSON.parse(line) as Record<string, unknown>;
      if (engine === undefined) {
        if (record['format'] !== 'lines')
          return DetectionEngine.restore(record as unknown as EngineSnapshot, options);
        engine = DetectionEngine.#fromHeader(record as unknown as EngineSnapshot, options);
      } else if (record['a'] !== undefined) engine.#restoreAccount(record['a'] as AccountSnapshot);
      else if (record['e'] !== undefined)
        engine.#restoreEvidence(record['e'] as EngineSnapshot['evidence'][number]);
      else if (record['f'] !== undefined)
        for (const [k, v] of record['f'] as Array<[string, string]>) engine.#lastFingerprint.set(k, v);
      else if (record['c'] !== undefined) engine.#restoreClusterIndex(record['c'] as Array<[string, number]>);
      else throw new RangeError(`unknown engine snapshot line: ${line.slice(0, 40)}`);
    }
    if (engine === undefined) throw new RangeError('empty engine snapshot');
    return engine;
  }

  static restore(snapshot: EngineSnapshot, options: EngineOptions = {}): DetectionEngine {
    const engine = DetectionEngine.#fromHeader(snapshot, options);
    for (const state of snapshot.accounts) engine.#restoreAccount(state);
    for (const entry of snapshot.evidence) engine.#restoreEvidence(entry);
    for (const [k, v] of snapshot.lastFingerprint) engine.#lastFingerprint.set(k, v);
    if (snapshot.clusterIndex) engine.#restoreClusterIndex(snapshot.clusterIndex);
    return engine;
  }

  #restoreAccount(state: AccountSnapshot): void {
    const account = accountFromJSON(state, this.factory);
    this.#accounts.set(account.accountId, account);
    if (!this.#restoredThresholdsHold) {
      account.rate.invalidate();
      for (const apiKey of account.apiKeys.values()) apiKey.rate.invalidate();
      for (const country of account.countries.values()) country.rate.invalidate();
    }
    // Snapshots before version 5 had no index: it is rebuilt from the clusters accounts hold.
    if (!this.#indexInSnapshot)
      for (const fingerprint of account.clusters.keys())
        this.#clusterIndex.assignCluster(fingerprintFromHex(fingerprint), fingerprint);
  }

  #restoreClusterIndex(entries: readonly [string, number][]): void {
    for (const [id, sequence] of entries)
      this.#clusterIndex.restoreEntry(fingerprintFromHex(id), id, sequence);
  }

  #restoreEvidence(entry: EngineSnapshot['evidence'][number]): void {
    const buffer = EvidenceBuffer.fromJSON(entry);
    this.#evidence.set(entry.accountId, buffer);
    const account = this.#accounts.get(entry.accountId);
    if (account) account.evidence = buffer;
  }

  /** An engine with the snapshot's watermarks, priors and counters, and no accounts yet. */
  static #fromHeader(
    snapshot: Pick<
      EngineSnapshot,
      | 'version'
      | 'maxEventTimeMs'
      | 'maxEventTimeByKind'
      | 'lastSweepMs'
      | 'populationLog'
      | 'stats'
      | 'configDigest'
      | 'clusterSequence'
    >,
    options: EngineOptions,
  ): DetectionEngine {
    if (!READABLE_SNAPSHOT_VERSIONS.includes(snapshot.version)) {
      throw new RangeError(
        `engine snapshot version ${snapshot.version} is not supported (expected one of ${READABLE_SNAPSHOT_VERSIONS.join(', ')})`,
      );
    }
    const engine = new DetectionEngine(options);
    engine.#maxEventTimeMs = snapshot.maxEventTimeMs ?? Number.NEGATIVE_INFINITY;
    // Snapshots from before per-kind watermarks held one max for every kind.
    const byKind =
      snapshot.maxEventTimeByKind ??
      (Number.isFinite(engine.#maxEventTimeMs)
        ? Object.fromEntries(EVENT_KINDS.map((kind) => [kind, engine.#maxEventTimeMs]))
        : {});
    for (const [kind, timeMs] of Object.entries(byKind))
      if (typeof timeMs === 'number') engine.#maxEventTimeByKind.set(kind as NormalizedEvent['kind'], timeMs);
    engine.#lastSweepMs = snapshot.lastSweepMs ?? Number.NEGATIVE_INFINITY;
    // A level with no prior learned yet is NaN, which JSON writes as null: it must come back as NaN
    // (null read as 0 made prior() 0.99 and the first learned value an average with 0).
    for (const level of ['account', 'apiKey', 'country'] as const) {
      const value = snapshot.populationLog[level];
      engine.#populationLog[level] = typeof value === 'number' ? value : Number.NaN;
    }
    Object.assign(engine.#stats, snapshot.stats);
    engine.#restoredThresholdsHold = snapshot.configDigest === engine.#configDigest();
    if (typeof snapshot.clusterSequence === 'number') {
      engine.#indexInSnapshot = true;
      engine.#clusterIndex.restoreSequence(snapshot.clusterSequence);
    }
    return engine;
  }
}

function evidenceToJSON([accountId, buffer]: [string, EvidenceBuffer]): EngineSnapshot['evidence'][number] {
  return buffer.toJSON(accountId);
}

/** Gives an evicted account's rate trackers (it, its keys and countries) back to the slab. */
function releaseAccount(account: AccountState): void {
  account.release();
  for (const apiKey of account.apiKeys.values()) apiKey.release();
  for (const country of account.countries.values()) country.release();
}

function evictIdle(map: Map<string, { lastSeenMs: number }>, now: number, ttl: number): number {
  forgetCursor(map);
  let evicted = 0;
  for (const [k, state] of map) {
    if (now - state.lastSeenMs > ttl) {
      map.delete(k);
      evicted++;
    }
  }
  return evicted;
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1e6) / 1e6 : 0;
}
