-- view: top_products
-- description: Per product: add-to-cart events, units added, and the shop sessions that added it (order by carts for the top products).
-- columns: product_id varchar, carts bigint, units bigint, sessions bigint
-- requires: events(product_id, action, quantity, session_id)
SELECT
  product_id,
  count(*) AS carts,
  CAST(COALESCE(sum(quantity), 0) AS bigint) AS units,
  count(DISTINCT session_id) AS sessions
FROM events
WHERE action = 'add_to_cart' AND product_id IS NOT NULL
GROUP BY product_id
