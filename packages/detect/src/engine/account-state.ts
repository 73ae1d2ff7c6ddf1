/**
 * Everything the engine remembers about one account, nested so an evicted account takes its
 * sub-keys with it and the per-event path needs no string concatenation: API keys, destination
 * countries, template clusters and link domains hang off the account in bounded maps.
 */
import type { HyperLogLog } from '../content/index.ts';
import type { BucketRing } from '../windows/bucket-ring.ts';
import type { RateTracker, WindowLayout } from './rate-tracker.ts';

export const SEQUENTIAL_MEMORY = 32;

export interface TrackerFactory {
  layout: WindowLayout;
  tracker(): RateTracker;
  fine(): BucketRing;
  /** Minute buckets over the long window. */
  coarse(): BucketRing;
}

export class ApiKeyState {
  readonly rate: RateTracker;
  firstSeenMs: number;
  lastSeenMs: number;
  messages = 0;
  /** Source networks and user agents seen while the key was behaving normally. */
  readonly networks = new Map<string, number>();
  readonly userAgents = new Map<string, number>();
  /** Bit h set = the key has sent during UTC hour h. */
  hourMask = 0;
  /** Messages from a network/user agent first seen after warm-up, per fine bucket (allocated on first use). */
  novel: BucketRing | null = null;
  outOfScope: BucketRing | null = null;
  lastNovelNetwork = '';
  lastNovelUserAgent = '';
  lastOutOfScopeReason = '';

  constructor(factory: TrackerFactory, timeMs: number) {
    this.rate = factory.tracker();
    this.firstSeenMs = timeMs;
    this.lastSeenMs = timeMs;
  }
}

export class CountryState {
  readonly rate: RateTracker;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Decayed share bookkeeping: messages to this country, decayed with the account total. */
  weight = 0;
  readonly recentNumbers = new Float64Array(SEQUENTIAL_MEMORY);
  recentCount = 0;
  /** Allocated on first premium-rate recipient / first conversion feedback. */
  premium: BucketRing | null = null;
  feedbackTotal: BucketRing | null = null;
  feedbackConverted: BucketRing | null = null;
  conversionBaseline = -1;
  conversionSamples = 0;
  /** Rare/new country flag at first sight in the current episode. */
  rareAtStart = false;
  sequentialHits = 0;

  constructor(factory: TrackerFactory, timeMs: number) {
    this.rate = factory.tracker();
    this.firstSeenMs = timeMs;
    this.lastSeenMs = timeMs;
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
  /** Minute of the last cross-account observation emitted and its pending count. */
  observationMinute = -1;
  pendingObservation = 0;

  constructor(factory: TrackerFactory, fingerprint: string, timeMs: number, sample: string) {
    this.fingerprint = fingerprint;
    this.firstSeenMs = timeMs;
    this.lastSeenMs = timeMs;
    this.rate = factory.fine();
    this.sample = sample;
  }
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

export class AccountState {
  readonly accountId: string;
  readonly firstSeenMs: number;
  lastSeenMs: number;
  readonly rate: RateTracker;
  readonly apiKeys = new Map<string, ApiKeyState>();
  readonly countries = new Map<string, CountryState>();
  readonly clusters = new Map<string, ClusterState>();
  readonly domains = new Map<string, DomainState>();
  /** Total decayed weight of outbound messages, for country shares. */
  totalWeight = 0;
  weightMinute = -1;
  /** Opt-outs (short/medium on fine buckets, long on minutes), allocated at the first opt-out. */
  optOuts: BucketRing | null = null;
  optOutsHour: BucketRing | null = null;
  optOutBaseline = -1;
  optOutBaselineHour = -1;
  /** Delivery receipts, allocated at the first final status. */
  statusTotal: BucketRing | null = null;
  statusFailed: BucketRing | null = null;
  statusFiltered: BucketRing | null = null;
  failureBaseline = -1;
  filteredBaseline = -1;
  failureBaselineBucket = -1;
  readonly loginNetworks = new Map<string, number>();
  readonly riskyAudits: RiskyAudit[] = [];
  /** How many new-template bursts this account has had: campaign launches are routine for some. */
  contentBursts = 0;
  /** Last time each suspicious novelty was seen on this account (event time, ms). */
  lastNoveltyMs = -Infinity;
  noveltyReason = '';
  /** The API key the last novelty concerned ('' for account-wide novelty such as a risky login). */
  noveltyKey = '';
  /** (kind|key) → event time of the last emitted detection, for repeat suppression. */
  readonly lastEmitted = new Map<string, { timeMs: number; rank: number }>();

  constructor(accountId: string, factory: TrackerFactory, timeMs: number) {
    this.accountId = accountId;
    this.firstSeenMs = timeMs;
    this.lastSeenMs = timeMs;
    this.rate = factory.tracker();
  }
}

/** Map get-or-create that evicts the least recently inserted entry past `max` (insertion order). */
export function boundedGet<K, V>(map: Map<K, V>, key: K, max: number, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    if (map.size >= max) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, value);
  }
  return value;
}
