-- view: pipeline_quality
-- description: One row: rows per layer, poison (dead-lettered) and duplicate counts from ops/batch_quality, late events (distinct events, and rows: one per window missed), and the SPEC §1 check bronze = silver + poison + duplicates.
-- columns: bronze_rows bigint, silver_rows bigint, poison_records bigint, duplicate_records bigint, unaccounted_records bigint, conservation_ok boolean, poison_ratio double, late_events bigint, late_event_rows bigint, window_tumbling_rows bigint, window_sliding_rows bigint, session_rows bigint, alert_rows bigint, batches bigint
WITH bronze AS (
  SELECT count(*) AS n FROM raw_events
),
silver AS (
  SELECT count(*) AS n FROM events
),
batches AS (
  SELECT
    count(*) AS n,
    CAST(COALESCE(sum(poison), 0) AS bigint) AS poison,
    CAST(COALESCE(sum(duplicates), 0) AS bigint) AS duplicates
  FROM batch_quality
),
late AS (
  SELECT count(DISTINCT event_id) AS events, count(*) AS n FROM late_events
),
tumbling AS (
  SELECT count(*) AS n FROM window_tumbling_1m
),
sliding AS (
  SELECT count(*) AS n FROM window_sliding_5m
),
sess AS (
  SELECT count(*) AS n FROM sessions
),
alerted AS (
  SELECT count(*) AS n FROM alerts
)
SELECT
  bronze.n AS bronze_rows,
  silver.n AS silver_rows,
  batches.poison AS poison_records,
  batches.duplicates AS duplicate_records,
  bronze.n - silver.n - batches.poison - batches.duplicates AS unaccounted_records,
  bronze.n = silver.n + batches.poison + batches.duplicates AS conservation_ok,
  CASE WHEN bronze.n = 0 THEN CAST(0 AS double) ELSE CAST(batches.poison AS double) / CAST(bronze.n AS double) END AS poison_ratio,
  late.events AS late_events,
  late.n AS late_event_rows,
  tumbling.n AS window_tumbling_rows,
  sliding.n AS window_sliding_rows,
  sess.n AS session_rows,
  alerted.n AS alert_rows,
  batches.n AS batches
FROM bronze
CROSS JOIN silver
CROSS JOIN batches
CROSS JOIN late
CROSS JOIN tumbling
CROSS JOIN sliding
CROSS JOIN sess
CROSS JOIN alerted
