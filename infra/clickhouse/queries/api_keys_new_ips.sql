-- API keys seen from source IPs they had not used in the preceding days: a leaked key shows up
-- here, with the messages it sent from the new addresses.
-- @param since DateTime64(3, 'UTC') start of the period to inspect
-- @param history_days UInt32 how far back "known" addresses are looked up
SELECT
    account_id,
    api_key_id,
    source_ip,
    min(event_time) AS first_seen,
    count() AS messages,
    uniq(recipient_hash) AS recipients
FROM messages_outbound
WHERE event_time >= {since:DateTime64(3, 'UTC')} AND source_ip != ''
  AND (account_id, api_key_id) IN (
      SELECT account_id, api_key_id FROM messages_outbound
      WHERE event_time < {since:DateTime64(3, 'UTC')} AND event_time >= {since:DateTime64(3, 'UTC')} - toIntervalDay({history_days:UInt32})
  )
  AND (account_id, api_key_id, source_ip) NOT IN (
      SELECT account_id, api_key_id, source_ip FROM messages_outbound
      WHERE event_time < {since:DateTime64(3, 'UTC')} AND event_time >= {since:DateTime64(3, 'UTC')} - toIntervalDay({history_days:UInt32})
  )
GROUP BY account_id, api_key_id, source_ip
ORDER BY messages DESC
