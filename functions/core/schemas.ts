/**
 * Layer table schemas derived from a domain (SPEC §2). For `payments` the silver and gold
 * columns are exactly the SPEC's; other domains follow their config (field names, group-by
 * columns, measure prefixes, key and dedup field names).
 */
import type { Domain, FieldType, WindowSpec } from './domain.ts';
import { BRONZE_RAW_EVENTS, type ColumnSpec, type ColumnType, type TableSchema } from './model.ts';

export interface LayerSchemas {
  readonly bronze: TableSchema;
  /** `silver/events`: contract fields, then event_date, event_hour and the enrichment outputs. */
  readonly silver: TableSchema;
  /** One gold table per window definition, keyed by window name (`tumbling_1m` -> `gold/window_tumbling_1m`). */
  readonly windows: Readonly<Record<string, TableSchema>>;
  readonly alerts: TableSchema;
  readonly lateEvents: TableSchema;
  /** Every table above, bronze first. */
  readonly all: readonly TableSchema[];
}

/**
 * The processing-time columns (SPEC §2): `processed_at` (every silver and gold row: when it was
 * written) and `detected_at` (alerts: when the cep consumer decided it). They are the only columns
 * that may differ between two runs over the same input: comparisons of runs drop exactly these.
 */
export const PROCESSING_TIME_COLUMNS = ['processed_at', 'detected_at'] as const;

/** `processed_at`: filled by the writer with the time of the write. */
const PROCESSED_AT: ColumnSpec = {
  name: 'processed_at',
  type: 'timestamp_ms',
  nullable: false,
  writeTime: true,
};

/** The table's columns without the processing-time ones (what two runs must agree on). */
export function deterministicColumns(schema: TableSchema): ColumnSpec[] {
  return schema.columns.filter((c) => !(PROCESSING_TIME_COLUMNS as readonly string[]).includes(c.name));
}

const COLUMN_TYPE: Record<FieldType, ColumnType> = {
  string: 'string',
  number: 'double',
  integer: 'int64',
  boolean: 'boolean',
  timestamp: 'timestamp_ms',
};

/** Column type of a silver column (declared field or enrichment output). */
export function silverColumnType(domain: Domain, column: string): ColumnType {
  const f = domain.fields.find((x) => x.name === column);
  if (f) return COLUMN_TYPE[f.type];
  if (column === 'event_date') return 'date';
  if (column === 'event_hour') return 'int32';
  if (column === domain.enrichment.currency?.output) return 'double';
  if (column === domain.enrichment.geo?.output) return 'string';
  throw new Error(`${domain.source}: "${column}" is not a silver column`);
}

/** Silver column names in schema order. */
export function silverColumns(domain: Domain): ColumnSpec[] {
  const cols: ColumnSpec[] = domain.fields.map((f) => ({
    name: f.name,
    type: COLUMN_TYPE[f.type],
    nullable: !(f.required || f.default !== null),
  }));
  cols.push(
    { name: 'event_date', type: 'date', nullable: false },
    { name: 'event_hour', type: 'int32', nullable: false },
  );
  if (domain.enrichment.currency)
    cols.push({ name: domain.enrichment.currency.output, type: 'double', nullable: true });
  if (domain.enrichment.geo)
    cols.push({ name: domain.enrichment.geo.output, type: 'string', nullable: true });
  cols.push(PROCESSED_AT);
  return cols;
}

/** Gold table of one window definition: bounds, group column, event_count and `<measure>_<agg>` columns. */
export function windowTableSchema(domain: Domain, w: WindowSpec): TableSchema {
  const [startCol, endCol] =
    w.type === 'session' ? ['session_start', 'session_end'] : ['window_start', 'window_end'];
  const cols: ColumnSpec[] = [
    { name: startCol, type: 'timestamp_ms', nullable: false },
    { name: endCol, type: 'timestamp_ms', nullable: false },
    { name: w.groupBy, type: silverColumnType(domain, w.groupBy), nullable: false },
  ];
  for (const agg of w.aggregates) {
    if (agg === 'count') cols.push({ name: 'event_count', type: 'int64', nullable: false });
    else if (w.measure) cols.push({ name: `${w.measure.as}_${agg}`, type: 'double', nullable: true });
  }
  cols.push(PROCESSED_AT);
  return { path: w.table, columns: cols, partitionBy: startCol };
}

/**
 * `gold/alerts`: alert_id, pattern, severity, <key field>, <dedup field>, ts, details (JSON),
 * detected_at (set by the cep stage when the pattern fired), processed_at.
 */
export function alertsTableSchema(domain: Domain): TableSchema {
  return {
    path: 'gold/alerts',
    partitionBy: 'ts',
    columns: [
      { name: 'alert_id', type: 'string', nullable: false },
      { name: 'pattern', type: 'string', nullable: false },
      { name: 'severity', type: 'string', nullable: false },
      { name: domain.keyField, type: 'string', nullable: false },
      { name: domain.dedupField, type: 'string', nullable: false },
      { name: 'ts', type: 'timestamp_ms', nullable: false },
      { name: 'details', type: 'string', nullable: false },
      { name: 'detected_at', type: 'timestamp_ms', nullable: false },
      PROCESSED_AT,
    ],
  };
}

/**
 * `gold/late_events` (SPEC §2 leaves the columns open). One row per (event, window it missed):
 * the window definition's name and bounds, the group value (as a string), the event's ids and
 * time, the partition watermark it was judged against, and its Kafka coordinates.
 */
export function lateEventsTableSchema(domain: Domain): TableSchema {
  return {
    path: 'gold/late_events',
    partitionBy: 'ts',
    columns: [
      { name: 'window_name', type: 'string', nullable: false },
      { name: 'window_start', type: 'timestamp_ms', nullable: false },
      { name: 'window_end', type: 'timestamp_ms', nullable: false },
      { name: 'group_value', type: 'string', nullable: false },
      { name: domain.dedupField, type: 'string', nullable: false },
      { name: domain.keyField, type: 'string', nullable: false },
      { name: 'ts', type: 'timestamp_ms', nullable: false },
      { name: 'watermark', type: 'timestamp_ms', nullable: false },
      { name: 'topic', type: 'string', nullable: false },
      { name: 'partition', type: 'int32', nullable: false },
      { name: 'offset', type: 'int64', nullable: false },
      PROCESSED_AT,
    ],
  };
}

/** Every lakehouse table of a domain, with exact column names and types (see {@link LayerSchemas}). */
export function layerSchemas(domain: Domain): LayerSchemas {
  const silver: TableSchema = {
    path: 'silver/events',
    columns: silverColumns(domain),
    partitionBy: domain.eventTimeField,
  };
  const windows: Record<string, TableSchema> = {};
  for (const w of domain.windows) windows[w.name] = windowTableSchema(domain, w);
  const alerts = alertsTableSchema(domain);
  const lateEvents = lateEventsTableSchema(domain);
  return {
    bronze: BRONZE_RAW_EVENTS,
    silver,
    windows,
    alerts,
    lateEvents,
    all: [BRONZE_RAW_EVENTS, silver, ...Object.values(windows), alerts, lateEvents],
  };
}
