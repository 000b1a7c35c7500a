import type { TableSchema } from './model.ts';

/**
 * `ops/batch_quality` (SQL `batch_quality`): one row per processed source batch, written by the
 * pipeline next to the layers. Dead-lettered records live outside the lakehouse (JSONL embedded,
 * SQS on AWS), so this table is how SQL (the `pipeline_quality` view, Athena and DuckDB alike)
 * knows the poison and duplicate counts. Partitioned by the batch's largest Kafka timestamp and
 * named from its coordinates like every other file, so a redelivered batch overwrites its row.
 */
export const BATCH_QUALITY: TableSchema = {
  path: 'ops/batch_quality',
  partitionBy: 'batch_ts',
  columns: [
    { name: 'topic', type: 'string', nullable: false },
    { name: 'partition', type: 'int32', nullable: false },
    { name: 'first_offset', type: 'int64', nullable: false },
    { name: 'last_offset', type: 'int64', nullable: false },
    /** Largest Kafka timestamp of the batch (deterministic under redelivery, unlike processing time). */
    { name: 'batch_ts', type: 'timestamp_ms', nullable: false },
    /** Records received = bronze rows written for the batch. */
    { name: 'records', type: 'int64', nullable: false },
    /** Silver rows written (valid, first time seen). */
    { name: 'valid', type: 'int64', nullable: false },
    /** Records sent to the dead-letter destination. */
    { name: 'poison', type: 'int64', nullable: false },
    /** Valid records dropped as duplicates of an earlier event_id. */
    { name: 'duplicates', type: 'int64', nullable: false },
    /** Events too late for at least one window (also written to gold/late_events). */
    { name: 'late', type: 'int64', nullable: false },
  ],
};
