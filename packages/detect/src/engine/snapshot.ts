/**
 * Versioned JSON form of the engine's state. Typed arrays become plain arrays, HyperLogLog
 * registers base64; the near-duplicate index is written whole (from version 5). Bump
 * SNAPSHOT_VERSION whenever the shape changes: restore converts the older versions it lists in
 * READABLE_SNAPSHOT_VERSIONS and refuses any other rather than guess.
 */
import { HyperLogLog } from '../content/index.ts';
import type { BucketRing } from '../windows/bucket-ring.ts';
import {
  AccountState,
  ApiKeyState,
  ClusterState,
  CountryState,
  DomainState,
  type RiskyAudit,
  type TrackerFactory,
} from './account-state.ts';
import type { EvidenceSnapshot } from './evidence-buffer.ts';
import { NETWORKS, USER_AGENTS } from './habit-counts.ts';
import { intern } from './intern.ts';
import type { RateTrackerState } from './rate-tracker.ts';

/**
 * 2: the long window (rate trackers, opt-outs per hour) on 5-minute buckets, with the open minute
 * beside it. Version 1 snapshots still restore: their minute rings are regridded.
 * 3: accounts carry the template clusters they dropped (`knownClusters`); older snapshots restore
 * with none.
 * 4: evidence rings hold what evidence reads of each message (EvidenceSnapshot's `entries`, masked
 * bodies once per ring in `samples`) instead of whole normalised events; older rings convert.
 */
export const SNAPSHOT_VERSION = 5;
export const READABLE_SNAPSHOT_VERSIONS: readonly number[] = [1, 2, 3, 4, 5];

type Ring = { head: number; counts: number[]; bucketMs?: number };
/** A ring with its bucket size, so a restore under other window settings regrids it. */
const ring = (r: BucketRing): Ring => ({ ...r.toJSON(), bucketMs: r.bucketMs });
const maybe = (r: BucketRing | null): Ring | null => (r ? ring(r) : null);
// Snapshot sub-records are written by accountToJSON just above; reading them back untyped keeps the
// two functions side by side instead of duplicating every state class as an interface.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Loose = { [key: string]: any };

export interface AccountSnapshot {
  accountId: string;
  firstSeenMs: number;
  lastSeenMs: number;
  rate: RateTrackerState;
  apiKeys: Array<[string, Record<string, unknown>]>;
  countries: Array<[string, Record<string, unknown>]>;
  clusters: Array<[string, Record<string, unknown>]>;
  domains: Array<[string, Record<string, unknown>]>;
  /** [cluster id, first seen, last seen] of dropped clusters (absent before version 3). */
  knownClusters?: Array<[string, number, number]>;
  scalars: Record<string, number | string>;
  rings: Record<string, Ring | null>;
  loginNetworks: Array<[string, number]>;
  riskyAudits: RiskyAudit[];
  lastEmitted: Array<[string, { timeMs: number; rank: number }]>;
}

export interface EngineSnapshot {
  version: number;
  maxEventTimeMs: number;
  /** Per event kind (absent in snapshots written before per-kind watermarks). */
  maxEventTimeByKind?: Partial<Record<string, number>>;
  lastSweepMs: number;
  populationLog: Record<string, number>;
  stats: Record<string, number>;
  /**
   * A digest of the config the state was built with (from version 5): restored under another,
   * the rate trackers' cached thresholds are worked out again.
   */
  configDigest?: string;
  /** The near-duplicate index's next insertion sequence (from version 5). */
  clusterSequence?: number;
  accounts: AccountSnapshot[];
  evidence: EvidenceSnapshot[];
  lastFingerprint: Array<[string, string]>;
  /**
   * The near-duplicate index (from version 5): [cluster id (its fingerprint), insertion sequence],
   * least recently used first. Before, it was rebuilt from the clusters accounts held, which lost
   * the representatives of dropped clusters and the index's order.
   */
  clusterIndex?: Array<[string, number]>;
}

const finite = (n: number): number => (Number.isFinite(n) ? n : -1e300);
const unfinite = (n: number): number => (n <= -1e300 ? Number.NEGATIVE_INFINITY : n);

