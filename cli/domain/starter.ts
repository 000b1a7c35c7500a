/**
 * The starter YAML of `tidewater domain init NAME`: a small, commented domain that validates and
 * runs as written (`tidewater run --domain ./NAME.yaml --generate 20000 --report r.html`), for a
 * team to edit into its own event type.
 */
export function starterYaml(name: string): string {
  return `# The ${name} domain: one YAML file is a whole domain (SPEC §8). Edit it into your event type,
# then check it with \`tidewater domain validate ${name}.yaml\` and try it end to end with
# \`tidewater run --domain ./${name}.yaml --generate 20000 --report ${name}-report.html\`.
# Every key is described in config/domains/payments.yaml and config/domains/VIEWS.md.
name: ${name}
description: Orders placed and cancelled by accounts, keyed by account_id.
topic: ${name}.events
key_field: account_id       # the Kafka record key, and the key CEP patterns follow
dedup_field: event_id       # silver drops a second event with the same value
event_time_field: ts        # event time: windows, watermarks and CEP use it
event_type_field: event_type
event_types: [order_placed, order_cancelled]
max_out_of_orderness: 10s   # how late an event may arrive and still count in its window

# The record contract. A record that breaks it is dead-lettered with the reason.
fields:
  event_id: { type: string, required: true, min_length: 1, max_length: 128 }
  event_type: { type: string, required: true }
  account_id: { type: string, required: true, min_length: 1, max_length: 64 }
  ts: { type: timestamp, required: true, min: "2000-01-01T00:00:00Z", max: "2100-01-01T00:00:00Z" }
  amount: { type: number, required_for: [order_placed], only_for: [order_placed], min: 0 }
  currency: { type: string, pattern: "^[A-Z]{3}$", default: USD }
  product: { type: string, required_for: [order_placed] }
  channel: { type: string, enum: [web, app, store] }

# Enrichment adds silver columns; here amount_usd from a fixed rate table.
enrichment:
  currency:
    amount_field: amount
    currency_field: currency
    output: amount_usd
    rates_to_usd: { USD: 1, EUR: 1.08, GBP: 1.27 }

# Each window is a gold table and gets a view (<name>_over_time) and a report chart for free.
windows:
  - name: orders_1m
    type: tumbling
    size: 1m
    group_by: event_type
    measure: amount_usd
    measure_as: amount
    aggregates: [count, sum, avg]
  - name: account_sessions
    type: session
    gap: 30m
    group_by: account_id
    aggregates: [count]

# Pattern thresholds, evaluated per account on order_placed events (the "transactions").
cep:
  transaction_type: order_placed
  amount_field: amount_usd
  merchant_field: product       # merchant_diversity counts distinct products here
  patterns:
    rapid_fire_burst: { at_least: 5, window: 30s }
    merchant_diversity: { at_least: 10, window: 1h }

# Your own views: SQL files next to this file (views: [${name}/my_view.sql]) or inline like this one.
views:
  - name: ${name}_by_channel
    description: Orders and their value in USD per channel.
    columns: { channel: varchar, orders: bigint, amount_usd: double }
    requires: { events: [channel, event_type, amount_usd] }
    sql: |
      SELECT COALESCE(channel, 'unknown') AS channel, count(*) AS orders, sum(amount_usd) AS amount_usd
      FROM events
      WHERE event_type = 'order_placed'
      GROUP BY COALESCE(channel, 'unknown')

# Your own report charts, each reading one view.
report:
  charts:
    - id: by-channel
      title: Orders by channel
      type: bar
      view: ${name}_by_channel
      label: channel
      value: orders
      unit: count

# The synthetic generator (tidewater generate / run --generate): keys, rate, mix and values.
generator:
  events_per_second: 100
  keys: { prefix: "acct-", per_1k_events: 20, min: 200, zipf: 0.8 }
  event_mix: { order_placed: 0.85, order_cancelled: 0.15 }
  session: { mean_events: 4, gap: [5s, 60s], idle: 40m }
  measure: { field: amount, lognormal: { mu: 3.5, sigma: 0.8 } }
  values:
    product: { prefix: "sku-", count: 500, zipf: 1.0 }
    channel: [web, web, app, store]
  sticky: [channel]
`;
}
