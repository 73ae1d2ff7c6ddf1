-- Minute rollups and the fingerprint catalogue, maintained by materialized views on insert.
--
-- * traffic_minute: per account × API key × destination country × fingerprint and minute: messages,
--   segments and distinct recipients (uniq state). Summing by any subset of the key gives the
--   per-account, per-key, per-country or per-fingerprint series analysts and the console chart use.
-- * replies_minute / status_minute: opt-outs and failures per account and minute.
-- * fingerprints: per template fingerprint, its template text, first/last seen, messages and the
--   accounts that sent it (uniq state), so "which accounts sent this template" is one lookup.
-- Query the aggregate states with -Merge combinators (see infra/clickhouse/queries/).

CREATE TABLE IF NOT EXISTS traffic_minute
(
    minute            DateTime('UTC'),
    account_id        LowCardinality(String),
    api_key_id        LowCardinality(String),
    country           LowCardinality(String),
    fingerprint       UInt64,
    messages          SimpleAggregateFunction(sum, UInt64),
    segments          SimpleAggregateFunction(sum, UInt64),
    recipients        AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (account_id, minute, api_key_id, country, fingerprint)
TTL minute + INTERVAL {{retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_minute_mv TO traffic_minute AS
SELECT
    toStartOfMinute(event_time) AS minute,
    account_id,
    api_key_id,
    recipient_country AS country,
    fingerprint,
    toUInt64(count()) AS messages,
    toUInt64(sum(segments)) AS segments,
    uniqState(recipient_hash) AS recipients
FROM messages_outbound
GROUP BY minute, account_id, api_key_id, country, fingerprint;

CREATE TABLE IF NOT EXISTS replies_minute
(
    minute            DateTime('UTC'),
    account_id        LowCardinality(String),
    replies           SimpleAggregateFunction(sum, UInt64),
    opt_outs          SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (account_id, minute)
TTL minute + INTERVAL {{retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS replies_minute_mv TO replies_minute AS
SELECT
    toStartOfMinute(event_time) AS minute,
    account_id,
    toUInt64(count()) AS replies,
    toUInt64(countIf(classification = 'opt_out')) AS opt_outs
FROM messages_inbound
GROUP BY minute, account_id;

CREATE TABLE IF NOT EXISTS status_minute
(
    minute            DateTime('UTC'),
    account_id        LowCardinality(String),
    country           LowCardinality(String),
    final_statuses    SimpleAggregateFunction(sum, UInt64),
    failures          SimpleAggregateFunction(sum, UInt64),
    filtered          SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (account_id, minute, country)
TTL minute + INTERVAL {{retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS status_minute_mv TO status_minute AS
SELECT
    toStartOfMinute(event_time) AS minute,
    account_id,
    recipient_country AS country,
    toUInt64(countIf(status IN ('delivered', 'undelivered', 'failed', 'filtered'))) AS final_statuses,
    toUInt64(countIf(status IN ('undelivered', 'failed', 'filtered'))) AS failures,
    toUInt64(countIf(error_category = 'carrier_filtered' OR status = 'filtered')) AS filtered
FROM messages_status
GROUP BY minute, account_id, country;

CREATE TABLE IF NOT EXISTS fingerprints
(
    fingerprint       UInt64,
    template          SimpleAggregateFunction(any, String),
    first_seen        SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen         SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    messages          SimpleAggregateFunction(sum, UInt64),
    accounts          AggregateFunction(uniq, String),
    link_domains      SimpleAggregateFunction(groupUniqArrayArray, Array(String))
)
ENGINE = AggregatingMergeTree
ORDER BY fingerprint;

CREATE MATERIALIZED VIEW IF NOT EXISTS fingerprints_mv TO fingerprints AS
SELECT
    fingerprint,
    any(template) AS template,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    toUInt64(count()) AS messages,
    uniqState(toString(account_id)) AS accounts,
    groupUniqArrayArray(arrayMap(d -> toString(d), link_domains)) AS link_domains
FROM messages_outbound
WHERE fingerprint != 0
GROUP BY fingerprint;
