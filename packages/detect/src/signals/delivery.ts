/**
 * delivery_failure_spike: the share of failed, undelivered and carrier-filtered statuses far above
 * the account's usual share. A rise of filtering codes is often the first outside sign that
 * carriers treat the traffic as spam, so filtering is judged on its own share too.
 */

import type { AccountState } from '../engine/account-state.ts';
import type { EffectiveThresholds, EngineCore } from '../engine/core.ts';
import type { NormalizedStatus } from '../normalized-event.ts';
import type { BucketRing } from '../windows/bucket-ring.ts';

/**
 * How long the usual failure and filtering shares take to follow a change (the EWMA's time
 * constant). Carriers' filtering of a spam campaign can creep up over an hour: a baseline that
 * followed within minutes (it did: 0.02 per 10 s bucket, ~8 min) rose under it, its bar (three times
 * the baseline) stayed ahead of it, and a climb from 2 % to 50 % filtered over 60 minutes never fired.
 */
const SHARE_BASELINE_TAU_MS = 6 * 3_600_000;
/** Anomalous windows teach too, clipped to the bar and this much slower (see learnShares). */
const ANOMALOUS_SLOWDOWN = 4;

/**
 * Moves the usual shares towards this window's, once per fine bucket, by the time the window moved
 * (at most its length: a window after a silence says nothing about the silence). Each share is
 * winsorised at its bar, as the volume baselines are: a spike does not teach itself, yet a lasting
 * change (a list with more landlines; a first window that was not typical) is learned in about a
 * day instead of being reported for good.
 */
function learnShares(
  account: AccountState,
  bucket: number,
  ring: BucketRing,
  failureShare: number,
  filteredShare: number,
  failureBar: number,
  filteredBar: number,
  anomalous: boolean,
  timeMs: number,
): void {
  const first = account.failureBaseline < 0;
  const moved = first ? 1 : Math.min(bucket - account.failureBaselineBucket, ring.length);
  account.failureBaselineBucket = bucket;
  if (first) {
    account.failureBaseline = failureShare;
    account.filteredBaseline = filteredShare;
    return;
  }
  // Over a young account's life so far (a running mean), so one untypical first window is soon
  // outweighed; over SHARE_BASELINE_TAU_MS once it is older than that.
  const movedMs = moved * ring.bucketMs;
  const span = Math.min(SHARE_BASELINE_TAU_MS, Math.max(timeMs - account.firstSeenMs, movedMs));
  const weight = Math.min(1, movedMs / span) / (anomalous ? ANOMALOUS_SLOWDOWN : 1);
  account.failureBaseline += weight * (Math.min(failureShare, failureBar) - account.failureBaseline);
  account.filteredBaseline += weight * (Math.min(filteredShare, filteredBar) - account.filteredBaseline);
}

export function checkDelivery(
  core: EngineCore,
  account: AccountState,
  thresholds: EffectiveThresholds,
  event: NormalizedStatus,
): void {
  if (event.status === 'queued' || event.status === 'sent') return;
  const t = thresholds.delivery;
  const failed = event.status !== 'delivered';
  const filtered = event.errorCategory === 'carrier_filtered';
  // The three are made (and restored) together: all null or none.
  if (account.statusTotal === null || account.statusFailed === null || account.statusFiltered === null)
    [account.statusTotal, account.statusFailed, account.statusFiltered] = core.factory.fineGroup(3) as [
      BucketRing,
      BucketRing,
      BucketRing,
    ];
  const { statusTotal, statusFailed, statusFiltered } = account;
  statusTotal.add(event.timeMs);
  if (failed) statusFailed.add(event.timeMs);
  if (filtered) statusFiltered.add(event.timeMs);
  const total = statusTotal.sum(1);
  // The failure and filtering rings are added to only by their own statuses: move them to the
  // window the total ended at, or they report counts of a window long gone (seen: 89 filtered out
  // of 40 receipts, a 222 % share, paged).
  const failures = statusFailed.sumAt(1, statusTotal.headMs);
  const filteredCount = statusFiltered.sumAt(1, statusTotal.headMs);
  const failureShare = total > 0 ? failures / total : 0;
  const filteredShare = total > 0 ? filteredCount / total : 0;
  const bucket = statusTotal.head;
  const failureBar = Math.max(t.minFailureShare, account.failureBaseline * t.minRatio);
  const filteredBar = Math.max(t.minFilteredShare, account.filteredBaseline * t.minRatio);
  const anomalous = total >= t.minStatuses5m && (failureShare >= failureBar || filteredShare >= filteredBar);
  if (bucket !== account.failureBaselineBucket && total >= 20) {
    learnShares(
      account,
      bucket,
      statusTotal,
      failureShare,
      filteredShare,
      failureBar,
      filteredBar,
      anomalous,
      event.timeMs,
    );
  }
  if (!anomalous) return;
  const byFiltering = filteredShare >= filteredBar;
  core.emit({
    kind: 'delivery_failure_spike',
    account,
    key: byFiltering ? 'account:filtered' : 'account',
    windowMs: core.config.windowsMs.medium,
    timeMs: event.timeMs,
    observed: byFiltering ? filteredShare : failureShare,
    expected: Math.max(byFiltering ? account.filteredBaseline : account.failureBaseline, 0),
    score: (byFiltering ? filteredShare / filteredBar : failureShare / failureBar) * 2,
    severity:
      byFiltering && filteredShare >= 2 * t.minFilteredShare && filteredCount >= t.minStatuses5m / 2
        ? 'critical'
        : 'warning',
    reason: `${failures} of ${total} delivery receipts in 5m failed (${(failureShare * 100).toFixed(1)}%), ${filteredCount} filtered by carriers (${(filteredShare * 100).toFixed(1)}%)`,
    metrics: { failureShare, filteredShare, statuses5m: total, failureBaseline: account.failureBaseline },
    messagesBeforeDetection: total,
    anomalyStartMs: event.timeMs - core.config.windowsMs.medium,
    focus: {},
  });
}
