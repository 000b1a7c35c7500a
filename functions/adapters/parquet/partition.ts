import type { Row, TableSchema } from '../../core/model.ts';
import { ParquetSchemaError } from './columns.ts';

/**
 * Hive partitions and deterministic object keys (SPEC §2): rows go to `dt=YYYY-MM-DD/hr=HH/` from
 * the UTC date and hour of the table's `partitionBy` column, and a file is named from the source
 * coordinates, so a redelivered batch overwrites the same object.
 */

/** The Kafka records a batch of rows came from: one topic partition, offsets first..last inclusive. */
export interface SourceRange {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

const HOUR_MS = 3_600_000;
const TOPIC_RE = /^[A-Za-z0-9._-]{1,249}$/;

/** `dt=YYYY-MM-DD/hr=HH` of an epoch-ms instant, in UTC. */
export function partitionPath(epochMs: number): string {
  const iso = new Date(Math.floor(epochMs / HOUR_MS) * HOUR_MS).toISOString();
  return `dt=${iso.slice(0, 10)}/hr=${iso.slice(11, 13)}`;
}

/** `<topic>-<partition>-<firstOffset>-<lastOffset>.parquet`; throws on a range that cannot name a file. */
export function fileName(source: SourceRange): string {
  const { topic, partition, firstOffset, lastOffset } = source;
  if (!TOPIC_RE.test(topic))
    throw new RangeError(`topic ${JSON.stringify(topic)} is not a Kafka topic name ([A-Za-z0-9._-])`);
  for (const [what, n] of [
    ['partition', partition],
    ['firstOffset', firstOffset],
    ['lastOffset', lastOffset],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
  }
  if (lastOffset < firstOffset)
    throw new RangeError(`lastOffset ${lastOffset} is before firstOffset ${firstOffset}`);
  return `${topic}-${partition}-${firstOffset}-${lastOffset}.parquet`;
}

/** Object key of a table's file for one partition: `<table path>/dt=.../hr=.../<file name>`. */
export function objectKey(schema: TableSchema, partition: string, source: SourceRange): string {
  return `${schema.path}/${partition}/${fileName(source)}`;
}

/**
 * Rows grouped by Hive partition (`dt=.../hr=...`), each group keeping the rows' order; groups in
 * order of first appearance. Throws `ParquetSchemaError` when a row's partition column is not epoch ms.
 */
export function groupByPartition(schema: TableSchema, rows: readonly Row[]): Map<string, Row[]> {
  const column = schema.columns.find((c) => c.name === schema.partitionBy);
  if (column?.type !== 'timestamp_ms') {
    throw new ParquetSchemaError(
      `${schema.path}: partitionBy '${schema.partitionBy}' must name a timestamp_ms column`,
    );
  }
  const groups = new Map<string, Row[]>();
  const names = new Map<number, Row[]>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const ms = row[schema.partitionBy];
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new ParquetSchemaError(
        `${schema.path}: row ${i} has no epoch-ms '${schema.partitionBy}' to partition by (got ${String(ms)})`,
      );
    }
    const hour = Math.floor(ms / HOUR_MS);
    let group = names.get(hour);
    if (!group) {
      group = [];
      names.set(hour, group);
      groups.set(partitionPath(ms), group);
    }
    group.push(row);
  }
  return groups;
}
