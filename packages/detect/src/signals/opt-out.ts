/**
 * opt_out_spike: recipients replying STOP (and its variants) far more than the account's usual
 * rate. The rate is opt-outs over messages sent in the last hour, since replies trail sends by
 * minutes; each opt-out is attributed to the template last sent to that recipient, so evidence
 * names the campaign that drove them. A template is also judged on its own rate in its first day:
 * a spam campaign slipped in beside an account's OTPs is diluted below the account's bar by them.
 */
import type { AccountState, ClusterState } from '../engine/account-state.ts';
import type { EffectiveThresholds, EngineCore } from '../engine/core.ts';
import { LONG } from '../engine/rate-tracker.ts';

/** A template's own opt-out rate is judged while it is this young: its recipients answer within hours. */
const TEMPLATE_OPT_OUT_AGE_MS = 24 * 3_600_000;

export function checkOptOut(
  core: EngineCore,
  account: AccountState,
  thresholds: EffectiveThresholds,
  timeMs: number,
  attributedFingerprint: string | undefined,
  cluster: ClusterState | undefined,
): void {
  const t = thresholds.optOut;
  account.optOuts ??= core.factory.fine();
  account.optOutsHour ??= core.factory.coarse();
  account.optOuts.add(timeMs);
  account.optOutsHour.add(timeMs);
  const recent = account.optOuts.sum(1); // medium window (5m by default)
  const hourOptOuts = account.optOutsHour.sum(0);
  const hourSent = Math.max(account.rate.countAt(LONG, timeMs), 1);
  const rate = hourOptOuts / hourSent;
  const baseline = account.optOutBaseline;
  const ratioBar = baseline > 0 ? baseline * t.minRatio : 0;
  if (recent < t.minOptOuts || rate < Math.max(t.minRate, ratioBar)) {
    if (cluster) checkTemplateOptOut(core, account, thresholds, timeMs, cluster, ratioBar);
    return;
  }
  core.emit({
    kind: 'opt_out_spike',
    account,
    key: 'account',
    windowMs: core.config.windowsMs.long,
    timeMs,
    observed: rate,
    expected: Math.max(baseline, 0),
    score: (rate / Math.max(t.minRate, ratioBar, 1e-6)) * 2,
    severity: rate >= 2.5 * t.minRate ? 'critical' : 'warning',
    reason: `${hourOptOuts} opt-outs against ${hourSent} messages in the last hour (${(rate * 100).toFixed(1)}%; usual ${(Math.max(baseline, 0) * 100).toFixed(2)}%)`,
    metrics: { optOutRate: rate, optOuts1h: hourOptOuts, sent1h: hourSent, baselineRate: baseline },
    messagesBeforeDetection: hourSent,
    anomalyStartMs: timeMs - core.config.windowsMs.long,
    focus: attributedFingerprint ? { fingerprint: attributedFingerprint } : {},
    labels: attributedFingerprint ? { fingerprint: attributedFingerprint } : {},
  });
}

/**
 * The template's opt-outs over its messages since it was first sent, while it is young: at least
 * minOptOuts of them, at the account's bar (minRate, and minRatio times its usual rate). Critical
 * at 2.5 times minRate with twice minOptOuts, as a campaign recipients see as spam drives it.
 */
function checkTemplateOptOut(
  core: EngineCore,
  account: AccountState,
  thresholds: EffectiveThresholds,
  timeMs: number,
  cluster: ClusterState,
  ratioBar: number,
): void {
  const t = thresholds.optOut;
  const ageMs = timeMs - cluster.firstSeenMs;
  // A template taken up again after it was dropped idle counts its messages since then, but STOPs
  // from the recipients of its first sends still come to it: its rate would be over the wrong sends.
  if (cluster.optOuts < t.minOptOuts || ageMs > TEMPLATE_OPT_OUT_AGE_MS) return;
  if (cluster.countsSinceMs > cluster.firstSeenMs) return;
  const rate = cluster.optOuts / Math.max(cluster.messages, 1);
  const bar = Math.max(t.minRate, ratioBar);
  if (rate < bar) return;
  const baseline = Math.max(account.optOutBaseline, 0);
  core.emit({
    kind: 'opt_out_spike',
    account,
    key: `template:${cluster.fingerprint}`,
    windowMs: core.config.windowsMs.long,
    timeMs,
    observed: rate,
    expected: baseline,
    score: (rate / Math.max(bar, 1e-6)) * 2,
    severity: rate >= 2.5 * t.minRate && cluster.optOuts >= 2 * t.minOptOuts ? 'critical' : 'warning',
    reason: `${cluster.optOuts} opt-outs from ${cluster.messages} messages of one template in the ${Math.max(1, Math.round(ageMs / 60_000))}m since it was first sent (${(rate * 100).toFixed(1)}%; the account's usual ${(baseline * 100).toFixed(2)}%)`,
    metrics: {
      optOutRate: rate,
      templateOptOuts: cluster.optOuts,
      templateMessages: cluster.messages,
      baselineRate: account.optOutBaseline,
    },
    messagesBeforeDetection: cluster.messages,
    anomalyStartMs: cluster.firstSeenMs,
    focus: { fingerprint: cluster.fingerprint },
    labels: { fingerprint: cluster.fingerprint },
  });
}

/** Learns the account's usual opt-out rate once per closed hour (called by the engine). */
export function learnOptOutRate(account: AccountState, hourIndex: number): void {
  if (hourIndex === account.optOutBaselineHour) return;
  account.optOutBaselineHour = hourIndex;
  const nowMs = hourIndex * 3_600_000;
  const sent = account.rate.countAt(LONG, nowMs);
  if (sent < 50) return;
  const rate = (account.optOutsHour?.sumAt(0, nowMs) ?? 0) / sent;
  // Do not learn from an hour that would itself fire.
  if (account.optOutBaseline > 0 && rate > account.optOutBaseline * 4 && rate > 0.02) return;
  account.optOutBaseline = account.optOutBaseline < 0 ? rate : 0.9 * account.optOutBaseline + 0.1 * rate;
}
