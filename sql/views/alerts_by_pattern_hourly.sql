-- view: alerts_by_pattern_hourly
-- description: Alerts per pattern and severity in each UTC hour of the triggering event's time.
-- columns: alert_hour timestamp, pattern varchar, severity varchar, alert_count bigint, user_count bigint
SELECT
  date_trunc('hour', ts) AS alert_hour,
  pattern,
  severity,
  count(*) AS alert_count,
  count(DISTINCT user_id) AS user_count
FROM alerts
GROUP BY date_trunc('hour', ts), pattern, severity
