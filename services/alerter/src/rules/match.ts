/**
 * Which detection rules a detection satisfies, the alert severity it maps to and the labels its
 * alert carries. Pure functions over the parsed rule and the detection.
 */
import type { Detection } from '@floodgate/detect';
import type { DetectionRule } from './load.ts';
import type { AlertSeverity } from './schema.ts';

/** observed / expected; an expected of 0 with something observed is infinitely anomalous. */
export function observedRatio(detection: Pick<Detection, 'observed' | 'expected'>): number {
  if (detection.expected > 0) return detection.observed / detection.expected;
  return detection.observed > 0 ? Number.POSITIVE_INFINITY : 0;
}

export function matchesDetection(rule: DetectionRule, detection: Detection): boolean {
  const match = rule.match;
  if (match.kinds && !match.kinds.includes(detection.kind)) return false;
  if (match.severities && !match.severities.includes(detection.severity)) return false;
  if (match.min_score !== undefined && !(detection.score >= match.min_score)) return false;
  if (match.min_observed !== undefined && !(detection.observed >= match.min_observed)) return false;
  if (match.min_ratio !== undefined && !(observedRatio(detection) >= match.min_ratio)) return false;
  if (match.accounts && !match.accounts.includes(detection.accountId)) return false;
  if (match.exclude_accounts?.includes(detection.accountId)) return false;
  if (match.labels) {
    for (const [name, value] of Object.entries(match.labels))
      if (detection.labels[name] !== value) return false;
  }
  return true;
}

export function alertSeverityOf(rule: DetectionRule, detection: Detection): AlertSeverity {
  if (typeof rule.severity === 'string') return rule.severity;
  return rule.severity[detection.severity] ?? detection.severity;
}

const severityRank: Record<AlertSeverity, number> = { info: 0, warning: 1, error: 2, critical: 3 };

export function severityAtLeast(severity: AlertSeverity, floor: AlertSeverity): boolean {
  return severityRank[severity] >= severityRank[floor];
}

export function maxSeverity(a: AlertSeverity, b: AlertSeverity): AlertSeverity {
  return severityRank[a] >= severityRank[b] ? a : b;
}

/** Labels of a detection's alert: the detection's own, then the rule's, then the fixed ones. */
export function detectionLabels(rule: DetectionRule, detection: Detection): Record<string, string> {
  return {
    ...detection.labels,
    ...rule.labels,
    alertname: rule.name,
    account: detection.accountId,
    kind: detection.kind,
    key: detection.key,
  };
}

/** `account=acct_1,kind=x` from the group_by labels (every label, sorted, when groupBy is undefined). */
export function groupKeyOf(groupBy: readonly string[] | undefined, labels: Record<string, string>): string {
  const names = groupBy ?? Object.keys(labels).sort();
  return names.map((name) => `${name}=${labels[name] ?? ''}`).join(',');
}
