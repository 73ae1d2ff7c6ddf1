/**
 * volume_spike: a window's send rate far above what the key's own baseline (or, while young, its
 * peers') predicts — for the account, an API key, or a destination country. A spike that stays
 * within the account's remembered peak (a history of scheduled blasts) and has no corroborating
 * novelty is recorded at `info`, so a legitimate blast does not page.
 */

import { anomalyScore } from '../baseline/thresholds.ts';
import type { Severity } from '../config.ts';
import type { AccountState } from '../engine/account-state.ts';
import type { EffectiveThresholds, EngineCore } from '../engine/core.ts';
import type { EvidenceFocus } from '../engine/evidence-buffer.ts';
import { LONG, MEDIUM, type RateTracker, SHORT } from '../engine/rate-tracker.ts';
import type { NormalizedOutbound } from '../normalized-event.ts';

const WINDOW_NAMES = ['1m', '5m', '1h'] as const;

export function checkVolume(
  core: EngineCore,
  account: AccountState,
  tracker: RateTracker,
  key: string,
  focus: EvidenceFocus,
  thresholds: EffectiveThresholds,
  prior: number,
  event: NormalizedOutbound,
): void {
  tracker.refreshThresholds(event.timeMs, thresholds.volume, prior);
  const windowsMs = [core.config.windowsMs.short, core.config.windowsMs.medium, core.config.windowsMs.long];
  for (const w of [SHORT, MEDIUM, LONG]) {
    const observed = tracker.count(w);
    if (observed < (tracker.threshold[w] as number)) continue;
    const expected = tracker.expected[w] as number;
    const score = anomalyScore(observed, expected, tracker.sd[w] as number);
    const ratio = observed / Math.max(expected, 1e-9);
    const peak = (tracker.baseline.peakPerMinute * (windowsMs[w] as number)) / 60_000;
    const withinKnownPeak =
      tracker.baseline.hoursSeen >= 24 && observed <= peak * thresholds.volume.knownPeakFactor;
    const novelty = core.recentNovelty(account, event.timeMs);
    const chain = core.takeoverChain(account, event.timeMs, focus.apiKeyId);
    let severity: Severity = 'warning';
    if (chain.length > 0 || (novelty && ratio >= thresholds.volume.minRatio)) severity = 'critical';
    else if (withinKnownPeak) severity = 'info';
    else if (score >= 3 * thresholds.volume.zScore && ratio >= 3 * thresholds.volume.minRatio)
      severity = 'critical';
    const run = tracker.elevatedRun();
    core.emit({
      kind: 'volume_spike',
      account,
      key,
      windowMs: windowsMs[w] as number,
      timeMs: event.timeMs,
      observed,
      expected,
      score,
      severity,
      reason: `${key} sent ${observed} messages in ${WINDOW_NAMES[w]} against ${expected.toFixed(1)} expected (${ratio.toFixed(1)}x)${
        withinKnownPeak ? '; within the account’s historical peak' : ''
      }${novelty ? `; ${novelty}` : ''}`,
      metrics: { ratio, threshold: tracker.threshold[w] as number, historicalPeak: peak },
      messagesBeforeDetection: Math.max(run.messages, observed),
      anomalyStartMs: run.messages > 0 ? run.startMs : event.timeMs - (windowsMs[w] as number),
      focus,
      trigger: event,
      audits: chain,
    });
    return;
  }
}
