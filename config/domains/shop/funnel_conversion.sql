-- view: funnel_conversion
-- description: The checkout funnel per 1-minute window: events per step, payments per 100 page views, checkouts per cart, and the value checked out and paid (USD).
-- columns: window_start timestamp, page_views bigint, carts bigint, checkouts bigint, payments bigint, payments_per_100_views double, checkouts_per_cart double, checkout_value_usd double, payment_value_usd double
-- requires: window_funnel_1m(window_start, action, event_count, order_value_sum)
WITH steps AS (
  SELECT
    window_start,
    CAST(COALESCE(sum(CASE WHEN action = 'page_view' THEN event_count END), 0) AS bigint) AS page_views,
    CAST(COALESCE(sum(CASE WHEN action = 'add_to_cart' THEN event_count END), 0) AS bigint) AS carts,
    CAST(COALESCE(sum(CASE WHEN action = 'checkout' THEN event_count END), 0) AS bigint) AS checkouts,
    CAST(COALESCE(sum(CASE WHEN action = 'payment' THEN event_count END), 0) AS bigint) AS payments,
    sum(CASE WHEN action = 'checkout' THEN order_value_sum END) AS checkout_value_usd,
    sum(CASE WHEN action = 'payment' THEN order_value_sum END) AS payment_value_usd
  FROM window_funnel_1m
  GROUP BY window_start
)
SELECT
  window_start,
  page_views,
  carts,
  checkouts,
  payments,
  CASE WHEN page_views = 0 THEN CAST(NULL AS double) ELSE CAST(payments AS double) * 100 / CAST(page_views AS double) END AS payments_per_100_views,
  CASE WHEN carts = 0 THEN CAST(NULL AS double) ELSE CAST(checkouts AS double) / CAST(carts AS double) END AS checkouts_per_cart,
  checkout_value_usd,
  payment_value_usd
FROM steps
