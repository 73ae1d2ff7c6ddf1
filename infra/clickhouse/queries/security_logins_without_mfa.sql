-- Credential audit: console logins without MFA since `since` (accounts_audit, action 'login' with
-- mfa_used = false), per account and user, with where they came from. Logins whose MFA use was not
-- reported (mfa_used NULL) are not counted here.
-- @param since DateTime64(3, 'UTC') start of the period
SELECT
    account_id,
    actor,
    countIf(mfa_used = false) AS logins_without_mfa,
    count() AS logins,
    arraySort(groupUniqArrayIf(20)(source_ip, mfa_used = false AND source_ip != '')) AS source_ips,
    arraySort(groupUniqArrayIf(10)(toString(user_agent), mfa_used = false AND user_agent != '')) AS user_agents,
    minIf(event_time, mfa_used = false) AS first_without_mfa,
    maxIf(event_time, mfa_used = false) AS last_without_mfa
FROM accounts_audit FINAL
WHERE action = 'login' AND event_time >= {since:DateTime64(3, 'UTC')}
GROUP BY account_id, actor
HAVING logins_without_mfa > 0
ORDER BY logins_without_mfa DESC, account_id, actor
