-- Raw event tables: one row per validated event, written by services/ingest.
--
-- * Event time is DateTime64(3, 'UTC'); rows expire after {{retention_days}} days (CLICKHOUSE_RETENTION_DAYS).
-- * ORDER BY starts with account_id, event_time: per-account time-range queries read a narrow range.
-- * ReplacingMergeTree keyed by (account_id, event_time, event_id): a producer retry of the same event
--   collapses to one row at merge time; ingest also sends insert deduplication tokens per batch, so a
--   re-delivered batch is dropped at insert. Analysts who need exact counts before merges use FINAL.
-- * Phone numbers are stored as a keyed HMAC (recipient_hash) next to what analysis needs in clear:
--   country, a prefix and the number type. Bodies are stored per the ingest bodyStorage mode.

CREATE TABLE IF NOT EXISTS messages_outbound
(
    event_id          String,
    event_time        DateTime64(3, 'UTC'),
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3),
    account_id        LowCardinality(String),
    sub_account_id    LowCardinality(String) DEFAULT '',
    campaign_id       LowCardinality(String) DEFAULT '',
    api_key_id        LowCardinality(String),
    source_ip         String DEFAULT '',
    user_agent        LowCardinality(String) DEFAULT '',
    sender            LowCardinality(String),
    recipient_hash    String,
    recipient_country LowCardinality(String),
    recipient_prefix  LowCardinality(String),
    recipient_type    LowCardinality(String),
    channel           LowCardinality(String),
    body              String DEFAULT '' CODEC(ZSTD(3)),
    body_hash         String DEFAULT '',
    template          String DEFAULT '' CODEC(ZSTD(3)),
    fingerprint       UInt64 DEFAULT 0,
    link_domains      Array(LowCardinality(String)) DEFAULT [],
    segments          UInt8 DEFAULT 1,
    metadata          Map(LowCardinality(String), String) DEFAULT map()
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (account_id, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL {{retention_days}} DAY DELETE
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS messages_inbound
(
    event_id          String,
    event_time        DateTime64(3, 'UTC'),
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3),
    account_id        LowCardinality(String),
    sender_hash       String,
    sender_country    LowCardinality(String),
    sender_prefix     LowCardinality(String),
    recipient         LowCardinality(String),
    body              String DEFAULT '' CODEC(ZSTD(3)),
    classification    LowCardinality(String),
    provider_opt_out  Bool DEFAULT false,
    in_reply_to       String DEFAULT ''
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (account_id, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL {{retention_days}} DAY DELETE
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS messages_status
(
    event_id          String,
    event_time        DateTime64(3, 'UTC'),
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3),
    account_id        LowCardinality(String),
    message_id        String,
    status            LowCardinality(String),
    error_code        LowCardinality(String) DEFAULT '',
    error_category    LowCardinality(String) DEFAULT '',
    carrier           LowCardinality(String) DEFAULT '',
    recipient_country LowCardinality(String) DEFAULT ''
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (account_id, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL {{retention_days}} DAY DELETE
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS messages_feedback
(
    event_id          String,
    event_time        DateTime64(3, 'UTC'),
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3),
    account_id        LowCardinality(String),
    message_id        String,
    converted         Bool,
    recipient_country LowCardinality(String) DEFAULT ''
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (account_id, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL {{retention_days}} DAY DELETE
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS accounts_audit
(
    event_id          String,
    event_time        DateTime64(3, 'UTC'),
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3),
    account_id        LowCardinality(String),
    actor             String,
    action            LowCardinality(String),
    mfa_used          Nullable(Bool),
    source_ip         String DEFAULT '',
    user_agent        LowCardinality(String) DEFAULT '',
    target_api_key_id LowCardinality(String) DEFAULT ''
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (account_id, event_time, event_id)
-- Audit history is kept at least a year whatever the traffic retention: credential reviews look back that far.
TTL toDateTime(event_time) + INTERVAL greatest({{retention_days}}, 400) DAY DELETE
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS api_keys
(
    key_id            String,
    account_id        LowCardinality(String),
    owner             String,
    third_party       String DEFAULT '',
    allowed_networks  Array(String),
    allowed_countries Array(LowCardinality(String)),
    created_at        DateTime64(3, 'UTC'),
    updated_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (account_id, key_id);
