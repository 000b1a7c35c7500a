/**
 * The lakehouse tables the CDK app declares in Glue (SPEC §2).
 *
 * SWITCH-OVER: the core engineer is adding `layerSchemas(domain)` to `functions/core/index.ts`.
 * Until it is exported, the silver and gold schemas below are written from SPEC §2 by hand;
 * once it is, replace `LOCAL_LAYER_SCHEMAS` with the core's export so Glue and Parquet never drift.
 */
import { BRONZE_RAW_EVENTS, type TableSchema } from '../../functions/core/model.ts';

const SILVER_EVENTS: TableSchema = {
  path: 'silver/events',
  partitionBy: 'ts',
  columns: [
    { name: 'event_id', type: 'string', nullable: false },
    { name: 'event_type', type: 'string', nullable: false },
    { name: 'user_id', type: 'string', nullable: false },
    { name: 'ts', type: 'timestamp_ms', nullable: false },
    { name: 'amount', type: 'double' },
    { name: 'currency', type: 'string' },
    { name: 'merchant_id', type: 'string' },
    { name: 'lat', type: 'double' },
    { name: 'lon', type: 'double' },
    { name: 'device', type: 'string' },
    { name: 'event_date', type: 'date', nullable: false },
    { name: 'event_hour', type: 'int32', nullable: false },
    { name: 'amount_usd', type: 'double' },
    { name: 'country', type: 'string' },
  ],
};

const GOLD_WINDOW_TUMBLING_1M: TableSchema = {
  path: 'gold/window_tumbling_1m',
  partitionBy: 'window_start',
  columns: [
    { name: 'window_start', type: 'timestamp_ms', nullable: false },
    { name: 'window_end', type: 'timestamp_ms', nullable: false },
    { name: 'event_type', type: 'string', nullable: false },
    { name: 'event_count', type: 'int64', nullable: false },
    { name: 'amount_sum', type: 'double' },
    { name: 'amount_min', type: 'double' },
    { name: 'amount_max', type: 'double' },
    { name: 'amount_avg', type: 'double' },
  ],
};

const GOLD_WINDOW_SLIDING_5M: TableSchema = {
  path: 'gold/window_sliding_5m',
  partitionBy: 'window_start',
  columns: [
    { name: 'window_start', type: 'timestamp_ms', nullable: false },
    { name: 'window_end', type: 'timestamp_ms', nullable: false },
    { name: 'merchant_id', type: 'string', nullable: false },
    { name: 'event_count', type: 'int64', nullable: false },
    { name: 'amount_sum', type: 'double' },
  ],
};

const GOLD_SESSIONS: TableSchema = {
  path: 'gold/sessions',
  partitionBy: 'session_start',
  columns: [
    { name: 'session_start', type: 'timestamp_ms', nullable: false },
    { name: 'session_end', type: 'timestamp_ms', nullable: false },
    { name: 'user_id', type: 'string', nullable: false },
    { name: 'event_count', type: 'int64', nullable: false },
    { name: 'amount_sum', type: 'double' },
  ],
};

const GOLD_ALERTS: TableSchema = {
  path: 'gold/alerts',
  partitionBy: 'ts',
  columns: [
    { name: 'alert_id', type: 'string', nullable: false },
    { name: 'pattern', type: 'string', nullable: false },
    { name: 'severity', type: 'string', nullable: false },
    { name: 'user_id', type: 'string', nullable: false },
    { name: 'event_id', type: 'string', nullable: false },
    { name: 'ts', type: 'timestamp_ms', nullable: false },
    { name: 'details', type: 'string' },
  ],
};

const GOLD_LATE_EVENTS: TableSchema = {
  path: 'gold/late_events',
  partitionBy: 'ts',
  columns: [
    { name: 'event_id', type: 'string', nullable: false },
    { name: 'event_type', type: 'string', nullable: false },
    { name: 'user_id', type: 'string', nullable: false },
    { name: 'merchant_id', type: 'string' },
    { name: 'ts', type: 'timestamp_ms', nullable: false },
    { name: 'window', type: 'string', nullable: false },
    { name: 'window_start', type: 'timestamp_ms', nullable: false },
    { name: 'window_end', type: 'timestamp_ms', nullable: false },
    { name: 'watermark', type: 'timestamp_ms', nullable: false },
  ],
};

/** SPEC §2 by hand; see SWITCH-OVER above. */
export const LOCAL_LAYER_SCHEMAS: readonly TableSchema[] = [
  BRONZE_RAW_EVENTS,
  SILVER_EVENTS,
  GOLD_WINDOW_TUMBLING_1M,
  GOLD_WINDOW_SLIDING_5M,
  GOLD_SESSIONS,
  GOLD_ALERTS,
  GOLD_LATE_EVENTS,
];

/** Every lakehouse table, bronze first. */
export function lakehouseTables(): readonly TableSchema[] {
  return LOCAL_LAYER_SCHEMAS;
}

export type Layer = 'bronze' | 'silver' | 'gold';

/** The layer of a table: the first segment of its path. */
export function layerOf(table: TableSchema): Layer {
  const layer = table.path.split('/')[0];
  if (layer !== 'bronze' && layer !== 'silver' && layer !== 'gold') {
    throw new Error(`Table path "${table.path}" must start with bronze/, silver/ or gold/`);
  }
  return layer;
}

/** SQL name of a table: the last segment of its path. */
export function sqlNameOf(table: TableSchema): string {
  const name = table.path.split('/').at(-1);
  if (!name) throw new Error(`Table path "${table.path}" has no last segment`);
  return name;
}
