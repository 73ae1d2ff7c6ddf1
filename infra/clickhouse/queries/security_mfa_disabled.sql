-- Credential audit: users whose latest MFA-related audit action (mfa_enrolled / mfa_disabled) turned
-- MFA off, over the whole audit history (kept at least 400 days), so MFA is off today. An attacker
-- who took over a console login often disables MFA first. `disabled_in_period` marks changes made
-- since `since`; `logins_since` counts logins after the change.
-- @param since DateTime64(3, 'UTC') start of the audit period (changes after it are flagged)
SELECT
    s.account_id AS account_id,
    s.actor AS actor,
    s.disabled_at AS disabled_at,
    s.source_ip AS source_ip,
    s.user_agent AS user_agent,
    s.disabled_at >= {since:DateTime64(3, 'UTC')} AS disabled_in_period,
    (SELECT count() FROM accounts_audit AS l
     WHERE l.account_id = s.account_id AND l.actor = s.actor AND l.action = 'login' AND l.event_time > s.disabled_at) AS logins_since
FROM
(
    SELECT
        account_id,
        actor,
        argMax(action, event_time) AS last_action,
        max(event_time) AS disabled_at,
        argMax(source_ip, event_time) AS source_ip,
        argMax(toString(user_agent), event_time) AS user_agent
    FROM accounts_audit FINAL
    WHERE action IN ('mfa_enrolled', 'mfa_disabled')
    GROUP BY account_id, actor
    HAVING last_action = 'mfa_disabled'
) AS s
ORDER BY disabled_at DESC, account_id, actor