export function accountToJSON(account: AccountState): AccountSnapshot {
  return {
    accountId: account.accountId,
    firstSeenMs: account.firstSeenMs,
    lastSeenMs: account.lastSeenMs,
    rate: account.rate.toJSON(),
    apiKeys: [...account.apiKeys].map(([id, k]) => [
      id,
      {
        rate: k.rate.toJSON(),
        firstSeenMs: k.firstSeenMs,
        lastSeenMs: k.lastSeenMs,
        messages: k.messages,
        networks: k.habitEntries(NETWORKS),
        userAgents: k.habitEntries(USER_AGENTS),
        hourMask: k.hourMask,
        novel: maybe(k.novel),
        outOfScope: maybe(k.outOfScope),
        lastNovelNetwork: k.lastNovelNetwork,
        lastNovelUserAgent: k.lastNovelUserAgent,
        lastOutOfScopeReason: k.lastOutOfScopeReason,
        novelSince: [
          k.novelNetworkSinceMs,
          k.novelNetworkMessages,
          k.novelAgentSinceMs,
          k.novelAgentMessages,
          k.novelNetworkLastMs,
          k.novelAgentNewProduct ? 1 : 0,
        ],
      },
    ]),
    countries: [...account.countries].map(([id, c]) => [
      id,
      {
        rate: c.rate.toJSON(),
        firstSeenMs: c.firstSeenMs,
        lastSeenMs: c.lastSeenMs,
        weight: c.weight,
        recentNumbers: c.recentNumbers(),
        recentCount: c.recentCount,
        premium: maybe(c.premium),
        feedbackTotal: maybe(c.feedbackTotal),
        feedbackConverted: maybe(c.feedbackConverted),
        conversionBaseline: c.conversionBaseline,
        conversionSamples: c.conversionSamples,
        rareAtStart: c.rareAtStart,
        rareRunSinceMs: c.rareRunSinceMs,
        sequentialHits: c.sequentialHits,
      },
    ]),
    clusters: [...account.clusters].map(([id, c]) => [
      id,
      {
        firstSeenMs: c.firstSeenMs,
        lastSeenMs: c.lastSeenMs,
        messages: c.messages,
        recipients: c.recipients ? Buffer.from(c.recipients.toBytes()).toString('base64') : null,
        rate: ring(c.rate),
        sample: c.sample,
        optOuts: c.optOuts,
        countsSinceMs: c.countsSinceMs,
        observationMinute: c.observationMinute,
        pendingObservation: c.pendingObservation,
      },
    ]),
    domains: [...account.domains].map(([id, d]) => [
      id,
      {
        firstSeenMs: d.firstSeenMs,
        lastSeenMs: d.lastSeenMs,
        messages: d.messages,
        rate: ring(d.rate),
        established: d.established,
      },
    ]),
    knownClusters: [...account.knownClusters].map(([id, k]) => [id, k.firstSeenMs, k.lastSeenMs]),
    scalars: {
      totalWeight: account.totalWeight,
      weightMinute: account.weightMinute,
      optOutBaseline: account.optOutBaseline,
      optOutBaselineHour: account.optOutBaselineHour,
      failureBaseline: account.failureBaseline,
      filteredBaseline: account.filteredBaseline,
      failureBaselineBucket: account.failureBaselineBucket,
      lastNoveltyMs: finite(account.lastNoveltyMs),
      noveltyReason: account.noveltyReason,
      noveltyKey: account.noveltyKey,
      contentBursts: account.contentBursts,
    },
    rings: {
      optOuts: maybe(account.optOuts),
      optOutsHour: maybe(account.optOutsHour),
      statusTotal: maybe(account.statusTotal),
      statusFailed: maybe(account.statusFailed),
      statusFiltered: maybe(account.statusFiltered),
    },
    loginNetworks: [...account.loginNetworks],
    riskyAudits: account.riskyAudits.map((a) => ({ ...a })),
    lastEmitted: [...account.lastEmitted].map(([k, v]) => [k, { ...v }]),
  };
}

