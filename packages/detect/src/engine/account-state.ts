/**
 * Everything the engine remembers about one account, nested so an evicted account takes its
 * sub-keys with it and the per-event path needs no string concatenation: API keys, destination
 * countries, template clusters and link domains hang off the account in bounded maps. The rate
 * trackers' numbers sit in the engine's slab, not in these objects.
 */
import { deleteOldest, forgetCursor } from '../bounded-map.ts';
import type { HyperLogLog } from '../content/index.ts';
import type { BucketRing } from '../windows/bucket-ring.ts';
import type { EvidenceBuffer } from './evidence-buffer.ts';
import { withHabits } from './habit-counts.ts';
import { RateTracker, trackerWords, type WindowLayout } from './rate-tracker.ts';
import { SmallMap } from './small-map.ts';
import { copyOut, type TrackerSlab } from './tracker-slab.ts';

export const SEQUENTIAL_MEMORY = 32;

/** Words of a country's slot: its rate tracker's, then SEQUENTIAL_MEMORY Uint32 recent numbers. */
export function countryWords(layout: WindowLayout, seasonalitySlots: number): number {
  return trackerWords(layout, seasonalitySlots) + SEQUENTIAL_MEMORY / 2;
}
/** Values of a habit (networks, user agents, login networks) remembered per key. */
export const MAX_REMEMBERED = 16;

export interface TrackerFactory {
  layout: WindowLayout;
  /** What the rate trackers of accounts, API keys and countries learn with, and the slab they live in. */
  halfLifeMinutes: number;
  seasonalitySlots: 0 | 24 | 168;
  slab: TrackerSlab;
  /** Countries' slots: a rate tracker's words, then SEQUENTIAL_MEMORY Uint32 of recent recipient numbers. */
  countrySlab: TrackerSlab;
  fine(): BucketRing;
  /** `n` fine rings sharing one typed array (see ringGroup). */
  fineGroup(n: number): BucketRing[];
  /** Minute buckets over the long window. */
  coarse(): BucketRing;
}

/** Novel-network and out-of-scope traffic of an API key: allocated when it first happens. */
class KeyAnomalies {
  novel: BucketRing | null = null;
  outOfScope: BucketRing | null = null;
  lastNovelNetwork: string = '';
  lastNovelUserAgent: string = '';
  lastOutOfScopeReason: string = '';
  /** When the key began using its last novel network / user agent, and its messages since. */
  novelNetworkSinceMs: number = -1;
  novelNetworkMessages: number = 0;
  novelAgentSinceMs: number = -1;
  novelAgentMessages: number = 0;
  /** The key's last message from a network new to it (its new network is news until the window passes). */
  novelNetworkLastMs: number = -1;
  /** Whether the last novel user agent names a product the key never used (worked out once per agent). */
  novelAgentNewProduct: boolean = false;
}

/** Premium-rate recipients and conversion feedback of a country: allocated at the first. */
class CountryPumping {
  premium: BucketRing | null = null;
  feedbackTotal: BucketRing | null = null;
  feedbackConverted: BucketRing | null = null;
  conversionBaseline: number = -1;
  conversionSamples: number = 0;
}

/** Opt-out windows (short/medium on fine buckets, the hour on coarse ones) and delivery-receipt windows and learned failure shares of an account. */
class AccountReplies {
  optOuts: BucketRing | null = null;
  optOutsHour: BucketRing | null = null;
  statusTotal: BucketRing | null = null;
  statusFailed: BucketRing | null = null;
  statusFiltered: BucketRing | null = null;
  failureBaseline: number = -1;
  filteredBaseline: number = -1;
  failureBaselineBucket: number = -1;
}

/**
 * What accounts, API keys and countries share: each is its own rate tracker (a subclass, not a
 * field: one object per key instead of two, 32 bytes less per tracked key), and keeps its first and
 * last event time in the tracker's slot.
 */
abstract class TrackedKey extends RateTracker {
  constructor(factory: TrackerFactory, timeMs: number, slab: TrackerSlab = factory.slab) {
    super(factory.layout, factory.halfLifeMinutes, factory.seasonalitySlots, slab);
    this.ownerFirstSeenMs = timeMs;
    this.ownerLastSeenMs = timeMs;
  }

  /** The key's rate tracker: the state itself. */
  get rate(): RateTracker {
    return this;
  }

  // First/last event time live in the rate tracker's slot (see RateTracker.ownerLastSeenMs).
  get firstSeenMs(): number {
    return this.ownerFirstSeenMs;
  }

  set firstSeenMs(timeMs: number) {
    this.ownerFirstSeenMs = timeMs;
  }

