/**
 * Every threshold of the detection engine in one zod schema, with documented defaults. Overrides by
 * destination country and by account replace individual fields; allow-lists exempt or re-threshold
 * known-good recipients, prefixes, accounts, API keys and templates so a known blast never pages.
 * Defaults aim at what generalises: Poisson/z-score statistics plus volume floors, not magic counts.
 */
import { z } from 'zod';
import { sampleErrorCodeCategories, samplePricePerSegmentUsd } from './sample-tables.ts';

export const detectionKinds = [
  'volume_spike',
  'destination_anomaly',
  'content_burst',
  'new_link_domain',
  'opt_out_spike',
  'credential_anomaly',
  'delivery_failure_spike',
  'cross_account_campaign',
] as const;
export type DetectionKind = (typeof detectionKinds)[number];

export const severities = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof severities)[number];
/** Order of the severities: a higher rank pages more. */
export const severityRank: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

const positive = z.number().positive();
const count = z.number().int().min(0);

export const volumeThresholdsSchema = z.object({
  /** Minimum events in the window before anything fires: 3 messages never page anyone. */
  minCount1m: count.default(30),
  minCount5m: count.default(60),
  minCount1h: count.default(300),
  /** Observed must be at least this multiple of the expected count (the 5 m and 1 h windows)... */
  minRatio: positive.default(4),
  /** ...and of the 1 m window, where OTP traffic is bursty (a push notification, a login storm). */
  minRatio1m: positive.default(8),
  /** Robust z-score (observed − expected) / sd above which the window is anomalous. */
  zScore: positive.default(6),
  /** Poisson upper-tail probability used instead of z for small expected counts. */
  poissonTail: z.number().gt(0).lt(1).default(1e-7),
  /** A spike within this multiple of the key's decayed historical peak is 'known capacity'. */
  knownPeakFactor: positive.default(1.3),
});

export const destinationThresholdsSchema = z.object({
  /** A country below this share of the account's traffic counts as rare. */
  rareCountryShare: z.number().min(0).max(1).default(0.005),
  /** Messages to a rare/new country within 5 minutes before it fires. */
  minRareCountryCount5m: count.default(25),
  /**
   * ...or within the long window (1 h), in the first two hours of a run of traffic to a country that
   * was rare when the run began (pumping at a modest rate for hours); and at least `volume.minRatio`
   * times what the window may carry there: `rareCountryShare` of the account's expectation, or the
   * country's own once it has a day of history.
   */
  minRareCountryCountLong: count.default(30),
  /**
   * Recipients within this numeric distance of each other count as sequential (below 2^31: numbers
   * are compared on their low 32 bits, see CountryState.recentNeighbours).
   */
  sequentialSpan: count.max(2 ** 31 - 1).default(200),
  /** How many of the last 32 recipients in a country must be sequential neighbours. */
  sequentialMinRun: count.default(10),
  /** Premium-rate recipients within 5 minutes before it fires. */
  minPremiumCount5m: count.default(5),
  /** Conversion collapse: current rate below this fraction of the baseline... */
  conversionCollapseRatio: z.number().min(0).max(1).default(0.4),
  /** ...over at least this many feedback events in 5 minutes. */
  minConversionFeedback5m: count.default(25),
});

export const contentThresholdsSchema = z.object({
  /** SimHash Hamming distance within which two templates are the same cluster. */
  maxHammingDistance: z.number().int().min(0).max(8).default(3),
  /** A cluster new to the account must reach this many distinct recipients... */
  minDistinctRecipients: count.default(40),
  /**
   * ...within this long after it first appeared. A link domain is new for this long too: after it,
   * a domain the account keeps using is part of its vocabulary.
   */
  newClusterMaxAgeMs: z
    .number()
    .int()
    .positive()
    .default(60 * 60_000),
  /** Messages carrying a link domain never seen for the account, within 5 minutes. */
  minNewDomainCount5m: count.default(15),
});

export const optOutThresholdsSchema = z.object({
  /** Opt-outs within the medium window (5 minutes) before it fires. */
  minOptOuts: count.default(10),
  /** Opt-out rate (opt-outs / messages sent in the last hour) that is always anomalous. */
  minRate: z.number().min(0).max(1).default(0.02),
  /** And at least this multiple of the account's baseline opt-out rate. */
  minRatio: positive.default(4),
});

export const credentialThresholdsSchema = z.object({
  /** Messages from a new network or user agent within 5 minutes, with the key's volume rising. */
  minNovelCount5m: count.default(10),
  /** Volume rise that must accompany novel usage: 5-minute count over expected. */
  minVolumeRatio: positive.default(2),
  /** Out-of-scope messages (inventory networks/countries) within 5 minutes. */
  minOutOfScopeCount5m: count.default(3),
  /** How long after a risky audit chain a burst is linked to it. */
  takeoverChainWindowMs: z
    .number()
    .int()
    .positive()
    .default(60 * 60_000),
  /** A key needs this much history before novelty means anything. */
  keyWarmupMessages: count.default(20),
});

