-- view: user_risk_profile
-- description: Per user: activity, spend and alerts by severity, with a risk score (10 per CRITICAL, 5 per HIGH, 2 per MEDIUM alert) and level.
-- columns: user_id varchar, event_count bigint, transactions bigint, amount_usd double, countries bigint, merchants bigint, first_seen timestamp, last_seen timestamp, alert_count bigint, critical_alerts bigint, high_alerts bigint, medium_alerts bigint, alert_patterns bigint, last_alert_ts timestamp, risk_score bigint, risk_level varchar
-- requires: events(user_id, amount_usd, country, merchant_id, ts), alerts(user_id, severity, pattern, ts)
WITH activity AS (
  SELECT
    user_id,
    count(*) AS event_count,
    count(amount_usd) AS transactions,
    sum(amount_usd) AS amount_usd,
    count(DISTINCT country) AS countries,
    count(DISTINCT merchant_id) AS merchants,
    min(ts) AS first_seen,
    max(ts) AS last_seen
  FROM events
  GROUP BY user_id
),
flagged AS (
  SELECT
    user_id,
    count(*) AS alert_count,
    count(CASE WHEN severity = 'CRITICAL' THEN 1 END) AS critical_alerts,
    count(CASE WHEN severity = 'HIGH' THEN 1 END) AS high_alerts,
    count(CASE WHEN severity = 'MEDIUM' THEN 1 END) AS medium_alerts,
    count(DISTINCT pattern) AS alert_patterns,
    max(ts) AS last_alert_ts
  FROM alerts
  GROUP BY user_id
),
scored AS (
  SELECT
    a.user_id,
    a.event_count,
    a.transactions,
    a.amount_usd,
    a.countries,
    a.merchants,
    a.first_seen,
    a.last_seen,
    COALESCE(f.alert_count, CAST(0 AS bigint)) AS alert_count,
    COALESCE(f.critical_alerts, CAST(0 AS bigint)) AS critical_alerts,
    COALESCE(f.high_alerts, CAST(0 AS bigint)) AS high_alerts,
    COALESCE(f.medium_alerts, CAST(0 AS bigint)) AS medium_alerts,
    COALESCE(f.alert_patterns, CAST(0 AS bigint)) AS alert_patterns,
    f.last_alert_ts
  FROM activity a
  LEFT JOIN flagged f ON f.user_id = a.user_id
)
SELECT
  user_id,
  event_count,
  transactions,
  amount_usd,
  countries,
  merchants,
  first_seen,
  last_seen,
  alert_count,
  critical_alerts,
  high_alerts,
  medium_alerts,
  alert_patterns,
  last_alert_ts,
  CAST(critical_alerts * 10 + high_alerts * 5 + medium_alerts * 2 AS bigint) AS risk_score,
  CASE
    WHEN critical_alerts * 10 + high_alerts * 5 + medium_alerts * 2 >= 10 THEN 'HIGH'
    WHEN critical_alerts * 10 + high_alerts * 5 + medium_alerts * 2 >= 3 THEN 'MEDIUM'
    WHEN alert_count > 0 THEN 'LOW'
    ELSE 'NONE'
  END AS risk_level
FROM scored