  get lastSeenMs(): number {
    return this.ownerLastSeenMs;
  }

  set lastSeenMs(timeMs: number) {
    this.ownerLastSeenMs = timeMs;
  }
}

/**
 * An API key: its rate tracker, and the source networks (NETWORKS) and user agents (USER_AGENTS) it
 * used while behaving normally, in fields of its own (see habit-counts.ts).
 */
export class ApiKeyState extends withHabits(TrackedKey, MAX_REMEMBERED) {
  messages = 0;
  /** Bit h set = the key has sent during UTC hour h. */
  hourMask = 0;
  /** What only a key that has misbehaved needs, created on the first write (see sideFields). */
  anomalies: KeyAnomalies | null = null;
  declare novel: BucketRing | null;
  declare outOfScope: BucketRing | null;
  declare lastNovelNetwork: string;
  declare lastNovelUserAgent: string;
  declare lastOutOfScopeReason: string;
  declare novelNetworkSinceMs: number;
  declare novelNetworkMessages: number;
  declare novelAgentSinceMs: number;
  declare novelAgentMessages: number;
  declare novelNetworkLastMs: number;
  declare novelAgentNewProduct: boolean;
}

export class CountryState extends TrackedKey {
  /** Decayed share bookkeeping: messages to this country, decayed with the account total. */
  weight = 0;
  // The last SEQUENTIAL_MEMORY recipients' numbers, low 32 bits (see recentNeighbours), follow the
  // tracker's words in the country's slot: 128 bytes instead of a 300-byte array of doubles, and no
  // slot (and three fields) of their own.
  recentCount = 0;
  /** Premium-rate recipients and conversion feedback, created on the first write (see sideFields). */
  pumping: CountryPumping | null = null;
  declare premium: BucketRing | null;
  declare feedbackTotal: BucketRing | null;
  declare feedbackConverted: BucketRing | null;
  declare conversionBaseline: number;
  declare conversionSamples: number;
  /** Rare/new country flag at first sight in the current episode. */
  rareAtStart = false;
  /**
   * When the current run of traffic to the country began (its first message after an hour without
   * any), if the country was rare then and the run is under two long windows old; -1 otherwise.
   * Judges pumping at a modest rate for hours.
   */
  rareRunSinceMs = -1;
  sequentialHits = 0;

  constructor(factory: TrackerFactory, timeMs: number) {
    const words = countryWords(factory.layout, factory.seasonalitySlots);
    if (factory.countrySlab.stride < words)
      throw new RangeError(`country slab stride ${factory.countrySlab.stride} < ${words} words`);
    super(factory, timeMs, factory.countrySlab);
  }

  /** Uint32 index of the recent numbers' ring. */
  private get recentAt(): number {
    return 2 * (this.at + this.trackerWords);
  }

  /**
   * How many of the remembered recipients lie within `span` of `number` (identical ones excluded),
   * then remembers `number`. Compared on the low 32 bits with wrap-around: numbers within `span`
   * of each other always are; two numbers a multiple of 2^32 (4.3 billion) apart, give or take
   * `span`, would count as neighbours too — a chance of about span / 2^31 per pair, far below what
   * `sequentialMinRun` neighbours in a row needs.
   */
  recentNeighbours(number: number, span: number): number {
    const low = number >>> 0;
    const n = Math.min(this.recentCount, SEQUENTIAL_MEMORY);
    const recent = this.u32;
    const at = this.recentAt;
    let neighbours = 0;
    for (let i = 0; i < n; i++) {
      const distance = Math.abs(((recent[at + i] as number) - low) | 0);
      if (distance > 0 && distance <= span) neighbours++;
    }
    recent[at + (this.recentCount % SEQUENTIAL_MEMORY)] = low;
    this.recentCount++;
    return neighbours;
  }

  /** The remembered numbers (low 32 bits) in ring order, for snapshots. */
  recentNumbers(): number[] {
    return copyOut(this.u32, this.recentAt, SEQUENTIAL_MEMORY);
  }

  /** Restores the ring; full numbers from older snapshots are cut to their low 32 bits. */
  restoreRecentNumbers(numbers: readonly number[], count: number): void {
    const at = this.recentAt;
    for (let i = 0; i < SEQUENTIAL_MEMORY; i++) this.u32[at + i] = (numbers[i] ?? 0) >>> 0;
    this.recentCount = count;
  }
}

