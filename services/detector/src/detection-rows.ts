/** A detection as a row of the `detections` table (evidence as JSON text). */
import type { Detection } from '@floodgate/detect';

export function detectionRow(detection: Detection): Record<string, unknown> {
  return {
    id: detection.id,
    kind: detection.kind,
    account_id: detection.accountId,
    key: detection.key,
    severity: detection.severity,
    window_start: detection.windowStartMs,
    window_end: detection.windowEndMs,
    detected_at: detection.detectedAtMs,
    observed: detection.observed,
    expected: detection.expected,
    score: detection.score,
    reason: detection.evidence.reason,
    messages_before_detection: detection.evidence.messagesBeforeDetection,
    estimated_cost_usd: detection.evidence.estimatedCostUsd,
    labels: detection.labels,
    evidence: JSON.stringify(detection.evidence),
    detector_version: detection.evidence.detectorVersion,
  };
}
