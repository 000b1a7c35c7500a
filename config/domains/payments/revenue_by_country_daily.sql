-- view: revenue_by_country_daily
-- description: Revenue in USD per country (from lat/lon, 'unknown' when none) and UTC event day, over events that carry an amount.
-- columns: event_date date, country varchar, transactions bigint, buyers bigint, revenue_usd double, avg_amount_usd double, max_amount_usd double
-- requires: events(event_date, country, user_id, amount_usd)
SELECT
  event_date,
  COALESCE(country, 'unknown') AS country,
  count(*) AS transactions,
  count(DISTINCT user_id) AS buyers,
  sum(amount_usd) AS revenue_usd,
  avg(amount_usd) AS avg_amount_usd,
  max(amount_usd) AS max_amount_usd
FROM events
WHERE amount_usd IS NOT NULL
GROUP BY event_date, COALESCE(country, 'unknown')
