import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export interface ParquetColumnInfo {
  readonly type: string;
  readonly logical: string;
  readonly converted: string;
  readonly repetition: string;
}

/** Reads Parquet bytes back with DuckDB: the file's column schema, its rows and its codecs. */
export async function readBack(bytes: Uint8Array): Promise<{
  schema: Map<string, ParquetColumnInfo>;
  rows: Record<string, unknown>[];
  codecs: string[];
}> {
  const dir = mkdtempSync(join(tmpdir(), 'tw-parquet-test-'));
  const file = join(dir, 'f.parquet');
  writeFileSync(file, bytes);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const schema = (
      await conn.runAndReadAll(
        `SELECT name, type, logical_type, converted_type, repetition_type FROM parquet_schema('${file}') WHERE type IS NOT NULL`,
      )
    ).getRowObjectsJson();
    const rows = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJS();
    const codecs = (
      await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}') ORDER BY 1`)
    ).getRowObjectsJson();
    return {
      schema: new Map(
        schema.map((r) => [
          String(r.name),
          {
            type: String(r.type),
            logical: String(r.logical_type ?? ''),
            converted: String(r.converted_type ?? ''),
            repetition: String(r.repetition_type),
          },
        ]),
      ),
      rows: rows as Record<string, unknown>[],
      codecs: codecs.map((r) => String(r.compression)),
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}
