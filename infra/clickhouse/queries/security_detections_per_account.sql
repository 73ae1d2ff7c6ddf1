-- Credential audit: detections per account since `since`, by severity, with the kinds raised, the
-- credential detections (leaked or misused keys, takeover chains) counted apart and the estimated
-- cost of the traffic sent before each detection. Every account with at least one detection is listed.
-- A detection updated later (same id, later detected_at) is one row of the table per update: it is
-- counted once here, as its latest version.
-- @param since DateTime64(3, 'UTC') start of the period
SELECT
    account_id,
    count() AS detections,
    countIf(latest_severity = 'critical') AS critical,
    countIf(latest_severity = 'warning') AS warning,
    countIf(latest_severity = 'info') AS info,
    countIf(latest_kind = 'credential_anomaly') AS credential_detections,
    arraySort(groupUniqArray(latest_kind)) AS kinds,
    round(sum(latest_cost_usd), 2) AS estimated_cost_usd,
    min(latest_detected_at) AS first_detected,
    max(latest_detected_at) AS last_detected
FROM
(
    SELECT
        account_id,
        id,
        argMax(toString(kind), (detected_at, version)) AS latest_kind,
        argMax(toString(severity), (detected_at, version)) AS latest_severity,
        argMax(estimated_cost_usd, (detected_at, version)) AS latest_cost_usd,
        max(detected_at) AS latest_detected_at
    FROM detections FINAL
    WHERE detected_at >= {since:DateTime64(3, 'UTC')}
    GROUP BY account_id, id
)
GROUP BY account_id
ORDER BY critical DESC, detections DESC, account_id
