-- People acting on incidents (`floodgate incidents ack|resolve`).
--
-- * alert_actions: one row per action ('ack', 'unack', 'resolve') with who did it and an optional
--   note. The CLI (or the all-in-one's admin endpoint) writes it; the alerter holding the incident
--   polls for actions on its open incidents and applies each once — the applied ids are kept in the
--   incident's state JSON in `alerts`, so a restart does not apply an action twice. Keyed by id, so a
--   retried insert of the same action collapses into one row.
-- * alerts gains who acknowledged an incident (and when) and who resolved it by hand, and
--   alert_transitions gains the actor of a change ('' when the alerter decided it).

CREATE TABLE IF NOT EXISTS alert_actions
(
    id                String,
    incident_id       String,
    action            LowCardinality(String),
    actor             String,
    note              String DEFAULT '',
    at                DateTime64(3, 'UTC'),
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(at)
ORDER BY (incident_id, id)
TTL toDateTime(at) + INTERVAL greatest({{retention_days}}, 400) DAY DELETE;

ALTER TABLE alerts ADD COLUMN IF NOT EXISTS acknowledged_by String DEFAULT '';
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS acknowledged_at Nullable(DateTime64(3, 'UTC'));
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS resolved_by String DEFAULT '';
ALTER TABLE alert_transitions ADD COLUMN IF NOT EXISTS actor String DEFAULT '';
