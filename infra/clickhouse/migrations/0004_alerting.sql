-- Alerting state written by services/alerter.
--
-- * alerts: one row per incident and version (ReplacingMergeTree(version) keeps the newest): its
--   state (pending, firing, resolved), severity, labels, timestamps, the silence that muted it and
--   the full state JSON the alerter restores after a restart, so an open incident is never paged twice.
-- * alert_transitions: append-only log of state changes (opened, fired, escalated, resolved, silenced).
-- * alert_notifications: the outbox and the delivery log in one. A notification is written `pending`
--   before the Kafka offset of the detection that caused it is committed, then re-written
--   `delivered` or `failed` (with the reason); a restarted alerter delivers the pending ones.
--   `silenced` and `shadow` rows record what was not sent, with the payload it would have had.
--   Payloads never contain secrets (routing keys and signatures are added at delivery).
-- * alert_silences: label matchers with a time window, versioned so a silence can be ended early.

CREATE TABLE IF NOT EXISTS alerts
(
    id                String,
    rule              LowCardinality(String),
    rule_type         LowCardinality(String),
    group_key         String,
    account_id        LowCardinality(String),
    state             LowCardinality(String),
    severity          LowCardinality(String),
    mode              LowCardinality(String),
    summary           String,
    labels            Map(LowCardinality(String), String),
    opened_at         DateTime64(3, 'UTC'),
    fired_at          Nullable(DateTime64(3, 'UTC')),
    last_match_at     DateTime64(3, 'UTC'),
    resolved_at       Nullable(DateTime64(3, 'UTC')),
    silenced_by       String DEFAULT '',
    detections        UInt32,
    incident          String CODEC(ZSTD(3)),
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(opened_at)
ORDER BY id
TTL toDateTime(opened_at) + INTERVAL greatest({{retention_days}}, 400) DAY DELETE;

CREATE TABLE IF NOT EXISTS alert_transitions
(
    incident_id       String,
    at                DateTime64(3, 'UTC'),
    rule              LowCardinality(String),
    account_id        LowCardinality(String),
    from_state        LowCardinality(String),
    to_state          LowCardinality(String),
    reason            String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (incident_id, at)
TTL toDateTime(at) + INTERVAL greatest({{retention_days}}, 400) DAY DELETE;

CREATE TABLE IF NOT EXISTS alert_notifications
(
    id                String,
    incident_id       String,
    rule              LowCardinality(String),
    receiver          LowCardinality(String),
    receiver_type     LowCardinality(String),
    action            LowCardinality(String),
    status            LowCardinality(String),
    attempts          UInt32 DEFAULT 0,
    reason            String DEFAULT '',
    payload           String CODEC(ZSTD(3)),
    created_at        DateTime64(3, 'UTC'),
    delivered_at      Nullable(DateTime64(3, 'UTC')),
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY id
TTL toDateTime(created_at) + INTERVAL greatest({{retention_days}}, 400) DAY DELETE;

CREATE TABLE IF NOT EXISTS alert_silences
(
    id                String,
    matchers          String,
    starts_at         DateTime64(3, 'UTC'),
    ends_at           DateTime64(3, 'UTC'),
    created_by        String,
    comment           String,
    created_at        DateTime64(3, 'UTC'),
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
