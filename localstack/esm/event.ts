/**
 * Pure pieces of Lambda's Kafka event source mapping: the invocation event, its size, the partial
 * batch response, the on-failure record, and the documented defaults. No I/O here.
 *
 * Shapes follow the AWS Lambda Developer Guide ("Using Lambda with self-managed Apache Kafka",
 * "Configuring error handling controls for Kafka event sources", "Capturing discarded batches for
 * Amazon MSK and self-managed Apache Kafka event sources").
 */
import type { LambdaKafkaEvent, LambdaKafkaRecord } from '../../functions/core/kafka.ts';

/** A record as read from the broker, before it is turned into the Lambda shape. */
export interface PolledRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Epoch ms (the record's CREATE_TIME). */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<readonly [string, Buffer]>;
}

/** Lambda's synchronous invocation payload limit, which caps a Kafka batch: 6 MB. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** With an on-failure destination, infinite retries (-1) become this many. */
export const RETRIES_WHEN_INFINITE_WITH_DESTINATION = 10;

/** `"<topic>-<partition>"`, the key of `records` in the event and of `recordsInfo`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** The record exactly as Lambda delivers it: base64 key and value, headers as byte arrays. */
export function toLambdaRecord(r: PolledRecord): LambdaKafkaRecord {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: 'CREATE_TIME',
    ...(r.key === null ? {} : { key: r.key.toString('base64') }),
    value: r.value === null ? null : r.value.toString('base64'),
    headers: r.headers.map(([name, bytes]) => ({ [name]: [...bytes] })),
  };
}

/**
 * The `SelfManagedKafka` event for `records` (any order): grouped by `"<topic>-<partition>"` in
 * first-seen order, each partition's records in offset order.
 */
export function buildEvent(bootstrapServers: string, records: readonly PolledRecord[]): LambdaKafkaEvent {
  const groups: Record<string, LambdaKafkaRecord[]> = {};
  const sorted = [...records].sort((a, b) =>
    a.topic === b.topic
      ? a.partition === b.partition
        ? a.offset - b.offset
        : a.partition - b.partition
      : a.topic < b.topic
        ? -1
        : 1,
  );
  for (const r of sorted) {
    const k = partitionKey(r.topic, r.partition);
    const group = groups[k] ?? [];
    group.push(toLambdaRecord(r));
    groups[k] = group;
  }
  return { eventSource: 'SelfManagedKafka', bootstrapServers, records: groups };
}

/** UTF-8 size of the JSON of one record in the event. */
export function recordJsonBytes(r: PolledRecord): number {
  return Buffer.byteLength(JSON.stringify(toLambdaRecord(r)));
}

/**
 * Incremental, exact size of the serialized event as records are added (equal to
 * `Buffer.byteLength(JSON.stringify(buildEvent(...)))`).
 */
export class EventSizer {
  private readonly partitions = new Set<string>();
  private bytes: number;

  constructor(bootstrapServers: string) {
    this.bytes = Buffer.byteLength(JSON.stringify(buildEvent(bootstrapServers, [])));
  }

  get size(): number {
    return this.bytes;
  }

  /** The size after adding `r`, without adding it. */
  sizeWith(r: PolledRecord, recordBytes: number = recordJsonBytes(r)): number {
    const k = partitionKey(r.topic, r.partition);
    if (this.partitions.has(k)) return this.bytes + 1 + recordBytes; // ",{...}"
    // `"k":[{...}]` plus a comma when other partitions are present
    const keyBytes = Buffer.byteLength(JSON.stringify(k));
    return this.bytes + (this.partitions.size > 0 ? 1 : 0) + keyBytes + 1 + 2 + recordBytes;
  }

  add(r: PolledRecord, recordBytes: number = recordJsonBytes(r)): void {
    this.bytes = this.sizeWith(r, recordBytes);
    this.partitions.add(partitionKey(r.topic, r.partition));
  }
}

/** `MaximumRetryAttempts` as Lambda applies it: -1 means infinite, except with an on-failure destination (10). */
export function effectiveMaxRetries(maximumRetryAttempts: number, hasOnFailureDestination: boolean): number {
  if (maximumRetryAttempts === -1) {
    return hasOnFailureDestination ? RETRIES_WHEN_INFINITE_WITH_DESTINATION : Number.POSITIVE_INFINITY;
  }
  return maximumRetryAttempts;
}

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

/**
 * Where a partition starts: the group's committed offset when there is one (clamped to the log's
 * range, as Kafka's reset does for an out-of-range offset), else the starting position.
 */
export function startOffset(
  committed: number | undefined,
  logStart: number,
  highWatermark: number,
  position: StartingPosition,
): number {
  if (committed !== undefined && committed >= 0) {
    if (committed < logStart) return logStart;
    if (committed > highWatermark) return highWatermark;
    return committed;
  }
  return position === 'LATEST' ? highWatermark : logStart;
}

