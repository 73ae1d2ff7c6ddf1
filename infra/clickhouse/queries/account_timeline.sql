-- One account's minute-by-minute timeline around an incident: messages, distinct recipients,
-- API keys and countries in use, opt-outs and failures, and the detections raised in each minute.
-- @param account String account id
-- @param from DateTime64(3, 'UTC') start of the timeline
-- @param to DateTime64(3, 'UTC') end of the timeline
SELECT
    t.minute AS minute,
    t.messages AS messages,
    t.recipients AS distinct_recipients,
    t.api_keys AS api_keys,
    t.countries AS countries,
    r.opt_outs AS opt_outs,
    s.failures AS failures,
    s.final_statuses AS final_statuses,
    d.detections AS detections
FROM
(
    SELECT minute, sum(messages) AS messages, uniqMerge(recipients) AS recipients,
           groupUniqArray(api_key_id) AS api_keys, groupUniqArray(country) AS countries
    FROM traffic_minute
    WHERE account_id = {account:String} AND minute >= toStartOfMinute({from:DateTime64(3, 'UTC')}) AND minute <= {to:DateTime64(3, 'UTC')}
    GROUP BY minute
) AS t
LEFT JOIN
(
    SELECT minute, sum(opt_outs) AS opt_outs FROM replies_minute
    WHERE account_id = {account:String} AND minute >= toStartOfMinute({from:DateTime64(3, 'UTC')}) AND minute <= {to:DateTime64(3, 'UTC')}
    GROUP BY minute
) AS r ON r.minute = t.minute
LEFT JOIN
(
    SELECT minute, sum(failures) AS failures, sum(final_statuses) AS final_statuses FROM status_minute
    WHERE account_id = {account:String} AND minute >= toStartOfMinute({from:DateTime64(3, 'UTC')}) AND minute <= {to:DateTime64(3, 'UTC')}
    GROUP BY minute
) AS s ON s.minute = t.minute
LEFT JOIN
(
    SELECT toStartOfMinute(detected_at) AS minute, groupArray(concat(kind, ':', severity)) AS detections
    FROM detections FINAL
    WHERE account_id = {account:String} AND detected_at >= {from:DateTime64(3, 'UTC')} AND detected_at <= {to:DateTime64(3, 'UTC')}
    GROUP BY minute
) AS d ON d.minute = t.minute
ORDER BY minute
