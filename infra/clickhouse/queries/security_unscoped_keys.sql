-- Credential audit: API keys with no network scope (allowed_networks empty) or no country scope
-- (allowed_countries empty) in the inventory. An unscoped key works from anywhere to anywhere once
-- it leaks; `missing` names what is absent, with the key's traffic since `since` to judge the impact.
-- @param since DateTime64(3, 'UTC') start of the period whose traffic is shown
SELECT
    k.account_id AS account_id,
    k.key_id AS key_id,
    k.owner AS owner,
    k.third_party AS third_party,
    arrayFilter(x -> x != '', [if(empty(k.allowed_networks), 'networks', ''), if(empty(k.allowed_countries), 'countries', '')]) AS missing,
    k.allowed_networks AS allowed_networks,
    k.allowed_countries AS allowed_countries,
    t.messages AS messages,
    t.countries AS countries
FROM
(
    SELECT account_id, key_id, owner, third_party, allowed_networks, allowed_countries
    FROM api_keys FINAL
    WHERE empty(allowed_networks) OR empty(allowed_countries)
) AS k
LEFT JOIN
(
    SELECT account_id, api_key_id, sum(messages) AS messages, groupUniqArray(country) AS countries
    FROM traffic_minute
    WHERE minute >= {since:DateTime64(3, 'UTC')}
    GROUP BY account_id, api_key_id
) AS t ON t.account_id = k.account_id AND t.api_key_id = k.key_id
ORDER BY length(missing) DESC, messages DESC, account_id, key_id
