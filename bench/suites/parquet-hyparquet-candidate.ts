import { zstdCompressSync } from 'node:zlib';
import type { SchemaElement } from 'hyparquet';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { parseIsoDate } from '../../functions/adapters/parquet/columns.ts';
import type { ParquetEncodeOptions, ParquetEncoder } from '../../functions/adapters/parquet/encoder.ts';
import type { ColumnSpec, Row, TableSchema } from '../../functions/core/model.ts';

/** Benchmark candidate: Parquet through hyparquet-writer (pure JavaScript); zstd through node:zlib. */

function element(spec: ColumnSpec): SchemaElement {
  const repetition_type = spec.nullable === false ? 'REQUIRED' : 'OPTIONAL';
  const name = spec.name;
  switch (spec.type) {
    case 'string':
      return {
        name,
        repetition_type,
        type: 'BYTE_ARRAY',
        converted_type: 'UTF8',
        logical_type: { type: 'STRING' },
      };
    case 'int32':
      return { name, repetition_type, type: 'INT32' };
    case 'int64':
      return { name, repetition_type, type: 'INT64' };
    case 'double':
      return { name, repetition_type, type: 'DOUBLE' };
    case 'boolean':
      return { name, repetition_type, type: 'BOOLEAN' };
    case 'date':
      return { name, repetition_type, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'timestamp_ms':
      return {
        name,
        repetition_type,
        type: 'INT64',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      };
  }
}

/** Plain value arrays, the library's natural input (no validation: benchmark candidate). */
function data(spec: ColumnSpec, rows: readonly Row[]): ColumnSource['data'] {
  const name = spec.name;
  switch (spec.type) {
    case 'int64':
    case 'timestamp_ms':
      return rows.map((r) => {
        const v = r[name];
        return typeof v === 'number' ? BigInt(v) : null;
      });
    case 'date':
      return rows.map((r) => {
        const v = r[name];
        return typeof v === 'string' ? (parseIsoDate(v) ?? null) : null;
      });
    default:
      return rows.map((r) => r[name] ?? null);
  }
}

export const hyparquetEncoder: ParquetEncoder = {
  name: 'hyparquet-writer',
  async encode(
    schema: TableSchema,
    rows: readonly Row[],
    options: ParquetEncodeOptions = {},
  ): Promise<Uint8Array> {
    const buffer = parquetWriteBuffer({
      columnData: schema.columns.map((c) => ({
        name: c.name,
        data: data(c, rows),
        nullable: c.nullable !== false,
      })),
      schema: [{ name: 'root', num_children: schema.columns.length }, ...schema.columns.map(element)],
      codec: options.compression === 'snappy' ? 'SNAPPY' : 'ZSTD',
      compressors: { ZSTD: (input: Uint8Array) => zstdCompressSync(input) },
      rowGroupSize: options.rowGroupSize ?? 1_048_576,
      createdBy: 'tidewater (hyparquet-writer)',
    });
    return new Uint8Array(buffer);
  },
};
