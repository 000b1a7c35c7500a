-- view: merchant_revenue
-- description: Revenue in USD per merchant over all events with an amount (order by revenue_usd for the top merchants).
-- columns: merchant_id varchar, transactions bigint, buyers bigint, revenue_usd double, avg_amount_usd double, first_sale timestamp, last_sale timestamp
-- requires: events(merchant_id, user_id, amount_usd, ts)
SELECT
  merchant_id,
  count(*) AS transactions,
  count(DISTINCT user_id) AS buyers,
  sum(amount_usd) AS revenue_usd,
  avg(amount_usd) AS avg_amount_usd,
  min(ts) AS first_sale,
  max(ts) AS last_sale
FROM events
WHERE merchant_id IS NOT NULL AND amount_usd IS NOT NULL
GROUP BY merchant_id
