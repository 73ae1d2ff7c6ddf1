-- Top anomalous accounts: who had the most (and most severe) detections since a given time.
-- @param since DateTime64(3, 'UTC') start of the period, e.g. now minus 24 hours
-- @param limit UInt32 how many accounts
SELECT
    account_id,
    countIf(severity = 'critical') AS critical,
    countIf(severity = 'warning') AS warning,
    count() AS detections,
    groupUniqArray(kind) AS kinds,
    round(sum(estimated_cost_usd), 2) AS estimated_cost_usd,
    min(detected_at) AS first_detected,
    max(detected_at) AS last_detected
FROM detections FINAL
WHERE detected_at >= {since:DateTime64(3, 'UTC')}
GROUP BY account_id
ORDER BY critical DESC, warning DESC, detections DESC
LIMIT {limit:UInt32}
