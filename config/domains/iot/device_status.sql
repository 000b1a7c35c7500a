-- view: device_status
-- description: Per device: its site, readings and heartbeats, last time seen, lowest battery reported, and alerts raised.
-- columns: device_id varchar, site_id varchar, readings bigint, heartbeats bigint, first_seen timestamp, last_seen timestamp, min_battery_pct bigint, alert_count bigint
-- requires: events(device_id, site_id, kind, ts, battery_pct), alerts(device_id)
WITH activity AS (
  SELECT
    device_id,
    max(site_id) AS site_id,
    count(CASE WHEN kind = 'reading' THEN 1 END) AS readings,
    count(CASE WHEN kind = 'heartbeat' THEN 1 END) AS heartbeats,
    min(ts) AS first_seen,
    max(ts) AS last_seen,
    min(battery_pct) AS min_battery_pct
  FROM events
  GROUP BY device_id
),
flagged AS (
  SELECT device_id, count(*) AS alert_count FROM alerts GROUP BY device_id
)
SELECT
  a.device_id,
  a.site_id,
  a.readings,
  a.heartbeats,
  a.first_seen,
  a.last_seen,
  a.min_battery_pct,
  COALESCE(f.alert_count, CAST(0 AS bigint)) AS alert_count
FROM activity a
LEFT JOIN flagged f ON f.device_id = a.device_id
