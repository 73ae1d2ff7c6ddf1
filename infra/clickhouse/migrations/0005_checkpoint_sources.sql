-- The detector's checkpoint also records, per source topic-partition, the last source offset whose
-- normalized record the engine has counted. Ingest re-forwards a batch when it crashes between
-- forwarding and committing; the detector skips those copies instead of counting them twice
-- (a doubled minute would look like a volume spike).
ALTER TABLE detector_checkpoints ADD COLUMN IF NOT EXISTS sources String DEFAULT '{}';