export class ClusterState {
  readonly fingerprint: string;
  readonly firstSeenMs: number;
  lastSeenMs: number;
  messages = 0;
  /** Only clusters new to a mature account get a distinct-recipient sketch. */
  recipients: HyperLogLog | null = null;
  readonly rate: BucketRing;
  sample: string;
  optOuts = 0;
  /**
   * Since when `messages` and `optOuts` count: later than firstSeenMs when the cluster was dropped
   * while idle and taken up again (its first sighting is remembered, its counts are not).
   */
  countsSinceMs: number;
  /** Minute of the last cross-account observation emitted and its pending count. */
  observationMinute = -1;
  pendingObservation = 0;

  constructor(factory: TrackerFactory, fingerprint: string, timeMs: number, sample: string) {
    this.fingerprint = fingerprint;
    this.firstSeenMs = timeMs;
    this.lastSeenMs = timeMs;
    this.countsSinceMs = timeMs;
    this.rate = factory.fine();
    this.sample = sample;
  }
}

/** A template cluster the account stopped using for a while: when it returns it is not new. */
export interface KnownCluster {
  firstSeenMs: number;
  lastSeenMs: number;
}

export class DomainState {
  readonly firstSeenMs: number;
  lastSeenMs: number;
  messages = 0;
  readonly rate: BucketRing;
  /** Seen while the account was still warming up: part of its normal vocabulary. */
  readonly established: boolean;

  constructor(factory: TrackerFactory, timeMs: number, established: boolean) {
    this.firstSeenMs = timeMs;
    this.lastSeenMs = timeMs;
    this.rate = factory.fine();
    this.established = established;
  }
}

export interface RiskyAudit {
  eventId: string;
  timeMs: number;
  action: string;
  actor: string;
  mfaUsed: boolean | null;
  sourceNetwork: string;
  newNetwork: boolean;
  targetApiKeyId: string;
}

/** What an account's never-used maps read as until the first write creates them. */
const NO_ENTRIES: ReadonlyMap<string, never> = new Map<string, never>();
const NO_AUDITS: readonly RiskyAudit[] = Object.freeze([]);

export class AccountState extends TrackedKey {
  readonly accountId: string;
  /** Sub-keys: the last one looked up is cached, so the per-event lookup is a string comparison. */
  readonly apiKeys = new SmallMap<ApiKeyState>();
  readonly countries = new SmallMap<CountryState>();
  // Clusters, domains, login networks and emitted detections are empty for most accounts most of
  // the time: each map is created on its first write (reads see an empty map), which saves about
  // 150 bytes per map per account.
  #clusters: Map<string, ClusterState> | null = null;
  #domains: Map<string, DomainState> | null = null;
  #loginNetworks: Map<string, number> | null = null;
  #lastEmitted: Map<string, { timeMs: number; rank: number }> | null = null;
  /** Clusters dropped from `clusters` (idle, or past the cap), remembered for a week (see rememberCluster). */
  #knownClusters: Map<string, KnownCluster> | null = null;
  /** Total decayed weight of outbound messages, for country shares. */
  totalWeight = 0;
  weightMinute = -1;
  /** The usual opt-out rate, learned every hour from the account's sends (on every account). */
  optOutBaseline = -1;
  optOutBaselineHour = -1;
  /** Opt-out and delivery-receipt windows and rates, created at the first write (see sideFields). */
  replies: AccountReplies | null = null;
  declare optOuts: BucketRing | null;
  declare optOutsHour: BucketRing | null;
  declare statusTotal: BucketRing | null;
  declare statusFailed: BucketRing | null;
  declare statusFiltered: BucketRing | null;
  declare failureBaseline: number;
  declare filteredBaseline: number;
  declare failureBaselineBucket: number;
  /** Risky audit events of the last hours (created on the first: most accounts have none). */
  #riskyAudits: RiskyAudit[] | null = null;
  /** How many new-template bursts this account has had: campaign launches are routine for some. */
  contentBursts = 0;
  /** Last time each suspicious novelty was seen on this account (event time, ms). */
  lastNoveltyMs = -Infinity;
  noveltyReason = '';
  /** The API key the last novelty concerned ('' for account-wide novelty such as a risky login). */
  noveltyKey = '';
  /** The account's evidence ring, if it holds one (the engine keeps the capped set). */
  evidence: EvidenceBuffer | undefined = undefined;

  constructor(accountId: string, factory: TrackerFactory, timeMs: number) {
    super(factory, timeMs);
    this.accountId = accountId;
  }

  get riskyAudits(): readonly RiskyAudit[] {
    return this.#riskyAudits ?? NO_AUDITS;
  }

  mutableRiskyAudits(): RiskyAudit[] {
    this.#riskyAudits ??= [];
    return this.#riskyAudits;
  }

