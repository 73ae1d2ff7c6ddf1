/**
 * destination_anomaly (SMS pumping / artificially inflated traffic): traffic to a country the
 * account rarely or never serves, runs of sequential recipient numbers within a country, premium-
 * rate recipients, and a collapse of conversion feedback while volume rises. Pumping usually rides
 * the account's own key and template (the sign-up form is the attack surface), so these signals
 * look only at where messages go.
 */

import { type AccountState, type CountryState, SEQUENTIAL_MEMORY } from '../engine/account-state.ts';
import type { EffectiveThresholds, EngineCore } from '../engine/core.ts';
import { LONG, MEDIUM } from '../engine/rate-tracker.ts';
import type { NormalizedFeedback, NormalizedOutbound } from '../normalized-event.ts';
import type { BucketRing } from '../windows/bucket-ring.ts';

/** Called after the country's counters include `event`; `shareBefore` is the country's share before it. */
export function checkDestination(
  core: EngineCore,
  account: AccountState,
  country: CountryState,
  thresholds: EffectiveThresholds,
  event: NormalizedOutbound,
  shareBefore: number,
): void {
  const t = thresholds.destination;
  const mature = core.isMature(account, event.timeMs);
  // Sequential neighbours among the last recipients of this country (identical numbers excluded:
  // the same person asking for a second OTP is not pumping).
  const n = Math.min(country.recentCount, SEQUENTIAL_MEMORY);
  const neighbours = country.recentNeighbours(event.recipientNumeric, t.sequentialSpan);
  if (event.numberType === 'premium_rate') {
    country.premium ??= core.factory.fine();
    country.premium.add(event.timeMs);
  }

  const count5m = country.rate.count(MEDIUM);
  const rare = mature && shareBefore < t.rareCountryShare;
  if (rare && !country.rareAtStart && count5m <= 1) country.rareAtStart = true;
  const sequential = neighbours >= t.sequentialMinRun;
  if (sequential) country.sequentialHits++;
  const premium = country.premium?.sumAt(1, event.timeMs) ?? 0;
  const burst = country.rareAtStart && count5m >= t.minRareCountryCount5m;
  // Pumping at a modest rate for hours (2 a minute to a country the account never served), judged
  // over the long window in the first two of a run of traffic that began while the country was rare
  // (later, a steady new destination is the account's own), against rareCountryExpectation.
  // Read only for a rare country or one in a rare run: the countries an account serves skip it.
  const longMs = core.config.windowsMs.long;
  let countLong = 0;
  if (rare || country.rareRunSinceMs >= 0) {
    countLong = country.rate.count(LONG);
    if (countLong <= 1) country.rareRunSinceMs = rare ? event.timeMs : -1;
    else if (event.timeMs - country.rareRunSinceMs > 2 * longMs) country.rareRunSinceMs = -1;
  }
  const inRareRun = !burst && country.rareRunSinceMs >= 0 && countLong >= t.minRareCountryCountLong;
  const expectedLong = inRareRun
    ? rareCountryExpectation(core, account, country, thresholds, event.timeMs)
    : 0;
  const sustained = inRareRun && countLong >= thresholds.volume.minRatio * expectedLong;

  if (!sequential && premium < t.minPremiumCount5m && !burst && !sustained) return;
  const reasons: string[] = [];
  if (sequential)
    reasons.push(
      `${neighbours} of the last ${n} recipients in ${event.country} are within ${t.sequentialSpan} numbers of each other`,
    );
  if (premium >= t.minPremiumCount5m) reasons.push(`${premium} premium-rate recipients in 5m`);
  const rareShare = `${(t.rareCountryShare * 100).toFixed(1)}%`;
  if (burst) {
    reasons.push(
      // The share as of now includes this burst; what made the country rare is its share when the
      // burst began, below the threshold.
      `${count5m} messages in 5m to ${event.country}, a country below ${rareShare} of the account's traffic before this burst`,
    );
  } else if (sustained) {
    reasons.push(
      `${countLong} messages in ${Math.round(longMs / 60_000)}m to ${event.country} (${expectedLong.toFixed(1)} expected), a country below ${rareShare} of the account's traffic before they began`,
    );
  }
  if (reasons.length === 0) return;
  // A sequential run alone in a country the account serves every day needs volume to matter:
  // big senders do hit neighbouring numbers by chance when one prefix dominates.
  const strong =
    (sequential && (country.rareAtStart || country.sequentialHits >= 3)) || premium >= t.minPremiumCount5m;
  const severity = strong || (country.rareAtStart && sequential) ? 'critical' : 'warning';
  // Judged on the long window alone: the detection is of that window.
  const overLong = !sequential && premium < t.minPremiumCount5m && !burst;
  const windowMs = overLong ? core.config.windowsMs.long : core.config.windowsMs.medium;
  const observed = overLong ? countLong : count5m;
  core.emit({
    kind: 'destination_anomaly',
    account,
    key: `country:${event.country}`,
    windowMs,
    timeMs: event.timeMs,
    observed,
    expected: overLong
      ? expectedLong
      : country.rate.expectedAt(MEDIUM, event.timeMs, thresholds.volume, core.prior('country')),
    // Each reason's measure over its threshold, premium-rate recipients included (they were left
    // out, so a pumping burst of a few premium numbers scored below 1).
    score:
      Math.max(
        neighbours / Math.max(t.sequentialMinRun, 1),
        count5m / Math.max(t.minRareCountryCount5m, 1),
        (sustained ? countLong : 0) / Math.max(t.minRareCountryCountLong, 1),
        premium / Math.max(t.minPremiumCount5m, 1),
      ) * 2,
    severity,
    reason: reasons.join('; '),
    metrics: {
      sequentialNeighbours: neighbours,
      premiumRecipients: premium,
      countryShareBefore: shareBefore,
      conversionBaseline: country.conversionBaseline,
    },
    messagesBeforeDetection: observed,
    anomalyStartMs: Math.max(country.firstSeenMs, event.timeMs - windowMs),
    focus: { country: event.country },
    trigger: event,
  });
}

