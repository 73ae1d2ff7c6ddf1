-- Credential audit: API keys in the inventory (api_keys) that sent nothing since `since`, or never.
-- Stale keys are leak surface with no business use: rotate or revoke them. Keys created after
-- `since` are too new to judge, and keys with an api_key_revoked audit event are left out. Last use
-- looks back as far as the traffic rollups are kept (CLICKHOUSE_RETENTION_DAYS); older use shows as never.
-- @param since DateTime64(3, 'UTC') keys idle since this time are listed (e.g. now minus 30 days)
SELECT
    k.account_id AS account_id,
    k.key_id AS key_id,
    k.owner AS owner,
    k.third_party AS third_party,
    k.created_at AS created_at,
    -- a key with no traffic has no row in u: 0 with the default join_use_nulls = 0, NULL with 1
    ifNull(u.last_used, toDateTime(0, 'UTC')) AS last_used_or_zero,
    nullIf(last_used_or_zero, toDateTime(0, 'UTC')) AS last_used,
    last_used_or_zero = toDateTime(0, 'UTC') AS never_used,
    dateDiff('day', if(never_used, k.created_at, toDateTime64(last_used_or_zero, 3, 'UTC')), now64(3, 'UTC')) AS days_idle
FROM
(
    SELECT account_id, key_id, owner, third_party, created_at
    FROM api_keys FINAL
    WHERE created_at < {since:DateTime64(3, 'UTC')}
) AS k
LEFT JOIN
(
    SELECT account_id, api_key_id, max(minute) AS last_used
    FROM traffic_minute
    GROUP BY account_id, api_key_id
) AS u ON u.account_id = k.account_id AND u.api_key_id = k.key_id
WHERE last_used_or_zero < {since:DateTime64(3, 'UTC')}
  AND (k.account_id, k.key_id) NOT IN (
      SELECT account_id, target_api_key_id FROM accounts_audit
      WHERE action = 'api_key_revoked' AND target_api_key_id != ''
  )
ORDER BY never_used DESC, last_used ASC, account_id, key_id
