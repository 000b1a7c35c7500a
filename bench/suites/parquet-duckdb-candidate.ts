import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  VARCHAR,
} from '@duckdb/node-api';
import type { ParquetEncodeOptions, ParquetEncoder } from '../../functions/adapters/parquet/encoder.ts';
import type { ColumnSpec, Row, TableSchema } from '../../functions/core/model.ts';

/**
 * Benchmark-only candidate: DuckDB's appender fed with `appendDataChunk`, then `COPY ... TO` a file
 * in a temporary folder and read back as bytes. DuckDB cannot write TIMESTAMP(MILLIS,
 * isAdjustedToUTC=true): TIMESTAMP_MS is written with isAdjustedToUTC=false and TIMESTAMPTZ as
 * MICROS, so this candidate writes TIMESTAMPTZ (MICROS, UTC) and is reported as a type mismatch.
 */

const CHUNK = 2048;

function stagingType(spec: ColumnSpec): DuckDBType {
  switch (spec.type) {
    case 'string':
    case 'date':
      return VARCHAR;
    case 'int32':
      return INTEGER;
    case 'int64':
    case 'timestamp_ms':
      return BIGINT;
    case 'double':
      return DOUBLE;
    case 'boolean':
      return BOOLEAN;
  }
}

/** Values of one column for rows [from, to), in the staging table's JavaScript types. */
function slice(spec: ColumnSpec, rows: readonly Row[], from: number, to: number): DuckDBValue[] {
  const out: DuckDBValue[] = new Array(to - from);
  const name = spec.name;
  const big = spec.type === 'int64' || spec.type === 'timestamp_ms';
  for (let i = from; i < to; i++) {
    const v = rows[i]![name] ?? null;
    out[i - from] = big && typeof v === 'number' ? BigInt(v) : v;
  }
  return out;
}

function finalExpr(spec: ColumnSpec): string {
  const q = `"${spec.name}"`;
  if (spec.type === 'timestamp_ms') return `make_timestamptz(${q} * 1000) AS ${q}`;
  if (spec.type === 'date') return `CAST(${q} AS DATE) AS ${q}`;
  return q;
}

export const duckdbEncoder: ParquetEncoder = {
  name: 'duckdb appendDataChunk',
  async encode(
    schema: TableSchema,
    rows: readonly Row[],
    options: ParquetEncodeOptions = {},
  ): Promise<Uint8Array> {
    const columns = schema.columns;
    const dir = mkdtempSync(join(tmpdir(), 'tw-duckdb-'));
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await instance.connect();
    try {
      await conn.run("SET TimeZone = 'UTC'");
      const types = columns.map(stagingType);
      const ddl = columns.map((c, i) => `"${c.name}" ${types[i]!.toString()}`).join(', ');
      await conn.run(`CREATE TABLE staging (${ddl})`);
      const appender = await conn.createAppender('staging');
      for (let from = 0; from < rows.length; from += CHUNK) {
        const to = Math.min(rows.length, from + CHUNK);
        const chunk = DuckDBDataChunk.create(types, to - from);
        chunk.setColumns(columns.map((c) => slice(c, rows, from, to)));
        appender.appendDataChunk(chunk);
      }
      appender.closeSync();
      const file = join(dir, 'out.parquet');
      const codec = options.compression === 'snappy' ? 'snappy' : 'zstd';
      await conn.run(
        `COPY (SELECT ${columns.map(finalExpr).join(', ')} FROM staging) TO '${file}' (FORMAT parquet, COMPRESSION ${codec})`,
      );
      return new Uint8Array(readFileSync(file));
    } finally {
      conn.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