export const deliveryThresholdsSchema = z.object({
  minStatuses5m: count.default(40),
  /** Failed + undelivered + filtered share that is always anomalous... */
  minFailureShare: z.number().min(0).max(1).default(0.25),
  /** ...and carrier filtering alone. */
  minFilteredShare: z.number().min(0).max(1).default(0.1),
  minRatio: positive.default(3),
});

export const crossAccountThresholdsSchema = z.object({
  /** Distinct accounts that started sending the same cluster within the window. */
  minAccounts: z.number().int().min(2).default(4),
  minMessagesPerAccount: count.default(5),
  windowMs: z
    .number()
    .int()
    .positive()
    .default(60 * 60_000),
  /** Clusters first seen during this long after start-up are established, not campaigns. */
  warmupMs: z
    .number()
    .int()
    .min(0)
    .default(60 * 60_000),
});

/**
 * `schema` with every field optional and no defaults: an override holds only what it sets. With the
 * defaults kept (`.partial()` alone), every field an override left out came back as its default,
 * and a later layer reset what an earlier one set — an account override of `minRatio` put a
 * country's lowered `minCount1m` back to 30 — as it did the operator's own top-level values.
 */
function overridesOf<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  const shape = Object.fromEntries(
    Object.entries(schema.shape).map(([key, field]) => [
      key,
      field instanceof z.ZodDefault ? field.unwrap() : field,
    ]),
  ) as { [K in keyof Shape]: Shape[K] extends z.ZodDefault<infer Inner> ? Inner : Shape[K] };
  return z.object(shape).partial();
}

const thresholdOverridesSchema = z.object({
  volume: overridesOf(volumeThresholdsSchema).optional(),
  destination: overridesOf(destinationThresholdsSchema).optional(),
  content: overridesOf(contentThresholdsSchema).optional(),
  optOut: overridesOf(optOutThresholdsSchema).optional(),
  credential: overridesOf(credentialThresholdsSchema).optional(),
  delivery: overridesOf(deliveryThresholdsSchema).optional(),
});
export type ThresholdOverrides = z.infer<typeof thresholdOverridesSchema>;

const allowEntrySchema = z.object({
  /**
   * 'exempt': the messages it covers are left out of detection — not counted in any window or
   * baseline, never detected (so a known blast cannot page through other messages' windows
   * either); 'thresholds': they are counted, and their own checks apply `overrides`.
   */
  mode: z.enum(['exempt', 'thresholds']).default('exempt'),
  overrides: thresholdOverridesSchema.optional(),
  reason: z.string().optional(),
});