/** How the function answered, as the mapping sees it. */
export type FunctionResult =
  | { readonly kind: 'success' }
  /** Per partition key, the lowest failed offset: retry from there. */
  | { readonly kind: 'partial'; readonly failedFrom: ReadonlyMap<string, number> }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Reads the handler's return value. With `ReportBatchItemFailures` off it is ignored (success).
 * With it on: null/undefined, `{}` or an empty/null `batchItemFailures` is success; each failure names
 * `"<topic>-<partition>"` and an offset of the batch (AWS documents the key as `topic-partition`;
 * `partition` is accepted too); anything that does not name a record of the batch fails the whole batch.
 */
export function interpretResponse(
  response: unknown,
  reportBatchItemFailures: boolean,
  batch: readonly PolledRecord[],
): FunctionResult {
  if (!reportBatchItemFailures || response === null || response === undefined) return { kind: 'success' };
  if (typeof response !== 'object') return { kind: 'success' };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'error', message: 'batchItemFailures is not an array' };
  }
  if (failures.length === 0) return { kind: 'success' };
  const present = new Set(batch.map((r) => `${partitionKey(r.topic, r.partition)}@${r.offset}`));
  const failedFrom = new Map<string, number>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (id === null || typeof id !== 'object') {
      return { kind: 'error', message: `invalid itemIdentifier ${JSON.stringify(id)}` };
    }
    const rec = id as Record<string, unknown>;
    const tp = rec['topic-partition'] ?? rec['partition'];
    const rawOffset = rec['offset'];
    const offset = typeof rawOffset === 'string' && rawOffset.trim() !== '' ? Number(rawOffset) : rawOffset;
    if (typeof tp !== 'string' || typeof offset !== 'number' || !Number.isInteger(offset)) {
      return { kind: 'error', message: `invalid itemIdentifier ${JSON.stringify(id)}` };
    }
    if (!present.has(`${tp}@${offset}`)) {
      return { kind: 'error', message: `itemIdentifier ${tp}@${offset} is not a record of the batch` };
    }
    const previous = failedFrom.get(tp);
    if (previous === undefined || offset < previous) failedFrom.set(tp, offset);
  }
  return { kind: 'partial', failedFrom };
}

export type OnFailureCondition =
  | 'RetryAttemptsExhausted'
  | 'MaximumPayloadSizeExceeded'
  | 'RecordAgeExceeded';

export interface OnFailureInput {
  readonly requestId: string;
  readonly functionArn: string;
  readonly condition: OnFailureCondition;
  readonly approximateInvokeCount: number;
  /** The last invocation's error, or null when the function was not invoked for these records. */
  readonly functionError: string | null;
  readonly now: number;
  readonly bootstrapServers: string;
  readonly records: readonly PolledRecord[];
  readonly payloadSize: number;
}

/** The JSON document an SQS or SNS on-failure destination receives: metadata only, no records. */
export interface OnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: OnFailureCondition;
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError: string } | null;
  version: '1.0';
  timestamp: string;
  KafkaBatchInfo: {
    batchSize: number;
    bootstrapServers: string;
    payloadSize: number;
    recordsInfo: Record<
      string,
      {
        firstRecordOffset: string;
        lastRecordOffset: string;
        firstRecordTimestamp: string;
        lastRecordTimestamp: string;
      }
    >;
  };
}

export function onFailureRecord(input: OnFailureInput): OnFailureRecord {
  const recordsInfo: OnFailureRecord['KafkaBatchInfo']['recordsInfo'] = {};
  const byPartition = new Map<string, PolledRecord[]>();
  for (const r of input.records) {
    const k = partitionKey(r.topic, r.partition);
    const list = byPartition.get(k) ?? [];
    list.push(r);
    byPartition.set(k, list);
  }
  for (const [k, list] of byPartition) {
    list.sort((a, b) => a.offset - b.offset);
    const first = list[0] as PolledRecord;
    const last = list[list.length - 1] as PolledRecord;
    recordsInfo[k] = {
      firstRecordOffset: String(first.offset),
      lastRecordOffset: String(last.offset),
      firstRecordTimestamp: new Date(first.timestamp).toISOString(),
      lastRecordTimestamp: new Date(last.timestamp).toISOString(),
    };
  }
  return {
    requestContext: {
      requestId: input.requestId,
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    responseContext:
      input.functionError === null
        ? null
        : { statusCode: 200, executedVersion: '$LATEST', functionError: input.functionError },
    version: '1.0',
    timestamp: new Date(input.now).toISOString(),
    KafkaBatchInfo: {
      batchSize: input.records.length,
      bootstrapServers: input.bootstrapServers,
      payloadSize: input.payloadSize,
      recordsInfo,
    },
  };
}
