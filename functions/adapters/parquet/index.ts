import type { Row, TableSchema } from '../../core/model.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { type Column, toColumns } from './columns.ts';
import type { ParquetEncodeOptions, ParquetEncoder } from './encoder.ts';
import { groupByPartition, objectKey, type SourceRange } from './partition.ts';
import { encodeColumns, wasmParquetEncoder } from './wasm-encoder.ts';

/**
 * Parquet for the lakehouse layers. The chosen writer is parquet-wasm (see README.md beside this
 * file and bench/suites/parquet.ts): it writes the contract's types exactly (TIMESTAMP(MILLIS, UTC)), returns bytes
 * in memory for an S3 PUT, and ships 5 MB of wasm instead of a 68 MB native library.
 */
export {
  type Column,
  columnBuffers,
  isValid,
  ParquetSchemaError,
  parseIsoDate,
  toColumns,
} from './columns.ts';
export type { ParquetCompression, ParquetEncodeOptions, ParquetEncoder } from './encoder.ts';
export { fileName, groupByPartition, objectKey, partitionPath, type SourceRange } from './partition.ts';

/** The encoder used by the pipeline. */
export const parquetEncoder: ParquetEncoder = wasmParquetEncoder;

/** Bytes of one Parquet file holding `rows`, typed by `schema` (zstd by default). */
export function encodeParquet(
  schema: TableSchema,
  rows: readonly Row[],
  options?: ParquetEncodeOptions,
): Promise<Uint8Array> {
  return parquetEncoder.encode(schema, rows, options);
}

/** One object written by `writeTable`. */
export interface WrittenObject {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

/** One object of a table write: its key and its rows as checked columns (see {@link tableParts}). */
export interface TablePart {
  readonly key: string;
  readonly rows: number;
  readonly columns: readonly Column[];
}

/**
 * The objects `rows` of one table from one source batch become: one per Hive partition, at
 * `<path>/dt=YYYY-MM-DD/hr=HH/<topic>-<partition>-<first>-<last>.parquet`, with the rows as
 * columns (a cell that does not fit its column throws here, naming table, column and row);
 * `writtenAt` fills the processing-time (`writeTime`) columns.
 */
export function tableParts(
  schema: TableSchema,
  rows: readonly Row[],
  source: SourceRange,
  writtenAt: number = Date.now(),
): TablePart[] {
  const parts: TablePart[] = [];
  for (const [partition, group] of groupByPartition(schema, rows)) {
    parts.push({
      key: objectKey(schema, partition, source),
      rows: group.length,
      columns: toColumns(schema, group, writtenAt),
    });
  }
  return parts;
}

/** Encodes each part as one Parquet file and PUTs it at its key; returns the objects written. */
export async function writeParts(
  store: ObjectStore,
  parts: readonly TablePart[],
  options?: ParquetEncodeOptions,
): Promise<WrittenObject[]> {
  const written: WrittenObject[] = [];
  for (const part of parts) {
    const bytes = encodeColumns(part.columns, part.rows, options);
    await store.put(part.key, bytes);
    written.push({ key: part.key, rows: part.rows, bytes: bytes.length });
  }
  return written;
}

/**
 * Writes `rows` of one table from one source batch ({@link tableParts}, then {@link writeParts}).
 * Writing the same batch again overwrites the same keys. Returns the objects written (none for no
 * rows).
 */
export async function writeTable(
  store: ObjectStore,
  schema: TableSchema,
  rows: readonly Row[],
  source: SourceRange,
  options?: ParquetEncodeOptions,
): Promise<WrittenObject[]> {
  return writeParts(store, tableParts(schema, rows, source, options?.writtenAt ?? Date.now()), options);
}