  /** Template clusters the account uses (a read-only view; write through `mutableClusters`). */
  get clusters(): ReadonlyMap<string, ClusterState> {
    return this.#clusters ?? NO_ENTRIES;
  }

  mutableClusters(): Map<string, ClusterState> {
    this.#clusters ??= new Map();
    return this.#clusters;
  }

  /** Link domains the account sends. */
  get domains(): ReadonlyMap<string, DomainState> {
    return this.#domains ?? NO_ENTRIES;
  }

  mutableDomains(): Map<string, DomainState> {
    this.#domains ??= new Map();
    return this.#domains;
  }

  /** Networks of the account's normal logins, with how often each was seen. */
  get loginNetworks(): ReadonlyMap<string, number> {
    return this.#loginNetworks ?? NO_ENTRIES;
  }

  mutableLoginNetworks(): Map<string, number> {
    this.#loginNetworks ??= new Map();
    return this.#loginNetworks;
  }

  /** Template clusters the account used before and dropped, by cluster id (insertion order: oldest first). */
  get knownClusters(): ReadonlyMap<string, KnownCluster> {
    return this.#knownClusters ?? NO_ENTRIES;
  }

  /**
   * Remembers a cluster dropped from `clusters`: its full state (ring, sample, sketch) goes, its
   * first and last sighting stay, so a template sent again days later (a daily digest, a weekly
   * campaign) is recognised rather than judged new. At most `max` are kept, the oldest forgotten.
   */
  rememberCluster(id: string, cluster: { firstSeenMs: number; lastSeenMs: number }, max: number): void {
    this.#knownClusters ??= new Map();
    this.#knownClusters.delete(id);
    if (this.#knownClusters.size >= max) deleteOldest(this.#knownClusters);
    this.#knownClusters.set(id, { firstSeenMs: cluster.firstSeenMs, lastSeenMs: cluster.lastSeenMs });
  }

  /** The remembered sighting of cluster `id`, removed from the known set (it is in use again). */
  takeKnownCluster(id: string): KnownCluster | undefined {
    const known = this.#knownClusters?.get(id);
    if (known !== undefined) this.#knownClusters?.delete(id);
    return known;
  }

  /** Forgets known clusters not seen for `ttlMs`. */
  forgetKnownClusters(nowMs: number, ttlMs: number): void {
    if (this.#knownClusters === null) return;
    for (const [id, known] of this.#knownClusters)
      if (nowMs - known.lastSeenMs > ttlMs) this.#knownClusters.delete(id);
    forgetCursor(this.#knownClusters);
    if (this.#knownClusters.size === 0) this.#knownClusters = null;
  }

  /** (kind|key) → event time of the last emitted detection, for repeat suppression. */
  get lastEmitted(): ReadonlyMap<string, { timeMs: number; rank: number }> {
    return this.#lastEmitted ?? NO_ENTRIES;
  }

  mutableLastEmitted(): Map<string, { timeMs: number; rank: number }> {
    this.#lastEmitted ??= new Map();
    return this.#lastEmitted;
  }
}

/**
 * Gives `owner`'s instances the fields of `Side` as accessors backed by the object in their `slot`
 * field: reads see `Side`'s defaults while there is none, and the first write of anything else
 * creates it. For state most keys never need, so it costs them one field instead of one per value.
 */
function sideFields<S extends object>(
  owner: { prototype: object },
  slot: 'anomalies' | 'pumping' | 'replies',
  Side: new () => S,
): void {
  const defaults = new Side() as Record<string, unknown>;
  for (const name of Object.keys(defaults)) {
    Object.defineProperty(owner.prototype, name, {
      get(this: Record<string, Record<string, unknown> | null>) {
        const side = this[slot];
        return side ? side[name] : defaults[name];
      },
      set(this: Record<string, Record<string, unknown> | null>, value: unknown) {
        let side = this[slot];
        if (!side) {
          if (value === defaults[name]) return;
          side = new Side() as Record<string, unknown>;
          this[slot] = side;
        }
        side[name] = value;
      },
    });
  }
}

sideFields(ApiKeyState, 'anomalies', KeyAnomalies);
sideFields(CountryState, 'pumping', CountryPumping);
sideFields(AccountState, 'replies', AccountReplies);

/** Map get-or-create that evicts the least recently inserted entry past `max` (insertion order). */
export function boundedGet<K, V>(map: Map<K, V>, key: K, max: number, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    if (map.size >= max) deleteOldest(map);
    map.set(key, value);
  }
  return value;
}
