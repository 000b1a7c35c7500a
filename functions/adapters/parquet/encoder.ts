import type { Row, TableSchema } from '../../core/model.ts';

/** Compression codec of the written file. */
export type ParquetCompression = 'zstd' | 'snappy';

export interface ParquetEncodeOptions {
  /** @default 'zstd' */
  readonly compression?: ParquetCompression;
  /** Rows per row group. @default 1_048_576 */
  readonly rowGroupSize?: number;
  /**
   * The time of the write (epoch ms) that fills the `writeTime` columns (`processed_at`) of rows
   * without a value. @default Date.now() when the rows are converted
   */
  readonly writtenAt?: number;
}

/**
 * Turns rows of one table into the bytes of one Parquet file, typed by the table's `ColumnSpec`s:
 * string -> BYTE_ARRAY (UTF8/STRING), int32 -> INT32, int64 -> INT64, double -> DOUBLE,
 * boolean -> BOOLEAN, timestamp_ms -> INT64 TIMESTAMP(MILLIS, isAdjustedToUTC=true),
 * date -> INT32 DATE; `nullable: false` -> REQUIRED, else OPTIONAL. Throws `ParquetSchemaError`
 * for a cell that does not fit its column.
 */
export interface ParquetEncoder {
  readonly name: string;
  encode(schema: TableSchema, rows: readonly Row[], options?: ParquetEncodeOptions): Promise<Uint8Array>;
}
