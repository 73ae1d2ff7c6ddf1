-- SMS pumping by number prefix: prefixes that received many distinct recipients in the period,
-- in countries that make up little of the account's usual traffic, with the destination detections
-- raised for them. Pumped ranges are blocks of consecutive numbers, so one prefix carries them.
-- @param since DateTime64(3, 'UTC') start of the period
-- @param min_recipients UInt32 ignore prefixes below this many distinct recipients
SELECT
    p.account_id AS account_id,
    p.recipient_country AS country,
    p.recipient_prefix AS prefix,
    p.messages AS messages,
    p.recipients AS recipients,
    round(c.country_share_before, 4) AS country_share_before,
    d.detections AS destination_detections
FROM
(
    SELECT account_id, recipient_country, recipient_prefix, count() AS messages, uniq(recipient_hash) AS recipients
    FROM messages_outbound
    WHERE event_time >= {since:DateTime64(3, 'UTC')}
    GROUP BY account_id, recipient_country, recipient_prefix
    HAVING recipients >= {min_recipients:UInt32}
) AS p
LEFT JOIN
(
    SELECT account_id, country, sum(messages) / sum(sum(messages)) OVER (PARTITION BY account_id) AS country_share_before
    FROM traffic_minute
    WHERE minute < {since:DateTime64(3, 'UTC')} AND minute >= {since:DateTime64(3, 'UTC')} - INTERVAL 7 DAY
    GROUP BY account_id, country
) AS c ON c.account_id = p.account_id AND c.country = p.recipient_country
LEFT JOIN
(
    SELECT account_id, replaceOne(key, 'country:', '') AS country, count() AS detections
    FROM detections FINAL
    WHERE kind = 'destination_anomaly' AND detected_at >= {since:DateTime64(3, 'UTC')}
    GROUP BY account_id, country
) AS d ON d.account_id = p.account_id AND d.country = p.recipient_country
ORDER BY recipients DESC
