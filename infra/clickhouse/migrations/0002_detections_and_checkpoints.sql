-- Detections written by services/detector, and the detector's per-partition checkpoints.
--
-- * detections: one row per detection id (a hash of kind, key and window start), so a re-processed
--   window rewrites the same id; ReplacingMergeTree(version) keeps the latest. Evidence is JSON text
--   with the masked samples, countries, keys and audit events the engine gathered.
-- * detector_checkpoints: the engine state of one partition with the offset it covers; the detector
--   restores the newest row on assignment and resumes from that offset.

CREATE TABLE IF NOT EXISTS detections
(
    id                String,
    kind              LowCardinality(String),
    account_id        LowCardinality(String),
    key               String,
    severity          LowCardinality(String),
    window_start      DateTime64(3, 'UTC'),
    window_end        DateTime64(3, 'UTC'),
    detected_at       DateTime64(3, 'UTC'),
    observed          Float64,
    expected          Float64,
    score             Float64,
    reason            String,
    messages_before_detection UInt64,
    estimated_cost_usd Float64,
    labels            Map(LowCardinality(String), String),
    evidence          String CODEC(ZSTD(3)),
    detector_version  LowCardinality(String),
    version           DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(detected_at)
ORDER BY (account_id, detected_at, id)
TTL toDateTime(detected_at) + INTERVAL greatest({{retention_days}}, 400) DAY DELETE;

CREATE TABLE IF NOT EXISTS detector_checkpoints
(
    group_id          LowCardinality(String),
    topic             LowCardinality(String),
    partition         UInt32,
    next_offset       Int64,
    state             String CODEC(ZSTD(3)),
    written_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (group_id, topic, partition);
