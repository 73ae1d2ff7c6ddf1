-- Credential audit: API keys shared with third parties (api_keys.third_party set) and what they did
-- since `since`: messages, recipients, destination countries and source addresses, and how much of it
-- fell outside the scope agreed in the inventory (countries, networks). Unused shared keys are listed
-- too, with zero messages: revoke what the partner no longer needs.
-- @param since DateTime64(3, 'UTC') start of the period
SELECT
    k.account_id AS account_id,
    k.key_id AS key_id,
    k.third_party AS third_party,
    k.owner AS owner,
    k.allowed_networks AS allowed_networks,
    k.allowed_countries AS allowed_countries,
    t.messages AS messages,
    t.recipients AS recipients,
    t.countries AS countries,
    arrayFilter(c -> notEmpty(k.allowed_countries) AND NOT has(k.allowed_countries, c), t.countries) AS countries_outside_scope,
    t.source_ips AS source_ips,
    arrayFilter(ip -> notEmpty(k.allowed_networks) AND NOT arrayExists(n -> isIPAddressInRange(ip, n), k.allowed_networks), t.source_ips) AS source_ips_outside_scope,
    nullIf(t.last_used, toDateTime64(0, 3, 'UTC')) AS last_used
FROM
(
    SELECT account_id, key_id, third_party, owner, allowed_networks, allowed_countries
    FROM api_keys FINAL
    WHERE third_party != ''
) AS k
LEFT JOIN
(
    SELECT
        account_id,
        api_key_id,
        count() AS messages,
        uniq(recipient_hash) AS recipients,
        arraySort(groupUniqArray(toString(recipient_country))) AS countries,
        arraySort(groupUniqArrayIf(100)(source_ip, source_ip != '')) AS source_ips,
        max(event_time) AS last_used
    FROM messages_outbound
    WHERE event_time >= {since:DateTime64(3, 'UTC')}
    GROUP BY account_id, api_key_id
) AS t ON t.account_id = k.account_id AND t.api_key_id = k.key_id
ORDER BY length(countries_outside_scope) + length(source_ips_outside_scope) DESC, messages DESC, account_id, key_id
