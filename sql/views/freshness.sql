-- view: freshness
-- description: Freshness per UTC hour of processing time: how long events took from their event time to a silver row (processed_at) and to an alert (detected_at), p50/p99/max in milliseconds, with the rows behind each figure. Processing time minus event time, so it includes producer delay and replays.
-- columns: processing_hour timestamp, silver_rows bigint, p50_event_to_silver_ms double, p99_event_to_silver_ms double, max_event_to_silver_ms double, alert_rows bigint, p50_event_to_alert_ms double, p99_event_to_alert_ms double, max_event_to_alert_ms double
WITH silver AS (
  SELECT
    date_trunc('hour', processed_at) AS processing_hour,
    round((to_unixtime(processed_at) - to_unixtime(ts)) * 1000) AS ms
  FROM events
),
alerted AS (
  SELECT
    date_trunc('hour', detected_at) AS processing_hour,
    round((to_unixtime(detected_at) - to_unixtime(ts)) * 1000) AS ms
  FROM alerts
),
s AS (
  SELECT
    processing_hour,
    count(*) AS n,
    approx_percentile(ms, 0.5) AS p50,
    approx_percentile(ms, 0.99) AS p99,
    max(ms) AS mx
  FROM silver
  GROUP BY processing_hour
),
a AS (
  SELECT
    processing_hour,
    count(*) AS n,
    approx_percentile(ms, 0.5) AS p50,
    approx_percentile(ms, 0.99) AS p99,
    max(ms) AS mx
  FROM alerted
  GROUP BY processing_hour
)
SELECT
  COALESCE(s.processing_hour, a.processing_hour) AS processing_hour,
  COALESCE(s.n, CAST(0 AS bigint)) AS silver_rows,
  s.p50 AS p50_event_to_silver_ms,
  s.p99 AS p99_event_to_silver_ms,
  s.mx AS max_event_to_silver_ms,
  COALESCE(a.n, CAST(0 AS bigint)) AS alert_rows,
  a.p50 AS p50_event_to_alert_ms,
  a.p99 AS p99_event_to_alert_ms,
  a.mx AS max_event_to_alert_ms
FROM s
FULL OUTER JOIN a ON s.processing_hour = a.processing_hour
