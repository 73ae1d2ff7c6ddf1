-- Credential audit: API keys seen from many source networks since `since` (IPv4 /24, IPv6 /48).
-- A key used by one integration comes from a handful of networks; one that leaked is used from
-- cloud, VPN and hosting ranges as well. `messages_outside_scope` counts messages from addresses
-- outside the key's allowed_networks (0 when the key has no network scope: see security_unscoped_keys).
-- @param since DateTime64(3, 'UTC') start of the period
-- @param min_networks UInt32 list keys seen from at least this many networks
SELECT
    m.account_id AS account_id,
    m.api_key_id AS api_key_id,
    uniqExact(m.network) AS networks,
    arraySort(groupUniqArray(20)(m.network)) AS sample_networks,
    count() AS messages,
    countIf(notEmpty(k.allowed_networks) AND NOT arrayExists(c -> isIPAddressInRange(m.source_ip, c), k.allowed_networks)) AS messages_outside_scope,
    any(k.allowed_networks) AS allowed_networks,
    min(m.event_time) AS first_seen,
    max(m.event_time) AS last_seen
FROM
(
    SELECT
        account_id,
        api_key_id,
        source_ip,
        event_time,
        multiIf(
            isIPv4String(source_ip), concat(IPv4NumToStringClassC(toIPv4OrDefault(source_ip)), '/24'),
            isIPv6String(source_ip), concat(IPv6NumToString(IPv6CIDRToRange(toIPv6OrDefault(source_ip), 48).1), '/48'),
            source_ip
        ) AS network
    FROM messages_outbound
    WHERE event_time >= {since:DateTime64(3, 'UTC')} AND source_ip != ''
) AS m
LEFT JOIN
(
    SELECT account_id, key_id, allowed_networks FROM api_keys FINAL
) AS k ON k.account_id = m.account_id AND k.key_id = m.api_key_id
GROUP BY account_id, api_key_id
HAVING networks >= {min_networks:UInt32}
ORDER BY networks DESC, messages DESC