export function accountFromJSON(s: AccountSnapshot, factory: TrackerFactory): AccountState {
  const account = new AccountState(s.accountId, factory, s.firstSeenMs);
  account.lastSeenMs = s.lastSeenMs;
  account.rate.restore(s.rate);
  for (const [id, raw] of s.apiKeys) {
    const k = raw as Loose;
    const state = new ApiKeyState(factory, k['firstSeenMs']);
    state.rate.restore(k['rate']);
    state.lastSeenMs = k['lastSeenMs'];
    state.messages = k['messages'];
    for (const [n, c] of k['networks'] as Array<[string, number]>) state.setHabit(NETWORKS, n, c);
    for (const [n, c] of k['userAgents'] as Array<[string, number]>) state.setHabit(USER_AGENTS, n, c);
    state.hourMask = k['hourMask'];
    if (k['novel']) {
      state.novel = factory.fine();
      state.novel.restore(k['novel']);
    }
    if (k['outOfScope']) {
      state.outOfScope = factory.fine();
      state.outOfScope.restore(k['outOfScope']);
    }
    state.lastNovelNetwork = k['lastNovelNetwork'];
    state.lastNovelUserAgent = k['lastNovelUserAgent'];
    state.lastOutOfScopeReason = k['lastOutOfScopeReason'];
    // Absent before it was written: novelty then starts its hour again at the next message. Its
    // last two entries came later: without them no new network is news, and the last novel user
    // agent is taken for a new version of a known client.
    const since = k['novelSince'] as number[] | undefined;
    if (since !== undefined) {
      [
        state.novelNetworkSinceMs,
        state.novelNetworkMessages,
        state.novelAgentSinceMs,
        state.novelAgentMessages,
      ] = since as [number, number, number, number];
      if (since.length >= 6) {
        state.novelNetworkLastMs = since[4] as number;
        state.novelAgentNewProduct = since[5] === 1;
      }
    }
    account.apiKeys.set(id, state);
  }
  for (const [id, raw] of s.countries) {
    const c = raw as Loose;
    const state = new CountryState(factory, c['firstSeenMs']);
    state.rate.restore(c['rate']);
    state.lastSeenMs = c['lastSeenMs'];
    state.weight = c['weight'];
    state.restoreRecentNumbers(c['recentNumbers'] as number[], c['recentCount']);
    if (c['premium']) {
      state.premium = factory.fine();
      state.premium.restore(c['premium']);
    }
    if (c['feedbackTotal'] || c['feedbackConverted']) {
      // Made together (see checkConversion), so restored together, into one shared array.
      const [total, converted] = factory.fineGroup(2) as [BucketRing, BucketRing];
      if (c['feedbackTotal']) total.restore(c['feedbackTotal']);
      if (c['feedbackConverted']) converted.restore(c['feedbackConverted']);
      state.feedbackTotal = total;
      state.feedbackConverted = converted;
    }
    state.conversionBaseline = c['conversionBaseline'];
    state.conversionSamples = c['conversionSamples'];
    state.rareAtStart = c['rareAtStart'];
    // Absent from snapshots written before it existed: no rare run in progress.
    state.rareRunSinceMs = c['rareRunSinceMs'] ?? -1;
    state.sequentialHits = c['sequentialHits'];
    account.countries.set(intern(id), state);
  }
  for (const [id, raw] of s.clusters) {
    const c = raw as Loose;
    const state = new ClusterState(factory, id, c['firstSeenMs'], c['sample']);
    state.lastSeenMs = c['lastSeenMs'];
    state.messages = c['messages'];
    const recipients = c['recipients'] as string | null;
    state.recipients = recipients
      ? HyperLogLog.fromBytes(new Uint8Array(Buffer.from(recipients, 'base64')))
      : null;
    state.rate.restore(c['rate']);
    state.optOuts = c['optOuts'];
    // Absent before it was written: taken to count since the first sighting.
    state.countsSinceMs = c['countsSinceMs'] ?? state.firstSeenMs;
    state.observationMinute = c['observationMinute'];
    state.pendingObservation = c['pendingObservation'];
    account.mutableClusters().set(id, state);
  }
  for (const [id, raw] of s.domains) {
    const d = raw as Loose;
    const state = new DomainState(factory, d['firstSeenMs'], d['established']);
    state.lastSeenMs = d['lastSeenMs'];
    state.messages = d['messages'];
    state.rate.restore(d['rate']);
    account.mutableDomains().set(id, state);
  }
  for (const [id, firstSeenMs, lastSeenMs] of s.knownClusters ?? [])
    account.rememberCluster(id, { firstSeenMs, lastSeenMs }, Number.POSITIVE_INFINITY);
  const sc = s.scalars as Loose;
  account.totalWeight = sc['totalWeight'];
  account.weightMinute = sc['weightMinute'];
  account.optOutBaseline = sc['optOutBaseline'];
  account.optOutBaselineHour = sc['optOutBaselineHour'];
  account.failureBaseline = sc['failureBaseline'];
  account.filteredBaseline = sc['filteredBaseline'];
  account.failureBaselineBucket = sc['failureBaselineBucket'];
  account.lastNoveltyMs = unfinite(sc['lastNoveltyMs']);
  account.noveltyReason = sc['noveltyReason'];
  account.noveltyKey = sc['noveltyKey'] ?? '';
  account.contentBursts = sc['contentBursts'] ?? 0;
  const rings = s.rings;
  const restoreRing = (state: Ring | null | undefined, make: () => BucketRing): BucketRing | null => {
    if (!state) return null;
    const restored = make();
    restored.restore(state);
    return restored;
  };
  account.optOuts = restoreRing(rings['optOuts'], factory.fine);
  // Rings carry their bucket size since version 2; version 1's hourly opt-outs had minute buckets.
  const optOutsHour = rings['optOutsHour'];
  account.optOutsHour = restoreRing(optOutsHour && { bucketMs: 60_000, ...optOutsHour }, factory.coarse);
  if (rings['statusTotal'] || rings['statusFailed'] || rings['statusFiltered']) {
    // Made together (see checkDelivery), so restored together, into one shared array.
    const [total, failed, filtered] = factory.fineGroup(3) as [BucketRing, BucketRing, BucketRing];
    if (rings['statusTotal']) total.restore(rings['statusTotal']);
    if (rings['statusFailed']) failed.restore(rings['statusFailed']);
    if (rings['statusFiltered']) filtered.restore(rings['statusFiltered']);
    account.statusTotal = total;
    account.statusFailed = failed;
    account.statusFiltered = filtered;
  }
  for (const [n, c] of s.loginNetworks) account.mutableLoginNetworks().set(n, c);
  for (const a of s.riskyAudits) account.mutableRiskyAudits().push({ ...a });
  for (const [k, v] of s.lastEmitted) account.mutableLastEmitted().set(k, { ...v });
  return account;
}
