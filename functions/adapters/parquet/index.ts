import type { Row, TableSchema } from '../../core/model.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { ParquetEncodeOptions, ParquetEncoder } from './encoder.ts';
import { groupByPartition, objectKey, type SourceRange } from './partition.ts';
import { wasmParquetEncoder } from './wasm-encoder.ts';

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
export { encodeColumns } from './wasm-encoder.ts';

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

/**
 * Writes `rows` of one table from one source batch: one Parquet object per Hive partition, at
 * `<path>/dt=YYYY-MM-DD/hr=HH/<topic>-<partition>-<first>-<last>.parquet`. Writing the same batch
 * again overwrites the same keys. Returns the objects written (none for no rows).
 */
export async function writeTable(
  store: ObjectStore,
  schema: TableSchema,
  rows: readonly Row[],
  source: SourceRange,
  options?: ParquetEncodeOptions & { readonly encoder?: ParquetEncoder },
): Promise<WrittenObject[]> {
  const encoder = options?.encoder ?? parquetEncoder;
  const written: WrittenObject[] = [];
  for (const [partition, group] of groupByPartition(schema, rows)) {
    const key = objectKey(schema, partition, source);
    const bytes = await encoder.encode(schema, group, options);
    await store.put(key, bytes);
    written.push({ key, rows: group.length, bytes: bytes.length });
  }
  return written;
}
