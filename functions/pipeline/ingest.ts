import type { SourceRange } from '../adapters/parquet/partition.ts';
import { BRONZE_RAW_EVENTS, bronzeRow } from '../core/index.ts';
import { batchRange, type SourceBatch } from '../ports/event-source.ts';
import { CONSUMERS, type StageContext } from './context.ts';
import { emptyWritten, type Written, writeRows } from './write.ts';

/**
 * Stage `ingest` (raw topic -> `bronze/raw_events`): every record exactly as received, one row
 * each, poison included. Stateless: the bronze objects of a batch are named from its
 * coordinates, so a redelivered batch overwrites them with the same rows.
 */

export interface IngestResult {
  /** The batch's coordinates (the bronze file names). */
  readonly range: SourceRange;
  readonly records: number;
  /** Bronze rows written (= records). */
  readonly bronzeRows: number;
  readonly written: Written;
}

/** Ingests one batch (may be empty: then nothing is written). */
export async function ingestBatch(ctx: StageContext, batch: SourceBatch): Promise<IngestResult> {
  const written = emptyWritten();
  if (batch.records.length === 0) {
    const range = { topic: batch.topic, partition: batch.partition, firstOffset: 0, lastOffset: 0 };
    return { range, records: 0, bronzeRows: 0, written };
  }
  const range = batchRange(batch);
  const ingestTs = (ctx.clock ?? Date.now)();
  const rows = batch.records.map((r) => bronzeRow(r, ingestTs));
  ctx.metrics.count('RecordsIn', rows.length, { layer: 'bronze' });
  const bronzeRows = await writeRows(ctx, BRONZE_RAW_EVENTS, rows, range, written);
  ctx.metrics.count('RecordsOut', bronzeRows, { layer: 'bronze' });
  const writtenAt = (ctx.clock ?? Date.now)();
  ctx.metrics.latency(
    'KafkaToOutputLatency',
    batch.records.map((r) => writtenAt - r.kafkaTs),
    { consumer: CONSUMERS.ingest },
  );
  return { range, records: batch.records.length, bronzeRows, written };
}
