import type { ColumnType } from '../core/model.ts';

/**
 * Type names of one column type in each engine. Athena (Glue/Hive DDL) names are what the CDK
 * stack declares for tables and what `-- columns:` headers of `sql/views/*.sql` use.
 */

/** Glue/Athena table column type of a `ColumnType`. */
export function athenaTypeOf(type: ColumnType): string {
  switch (type) {
    case 'string':
      return 'string';
    case 'int32':
      return 'int';
    case 'int64':
      return 'bigint';
    case 'double':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'timestamp_ms':
      return 'timestamp';
    case 'date':
      return 'date';
  }
}

/**
 * DuckDB type of a `ColumnType` as the lakehouse views expose it. A `timestamp_ms` (Parquet
 * TIMESTAMP(MILLIS, UTC), which DuckDB reads as TIMESTAMP WITH TIME ZONE) is cast to a plain
 * TIMESTAMP holding the UTC wall clock: that is what Athena shows for the same file.
 */
export function duckdbTypeOf(type: ColumnType): string {
  switch (type) {
    case 'string':
      return 'VARCHAR';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp_ms':
      return 'TIMESTAMP';
    case 'date':
      return 'DATE';
  }
}

const ATHENA_TO_DUCKDB: Readonly<Record<string, string>> = {
  varchar: 'VARCHAR',
  string: 'VARCHAR',
  char: 'VARCHAR',
  tinyint: 'TINYINT',
  smallint: 'SMALLINT',
  int: 'INTEGER',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  real: 'FLOAT',
  float: 'FLOAT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
};

/**
 * DuckDB type name that DESCRIBE shows for an Athena (Trino) type name, e.g. `bigint` -> `BIGINT`,
 * `varchar` -> `VARCHAR`, `decimal(12,2)` -> `DECIMAL(12,2)`. Throws for a type with no mapping.
 */
export function athenaToDuckdbType(athenaType: string): string {
  const t = athenaType.trim().toLowerCase().replace(/\s+/g, ' ');
  const decimal = /^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
  const base = t.replace(/\(\s*\d+\s*\)$/, '');
  const mapped = ATHENA_TO_DUCKDB[base];
  if (!mapped) throw new Error(`no DuckDB mapping for Athena type '${athenaType}'`);
  return mapped;
}
