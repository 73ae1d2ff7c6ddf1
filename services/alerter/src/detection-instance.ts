/** A detection as an alert instance of a detection rule: labels, mapped severity, evidence. */
import type { Detection } from '@floodgate/detect';
import type { AlertInstance } from './incidents/book.ts';
import type { DetectionRule } from './rules/load.ts';
import { alertSeverityOf, detectionLabels } from './rules/match.ts';

const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

export function detectionInstance(rule: DetectionRule, detection: Detection): AlertInstance {
  const e = detection.evidence;
  return {
    labels: detectionLabels(rule, detection),
    severity: alertSeverityOf(rule, detection),
    summary: e.reason ?? `${detection.kind} on ${detection.accountId}`,
    kind: detection.kind,
    detectionId: detection.id,
    evidence: {
      reason: e.reason ?? '',
      // Samples are masked by the engine (codes, amounts, link paths, emails never survive).
      topTemplates: (e.topTemplates ?? []).slice(0, 5).map((t) => ({
        sample: t.sample,
        count: t.count,
        ...(t.isNew ? { isNew: true } : {}),
      })),
      topCountries: (e.topCountries ?? []).slice(0, 10),
      apiKeys: (e.apiKeys ?? []).slice(0, 10),
      linkDomains: (e.linkDomains ?? []).slice(0, 10),
      counts: {
        observed: round(detection.observed),
        expected: round(detection.expected),
        score: round(detection.score),
        distinct_recipients: e.distinctRecipients ?? 0,
        messages_before_detection: e.messagesBeforeDetection ?? 0,
        estimated_cost_usd: round(e.estimatedCostUsd ?? 0),
        window_start_ms: detection.windowStartMs,
        window_end_ms: detection.windowEndMs,
      },
      values: {},
    },
  };
}
