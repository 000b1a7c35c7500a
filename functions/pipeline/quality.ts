import type { SourceRange } from '../adapters/parquet/partition.ts';
import type { Row } from '../core/index.ts';

/**
 * Rows of `ops/batch_quality` (see `functions/lakehouse/quality.ts`): one per processed source
 * batch, so SQL (the `pipeline_quality` view) sees poison and duplicate counts, which live outside
 * the lakehouse. On AWS the enrich handler writes the row with `late: 0` (lateness is decided by
 * the windows consumer; `gold/late_events` has the truth); embedded runs fill it in.
 */
export interface BatchCounts {
  readonly records: number;
  readonly valid: number;
  readonly poison: number;
  readonly duplicates: number;
  readonly late: number;
  /** Largest Kafka timestamp of the batch, epoch ms. */
  readonly batchTs: number;
}

export function batchQualityRow(range: SourceRange, counts: BatchCounts): Row {
  return {
    topic: range.topic,
    partition: range.partition,
    first_offset: range.firstOffset,
    last_offset: range.lastOffset,
    batch_ts: counts.batchTs,
    records: counts.records,
    valid: counts.valid,
    poison: counts.poison,
    duplicates: counts.duplicates,
    late: counts.late,
  };
}
