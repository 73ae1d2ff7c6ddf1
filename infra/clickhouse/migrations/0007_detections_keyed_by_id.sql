-- detections was ordered by (account_id, detected_at, id): ReplacingMergeTree collapses rows with the
-- same sorting key, so a detection re-emitted with a later detected_at (the same window escalating
-- from warning to critical, or re-processed after a restart) stayed as two rows even with FINAL, and
-- per-account counts double-counted it. The table is rebuilt keyed by (account_id, id) — one row per
-- detection, the latest version kept — with a minmax index on detected_at for time-range queries.
-- Partitioned by month of the window start: the versions of one id share a partition (except a
-- detection re-emitted across a month boundary, which FINAL then shows twice).

CREATE TABLE IF NOT EXISTS detections_by_id
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
    version           DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX detected_at_minmax detected_at TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (account_id, id)
TTL toDateTime(detected_at) + INTERVAL greatest({{retention_days}}, 400) DAY DELETE;

INSERT INTO detections_by_id SELECT * FROM detections;

EXCHANGE TABLES detections AND detections_by_id;

DROP TABLE detections_by_id;
