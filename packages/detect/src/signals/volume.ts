/**
 * volume_spike: a window's send rate far above what the key's own baseline (or, while young, its
 * peers') predicts — for the account, an API key, or a destination country. A spike that stays
 * within the account's remembered peak (a history of scheduled blasts) and has no corroborating
 * novelty is recorded at `info`, so a legitimate blast does not page.
 */

import { anomalyScore } from '../baseline/thresholds.ts';
import { type Severity, severityRank } from '../config.ts';
import type { AccountState } from '../engine/account-state.ts';
import type { EffectiveThresholds, EngineCore } from '../engine/core.ts';
import type { EvidenceFocus } from '../engine/evidence-buffer.ts';
import { LONG, MEDIUM, type RateTracker, SHORT } from '../engine/rate-tracker.ts';
import type { NormalizedOutbound } from '../normalized-event.ts';

const WINDOW_NAMES = ['1m', '5m', '1h'] as const;

function floorOf(thresholds: EffectiveThresholds, w: number): number {
  const v = thresholds.volume;
  return w === SHORT ? v.minCount1m : w === MEDIUM ? v.minCount5m : v.minCount1h;
}

/** Which of the event's keys `tracker` counts: the account, its API key or its destination country. */
export type VolumeLevel = 'account' | 'apiKey' | 'country';

export function checkVolume(
  core: EngineCore,
  account: AccountState,
  tracker: RateTracker,
  level: VolumeLevel,
  thresholds: EffectiveThresholds,
  event: NormalizedOutbound,
): void {
  const v = thresholds.volume;
  // Every threshold is at least its volume floor: most keys never reach one, and skip all maths.
  // Nothing is allocated until a window crosses its threshold: this runs three times per event.
  if (
    tracker.count(SHORT) < v.minCount1m &&
    tracker.count(MEDIUM) < v.minCount5m &&
    tracker.count(LONG) < v.minCount1h
  ) {
    return;
  }
  // The thresholds hold for a minute: the peers' prior (an exp) is worked out only to refresh them.
  if (!tracker.thresholdsCurrent(event.timeMs)) tracker.refreshThresholds(event.timeMs, v, core.prior(level));
  // Every window over its threshold is judged, and the most severe one is reported (the shortest
  // of equals): reporting the first one over, as the loop once did, left the longer windows'
  // "extreme and large" rule unreachable while the 1-minute window was also over.
  const windowsMs = [core.config.windowsMs.short, core.config.windowsMs.medium, core.config.windowsMs.long];
  let best: Judged | undefined;
  let novelty: string | undefined;
  let chain: ReturnType<EngineCore['takeoverChain']> | undefined;
  for (let w = SHORT; w <= LONG; w++) {
    const observed = tracker.count(w);
    if (observed < tracker.thresholdOf(w)) continue;
    if (chain === undefined) {
      novelty = core.recentNovelty(account, event.timeMs, event.apiKeyId);
      chain = core.takeoverChain(account, event.timeMs, level === 'apiKey' ? event.apiKeyId : undefined);
    }
    const judged = judge(tracker, w, observed, windowsMs[w] as number, thresholds, novelty, chain.length > 0);
    if (best === undefined || severityRank[judged.severity] > severityRank[best.severity]) best = judged;
  }
  if (best === undefined || chain === undefined) return;
  const { w, observed, expected, ratio, peak, withinKnownPeak, severity } = best;
  const key =
    level === 'account'
      ? 'account'
      : level === 'apiKey'
        ? `api_key:${event.apiKeyId}`
        : `country:${event.country}`;
  // A repeat would be dropped by emit: skip building its evidence and text (hot keys repeat often).
  if (core.suppressRepeat(account, 'volume_spike', key, event.timeMs, severity)) return;
  const focus: EvidenceFocus =
    level === 'account' ? {} : level === 'apiKey' ? { apiKeyId: event.apiKeyId } : { country: event.country };
  const run = tracker.elevatedRun();
  core.emit({
    kind: 'volume_spike',
    account,
    key,
    windowMs: windowsMs[w] as number,
    timeMs: event.timeMs,
    observed,
    expected,
    score: anomalyScore(observed, expected, tracker.sdOf(w)),
    severity,
    reason: `${key} sent ${observed} messages in ${WINDOW_NAMES[w]} against ${expected.toFixed(1)} expected (${ratio.toFixed(1)}x)${
      withinKnownPeak ? '; within the account’s historical peak' : ''
    }${novelty ? `; ${novelty}` : ''}`,
    metrics: { ratio, threshold: tracker.thresholdOf(w), historicalPeak: peak },
    messagesBeforeDetection: Math.max(run.messages, observed),
    anomalyStartMs: run.messages > 0 ? run.startMs : event.timeMs - (windowsMs[w] as number),
    focus,
    trigger: event,
    audits: chain,
  });
}

interface Judged {
  w: number;
  observed: number;
  expected: number;
  ratio: number;
  peak: number;
  withinKnownPeak: boolean;
  severity: Severity;
}

/** One window over its threshold: how far over, and the severity that earns. */
function judge(
  tracker: RateTracker,
  w: number,
  observed: number,
  windowMs: number,
  thresholds: EffectiveThresholds,
  novelty: string | undefined,
  inChain: boolean,
): Judged {
  const expected = tracker.expectedOf(w);
  const ratio = observed / Math.max(expected, 1e-9);
  const peak = (tracker.baseline.peakPerMinute * windowMs) / 60_000;
  const withinKnownPeak =
    tracker.baseline.hoursSeen >= 24 && observed <= peak * thresholds.volume.knownPeakFactor;
  let severity: Severity;
  if (inChain || (novelty && ratio >= thresholds.volume.minRatio)) severity = 'critical';
  else if (withinKnownPeak) severity = 'info';
  // Volume alone pages only when it is both extreme relative to the key and large in absolute
  // terms: a quiet account's sudden 30-message minute is not a 3 a.m. call.
  else if (ratio >= 5 * thresholds.volume.minRatio && observed >= 10 * floorOf(thresholds, w))
    severity = 'critical';
  else if (novelty) severity = 'warning';
  // An uncorroborated spike — the account's usual keys, networks, content and destinations, only
  // more of it (a morning ramp, a sale, a first scheduled blast) — is recorded for analysts but
  // notifies no one unless it is extreme; corroboration (above) is what turns volume into a
  // security event. (A ratio band used to make the larger ones warnings: on simulated traffic they
  // were two thirds of all benign warnings, each burst counted once per level — account, key,
  // country — and no attack depended on them.)
  else severity = 'info';
  return { w, observed, expected, ratio, peak, withinKnownPeak, severity };
}