export const detectConfigSchema = z
  .object({
    /** Events older than (max event time seen − lateness) are dropped and counted. */
    allowedLatenessMs: z.number().int().min(0).default(30_000),
    /** Window lengths: the short and medium ones on sub-buckets of a sixth of the short (10 s), the long one on whole-minute sub-buckets of about a twelfth of it (5 min). */
    windowsMs: z
      .object({
        short: z.number().int().positive().default(60_000),
        medium: z
          .number()
          .int()
          .positive()
          .default(5 * 60_000),
        long: z
          .number()
          .int()
          .positive()
          .default(60 * 60_000),
      })
      .prefault({}),
    /**
     * A template cluster (and an evidence ring) idle this long is dropped. API keys, countries and
     * link domains are kept a week whatever this says — their habits are what makes "new" mean
     * something — and accounts for accountIdleTtlMs.
     */
    keyIdleTtlMs: z
      .number()
      .int()
      .positive()
      .default(2 * 60 * 60_000),
    accountIdleTtlMs: z
      .number()
      .int()
      .positive()
      .default(14 * 24 * 60 * 60_000),
    maxAccounts: z.number().int().positive().default(500_000),
    /** Per account: API keys, countries, clusters, domains kept (past it, the first seen is evicted). */
    maxSubKeysPerAccount: z.number().int().positive().default(256),
    /** An account needs this much event-time history before novelty signals fire. */
    accountWarmupMs: z
      .number()
      .int()
      .min(0)
      .default(2 * 60 * 60_000),
    /** Baseline EWMA half-life, in minutes of the key's own history. */
    baselineHalfLifeMinutes: z
      .number()
      .positive()
      .default(6 * 60),
    /** 24 = hour-of-day, 168 = hour-of-week seasonality; 0 disables it. */
    seasonalitySlots: z.union([z.literal(0), z.literal(24), z.literal(168)]).default(24),
    /** Same (kind, key) is re-emitted at most this often while the anomaly lasts. */
    repeatAfterMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000),
    volume: volumeThresholdsSchema.prefault({}),
    destination: destinationThresholdsSchema.prefault({}),
    content: contentThresholdsSchema.prefault({}),
    optOut: optOutThresholdsSchema.prefault({}),
    credential: credentialThresholdsSchema.prefault({}),
    delivery: deliveryThresholdsSchema.prefault({}),
    crossAccount: crossAccountThresholdsSchema.prefault({}),
    /**
     * Caps on the severity each signal gives (which rests on corroboration: see the README): a
     * detection scoring below `warningScore` is at most `info`, below `criticalScore` at most
     * `warning`; `maxByKind` caps a kind outright (e.g. `{ delivery_failure_spike: 'warning' }`
     * never pages for receipts). Off by default (0, 0, none): the signals decide.
     */
    severity: z
      .object({
        warningScore: z.number().min(0).default(0),
        criticalScore: z.number().min(0).default(0),
        maxByKind: z.partialRecord(z.enum(detectionKinds), z.enum(severities)).default({}),
      })
      .prefault({}),
    /** Per destination country (ISO alpha-2) overrides: low-traffic countries need lower floors. */
    countryOverrides: z.record(z.string().regex(/^[A-Z]{2}$/), thresholdOverridesSchema).default({}),
    /** Per account overrides. */
    accountOverrides: z.record(z.string(), thresholdOverridesSchema).default({}),
    allowList: z
      .object({
        accounts: z.record(z.string(), allowEntrySchema).default({}),
        apiKeys: z.record(z.string(), allowEntrySchema).default({}),
        /** Template fingerprints (16 hex chars); near duplicates of each are allowed with it. */
        templates: z.record(z.string(), allowEntrySchema).default({}),
        /** Recipient number prefixes such as '+4474001' (the longest matching one applies). */
        prefixes: z.record(z.string(), allowEntrySchema).default({}),
        /** Recipient keys (HMAC) of trusted recipients, e.g. the sender's own test phones. */
        recipients: z.record(z.string(), allowEntrySchema).default({}),
      })
      .prefault({}),
    /** USD per segment by destination country; `default` for the rest. */
    pricePerSegmentUsd: z.record(z.string(), z.number().min(0)).default(samplePricePerSegmentUsd),
    /** Provider error code → category; codes not listed are 'unknown'. */
    errorCodeCategories: z
      .record(
        z.string(),
        z.enum(['unreachable', 'invalid_number', 'carrier_filtered', 'rate_limited', 'unknown']),
      )
      .default(sampleErrorCodeCategories),
  })
  .superRefine((config, context) => {
    // A late event is counted in the 10-second ring that spans the medium window; one accepted
    // later than that would be let through and counted nowhere.
    if (config.allowedLatenessMs > config.windowsMs.medium)
      context.addIssue({
        code: 'custom',
        path: ['allowedLatenessMs'],
        message: `must not exceed windowsMs.medium (${config.windowsMs.medium} ms): later events could not be counted`,
      });
    if (
      !(config.windowsMs.short <= config.windowsMs.medium && config.windowsMs.medium <= config.windowsMs.long)
    )
      context.addIssue({
        code: 'custom',
        path: ['windowsMs'],
        message: 'windows must be ordered: short ≤ medium ≤ long',
      });
    // Keys are checked here rather than by the records' key schemas, whose failures read only
    // "Invalid key in record".
    for (const fingerprint of Object.keys(config.allowList.templates))
      if (!/^[0-9a-fA-F]{16}$/.test(fingerprint))
        context.addIssue({
          code: 'custom',
          path: ['allowList', 'templates', fingerprint],
          message: 'a template fingerprint is 16 hex digits',
        });
    for (const prefix of Object.keys(config.allowList.prefixes))
      if (!/^\+?[0-9]{1,15}$/.test(prefix))
        context.addIssue({
          code: 'custom',
          path: ['allowList', 'prefixes', prefix],
          message: "a prefix is up to 15 digits after an optional '+'",
        });
    if (config.severity.criticalScore < config.severity.warningScore)
      context.addIssue({
        code: 'custom',
        path: ['severity', 'criticalScore'],
        message: 'must not be below severity.warningScore',
      });
  });

export type DetectConfig = z.infer<typeof detectConfigSchema>;
export type DetectConfigInput = z.input<typeof detectConfigSchema>;
export type VolumeThresholds = z.infer<typeof volumeThresholdsSchema>;

/** A signal's severity within the configured caps (see `severity`). */
export function cappedSeverity(
  caps: DetectConfig['severity'],
  kind: DetectionKind,
  severity: Severity,
  score: number,
): Severity {
  let rank = severityRank[severity];
  if (score < caps.warningScore) rank = severityRank.info;
  else if (score < caps.criticalScore) rank = Math.min(rank, severityRank.warning);
  const max = caps.maxByKind[kind];
  if (max !== undefined) rank = Math.min(rank, severityRank[max]);
  return severities[rank] as Severity;
}

export function parseDetectConfig(input: unknown = {}): DetectConfig {
  return detectConfigSchema.parse(input);
}
