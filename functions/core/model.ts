/**
 * The shapes every part of Tidewater agrees on: lakehouse tables (SPEC §2) as plain column
 * schemas and rows. The core computes rows; adapters (embedded folder, S3) write them as Parquet
 * with exactly these column names and types. No AWS import may appear under `functions/core/`.
 */

/** Parquet-level column types. `timestamp_ms` is TIMESTAMP(MILLIS, isAdjustedToUTC=true); values are epoch ms. */
export type ColumnType = 'string' | 'int32' | 'int64' | 'double' | 'boolean' | 'timestamp_ms' | 'date';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** @default true */
  readonly nullable?: boolean;
  /**
   * A processing-time column (SPEC §2) that the Parquet writer fills with the time of the write
   * (epoch ms) in every row that has no value for it: rows never carry it through a stage.
   * @default false
   */
  readonly writeTime?: boolean;
}

/** A cell value: strings, numbers (int64 offsets fit in a double up to 2^53), booleans, or null. `date` cells are 'YYYY-MM-DD'. */
export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface TableSchema {
  /**
   * Path of the table under the lakehouse root, e.g. `bronze/raw_events`, `gold/alerts`. Its last
   * segment is the SQL table name (Glue table and DuckDB view): `raw_events`, `events`, `alerts`, ...
   */
  readonly path: string;
  readonly columns: readonly ColumnSpec[];
  /** Column (a `timestamp_ms`) whose UTC date and hour name the Hive partition `dt=YYYY-MM-DD/hr=HH/`. */
  readonly partitionBy: string;
}

/** Kafka coordinates of a record. */
export interface KafkaCoordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The bronze table is the same for every domain (SPEC §2). */
export const BRONZE_RAW_EVENTS: TableSchema = {
  path: 'bronze/raw_events',
  // Partitioned by Kafka's timestamp, not ingest time: a redelivered batch must land on the same key.
  partitionBy: 'kafka_ts',
  columns: [
    { name: 'topic', type: 'string', nullable: false },
    { name: 'partition', type: 'int32', nullable: false },
    { name: 'offset', type: 'int64', nullable: false },
    { name: 'kafka_ts', type: 'timestamp_ms', nullable: false },
    { name: 'key', type: 'string' },
    { name: 'value', type: 'string' },
    { name: 'headers', type: 'string' },
    { name: 'ingest_ts', type: 'timestamp_ms', nullable: false },
  ],
};
