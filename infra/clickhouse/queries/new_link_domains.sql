-- Link domains an account started using recently: first seen for the account after `since`,
-- with how many messages and recipients they reached (phishing blasts show up here first).
-- @param since DateTime64(3, 'UTC') e.g. now minus 1 hour
-- @param history_days UInt32 how far back "never seen before" looks
SELECT
    account_id,
    domain,
    min(event_time) AS first_seen,
    count() AS messages,
    uniq(recipient_hash) AS recipients,
    groupUniqArray(3)(api_key_id) AS api_keys
FROM messages_outbound
ARRAY JOIN link_domains AS domain
WHERE event_time >= {since:DateTime64(3, 'UTC')} - toIntervalDay({history_days:UInt32})
GROUP BY account_id, domain
HAVING first_seen >= {since:DateTime64(3, 'UTC')}
ORDER BY messages DESC
