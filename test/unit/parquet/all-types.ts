import type { TableSchema } from '../../../functions/core/model.ts';

/** A table with one column of every Parquet type (nullable and not): the encoder tests' schema. */
export const ALL_TYPES: TableSchema = {
  path: 'test/all_types',
  partitionBy: 'at',
  columns: [
    { name: 'name', type: 'string', nullable: false },
    { name: 'note', type: 'string' },
    { name: 'n32', type: 'int32' },
    { name: 'n64', type: 'int64' },
    { name: 'x', type: 'double' },
    { name: 'flag', type: 'boolean' },
    { name: 'at', type: 'timestamp_ms', nullable: false },
    { name: 'day', type: 'date' },
  ],
};