/**
 * What the long window may carry to a rare country: rareCountryShare of the account's expectation
 * (a big sender's rare countries have steady traffic of their own), or the country's own
 * expectation once it has a day of history (a country served in a small batch every morning
 * expects its batch then). A younger country's own baseline is no guide: it borrows its peers' rates.
 */
function rareCountryExpectation(
  core: EngineCore,
  account: AccountState,
  country: CountryState,
  thresholds: EffectiveThresholds,
  timeMs: number,
): number {
  const share =
    thresholds.destination.rareCountryShare *
    account.rate.expectedAt(LONG, timeMs, thresholds.volume, core.prior('account'));
  if (country.rate.baseline.hoursSeen < 24) return share;
  return Math.max(share, country.rate.expectedAt(LONG, timeMs, thresholds.volume, core.prior('country')));
}

export function checkConversion(
  core: EngineCore,
  account: AccountState,
  country: CountryState,
  thresholds: EffectiveThresholds,
  event: NormalizedFeedback,
): void {
  // The two are made (and restored) together: both null or neither.
  if (country.feedbackTotal === null || country.feedbackConverted === null)
    [country.feedbackTotal, country.feedbackConverted] = core.factory.fineGroup(2) as [
      BucketRing,
      BucketRing,
    ];
  const { feedbackTotal, feedbackConverted } = country;
  feedbackTotal.add(event.timeMs);
  if (event.converted) feedbackConverted.add(event.timeMs);
  const total = feedbackTotal.sum(1);
  // Conversions are added only by converted feedback: move their ring to the total's window (see
  // checkDelivery), or a stale count of an earlier window hides a collapse.
  const converted = feedbackConverted.sumAt(1, feedbackTotal.headMs);
  const t = thresholds.destination;
  const baseline = country.conversionBaseline;
  if (total >= t.minConversionFeedback5m) {
    const rate = converted / total;
    if (baseline >= 0 && country.conversionSamples >= 50 && rate < baseline * t.conversionCollapseRatio) {
      const volumeRising =
        country.rate.countAt(MEDIUM, event.timeMs) >=
        2 * country.rate.expectedAt(MEDIUM, event.timeMs, thresholds.volume, core.prior('country'));
      core.emit({
        kind: 'destination_anomaly',
        account,
        key: `conversion:${event.country}`,
        windowMs: core.config.windowsMs.medium,
        timeMs: event.timeMs,
        observed: rate,
        expected: baseline,
        score: ((baseline - rate) / Math.max(baseline, 0.01)) * 4,
        severity: volumeRising ? 'critical' : 'warning',
        reason: `conversion in ${event.country || 'unknown country'} fell to ${(rate * 100).toFixed(1)}% from ${(baseline * 100).toFixed(1)}% over ${total} feedback events${volumeRising ? ' while volume rose' : ''}`,
        metrics: { conversionRate: rate, conversionBaseline: baseline, feedback5m: total },
        messagesBeforeDetection: country.rate.count(MEDIUM),
        anomalyStartMs: event.timeMs - core.config.windowsMs.medium,
        focus: { country: event.country },
      });
      return; // an anomalous window does not teach the baseline
    }
  }
  // Learn the country's normal conversion from individual outcomes (slow EWMA).
  const x = event.converted ? 1 : 0;
  country.conversionSamples++;
  country.conversionBaseline =
    baseline < 0 ? x : baseline + (x - baseline) / Math.min(country.conversionSamples, 500);
}
