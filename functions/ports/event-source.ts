import type { SourceRange } from '../adapters/parquet/partition.ts';

/**
 * Where records come from: Kafka through Lambda's event source mapping on AWS, a JSONL file or
 * the synthetic generator in embedded mode. A source yields batches of one topic partition, in
 * offset order, each record with its Kafka coordinates.
 */

/**
 * One Kafka record as the stages consume it. Lambda records decoded by the core
 * (`decodeKafkaRecord` / `decodeKafkaEvent`, a `DecodedRecord`) already have this shape.
 */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Kafka timestamp, epoch ms (bronze `kafka_ts`). */
  readonly kafkaTs: number;
  readonly key: string | null;
  /** The value as UTF-8 text; null for a tombstone. */
  readonly value: string | null;
  /** UTF-8 size of the value in bytes; computed from `value` when absent. */
  readonly valueBytes?: number;
  /** The value bytes exactly as delivered, base64; derived from `value` when absent. */
  readonly valueBase64?: string | null;
  /** True when the value bytes are not valid UTF-8 (then `value` holds U+FFFD replacements). */
  readonly invalidUtf8?: boolean;
  /** True when the source checked the value is printable ASCII without a backslash (a faster scan). */
  readonly plain?: boolean;
  /** Headers in order, values as text. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** Records of one topic partition, in offset order (offsets increase, gaps allowed). */
export interface SourceBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly SourceRecord[];
}

export interface EventSource {
  /** For messages: `file events.jsonl`, `generator (200000 events, seed 1)`. */
  readonly description: string;
  /** Yields batches of at most `maxRecords` records, partition by partition in offset order. */
  batches(maxRecords: number): AsyncIterable<SourceBatch>;
  /** Share of the input consumed so far, 0..1 (for a progress bar); undefined when unknown. */
  progress(): number | undefined;
  /** Records yielded so far: the "produced" side of the conservation check (SPEC §1). */
  readonly produced: number;
}

/** The coordinates a batch covers: its topic partition, first and last offset. Throws on an empty batch. */
export function batchRange(batch: SourceBatch): SourceRange {
  const first = batch.records[0];
  const last = batch.records[batch.records.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('an empty batch has no offset range');
  return {
    topic: batch.topic,
    partition: batch.partition,
    firstOffset: first.offset,
    lastOffset: last.offset,
  };
}
