import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFolderObjectStore } from '../../../functions/adapters/embedded/local-object-store.ts';
import { type SourceRange, writeTable } from '../../../functions/adapters/parquet/index.ts';
import type { Row } from '../../../functions/core/model.ts';
import { BATCH_QUALITY } from '../../../functions/lakehouse/quality.ts';
import { PAYMENTS } from './fixtures.ts';

/**
 * A small lakehouse with known contents, written through the real Parquet writer:
 * 10 bronze records (offsets 0-9; offset 3 is poison, offset 7 a duplicate of offset 2),
 * 8 silver events of 3 users over two UTC hours, 3 alerts, window/session rows, 2 late-event rows
 * of one event, and one `ops/batch_quality` row. Silver rows were processed 1.5 s after their event
 * time (e9: 2 minutes), alerts detected 2, 4 and 3 s after theirs; the other gold rows take the
 * time of the write.
 */

export const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const MIN = 60_000;
export const SOURCE: SourceRange = { topic: 'payments', partition: 0, firstOffset: 0, lastOffset: 9 };

function silver(
  i: number,
  user: string,
  minute: number,
  amountUsd: number | null,
  merchant: string | null,
  country: string | null,
): Row {
  const ts = T0 + minute * MIN;
  const d = new Date(ts);
  return {
    event_id: `e${i}`,
    event_type: amountUsd === null ? 'login' : 'transaction',
    user_id: user,
    ts,
    amount: amountUsd,
    currency: 'USD',
    merchant_id: merchant,
    lat: country ? 40 : null,
    lon: country ? -74 : null,
    device: 'web',
    event_date: d.toISOString().slice(0, 10),
    event_hour: d.getUTCHours(),
    amount_usd: amountUsd,
    country,
    // Written 1.5 s after its event time (freshness), except for the late event e9 (2 min).
    processed_at: ts + (i === 9 ? 2 * MIN : 1_500),
  };
}

export const SILVER_ROWS: readonly Row[] = [
  silver(0, 'u1', 1, 100, 'm1', 'US'),
  silver(1, 'u1', 2, 50.5, 'm2', 'US'),
  silver(2, 'u2', 3, null, null, 'DE'),
  silver(4, 'u2', 5, 200, 'm1', 'DE'),
  silver(5, 'u3', 30, 10, 'm2', null),
  silver(6, 'u1', 61, 300, 'm1', 'FR'),
  silver(8, 'u3', 62, 40, 'm1', null),
  silver(9, 'u3', 63, null, null, null),
];

const BRONZE_ROWS: Row[] = Array.from({ length: 10 }, (_, offset) => ({
  topic: 'payments',
  partition: 0,
  offset,
  kafka_ts: T0 + offset * MIN,
  key: offset === 3 ? null : `u${offset}`,
  value: offset === 3 ? '{not json' : JSON.stringify({ event_id: `e${offset === 7 ? 2 : offset}` }),
  headers: '{}',
  ingest_ts: T0 + 70 * MIN,
}));

const ALERT_ROWS: Row[] = [
  {
    alert_id: 'velocity_spike:e1',
    pattern: 'velocity_spike',
    severity: 'HIGH',
    user_id: 'u1',
    event_id: 'e1',
    ts: T0 + 2 * MIN,
    details: '{}',
    detected_at: T0 + 2 * MIN + 2_000,
  },
  {
    alert_id: 'impossible_travel:e6',
    pattern: 'impossible_travel',
    severity: 'CRITICAL',
    user_id: 'u1',
    event_id: 'e6',
    ts: T0 + 61 * MIN,
    details: '{"km":5800}',
    detected_at: T0 + 61 * MIN + 3_000,
  },
  {
    alert_id: 'amount_anomaly:e4',
    pattern: 'amount_anomaly',
    severity: 'MEDIUM',
    user_id: 'u2',
    event_id: 'e4',
    ts: T0 + 5 * MIN,
    details: '{}',
    detected_at: T0 + 5 * MIN + 4_000,
  },
];

const TUMBLING_ROWS: Row[] = [
  {
    window_start: T0 + MIN,
    window_end: T0 + 2 * MIN,
    event_type: 'transaction',
    event_count: 1,
    amount_sum: 100,
    amount_min: 100,
    amount_max: 100,
    amount_avg: 100,
  },
  {
    window_start: T0 + 2 * MIN,
    window_end: T0 + 3 * MIN,
    event_type: 'transaction',
    event_count: 1,
    amount_sum: 50.5,
    amount_min: 50.5,
    amount_max: 50.5,
    amount_avg: 50.5,
  },
  {
    window_start: T0 + 3 * MIN,
    window_end: T0 + 4 * MIN,
    event_type: 'login',
    event_count: 1,
    amount_sum: null,
    amount_min: null,
    amount_max: null,
    amount_avg: null,
  },
];

const SLIDING_ROWS: Row[] = [
  { window_start: T0, window_end: T0 + 5 * MIN, merchant_id: 'm1', event_count: 1, amount_sum: 100 },
  { window_start: T0 + MIN, window_end: T0 + 6 * MIN, merchant_id: 'm1', event_count: 2, amount_sum: 300 },
];

const SESSION_ROWS: Row[] = [
  { session_start: T0 + MIN, session_end: T0 + 2 * MIN, user_id: 'u1', event_count: 2, amount_sum: 150.5 },
  { session_start: T0 + 3 * MIN, session_end: T0 + 5 * MIN, user_id: 'u2', event_count: 2, amount_sum: 200 },
];

const LATE_ROWS: Row[] = ['tumbling_1m', 'sliding_5m'].map((window_name) => ({
  window_name,
  window_start: T0 + 5 * MIN,
  window_end: T0 + 6 * MIN,
  group_value: 'transaction',
  event_id: 'e8',
  user_id: 'u3',
  ts: T0 + 5 * MIN + 1_000,
  watermark: T0 + 62 * MIN,
  topic: 'payments',
  partition: 0,
  offset: 8,
}));

const QUALITY_ROWS: Row[] = [
  {
    topic: 'payments',
    partition: 0,
    first_offset: 0,
    last_offset: 9,
    batch_ts: T0 + 9 * MIN,
    records: 10,
    valid: 8,
    poison: 1,
    duplicates: 1,
    late: 1,
  },
];

/** Writes the fixture lakehouse into a new temporary folder and returns its path. */
export async function writeFixtureLakehouse(
  root = mkdtempSync(join(tmpdir(), 'tw-lakehouse-')),
): Promise<string> {
  const store = new LocalFolderObjectStore(root);
  const w = PAYMENTS.windows;
  const tables = [
    [PAYMENTS.bronze, BRONZE_ROWS],
    [PAYMENTS.silver, SILVER_ROWS],
    [w['tumbling_1m']!, TUMBLING_ROWS],
    [w['sliding_5m']!, SLIDING_ROWS],
    [w['sessions']!, SESSION_ROWS],
    [PAYMENTS.alerts, ALERT_ROWS],
    [PAYMENTS.lateEvents, LATE_ROWS],
    [BATCH_QUALITY, QUALITY_ROWS],
  ] as const;
  for (const [schema, rows] of tables) await writeTable(store, schema, rows, SOURCE);
  return root;
}
