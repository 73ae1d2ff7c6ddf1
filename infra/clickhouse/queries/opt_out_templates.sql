-- Templates that drove opt-outs: each opt-out is joined (ASOF) to the last message the account sent
-- to that recipient before it, and counted against the template's sends in the same period.
-- @param since DateTime64(3, 'UTC') start of the period
-- @param limit UInt32 how many templates
SELECT
    o.account_id AS account_id,
    o.fingerprint AS fingerprint,
    any(o.template) AS template,
    count() AS opt_outs,
    (SELECT count() FROM messages_outbound AS m
     WHERE m.fingerprint = o.fingerprint AND m.account_id = o.account_id AND m.event_time >= {since:DateTime64(3, 'UTC')}) AS sent
FROM
(
    SELECT account_id, sender_hash, event_time FROM messages_inbound
    WHERE classification = 'opt_out' AND event_time >= {since:DateTime64(3, 'UTC')}
) AS i
ASOF INNER JOIN
(
    SELECT account_id, recipient_hash, event_time, fingerprint, template FROM messages_outbound
    WHERE event_time >= {since:DateTime64(3, 'UTC')} - INTERVAL 1 DAY
) AS o
ON i.account_id = o.account_id AND i.sender_hash = o.recipient_hash AND i.event_time >= o.event_time
GROUP BY account_id, fingerprint
ORDER BY opt_outs DESC
LIMIT {limit:UInt32}
