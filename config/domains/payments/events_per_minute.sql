-- view: events_per_minute
-- description: Events per minute and event type, from the 1-minute tumbling windows (late events excluded, as in the windows).
-- columns: minute_start timestamp, event_type varchar, event_count bigint, amount_sum double
-- requires: window_tumbling_1m(window_start, event_type, event_count, amount_sum)
SELECT
  window_start AS minute_start,
  event_type,
  event_count,
  amount_sum
FROM window_tumbling_1m
