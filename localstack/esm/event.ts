/**
 * Pure pieces of Lambda's Kafka event source mapping: the invocation event, its size, the partial
 * batch response, the on-failure record, and the documented defaults. No I/O here.
 *
 * Shapes follow the AWS Lambda Developer Guide ("Using Lambda with self-managed Apache Kafka",
 * "Configuring error handling controls for Kafka event sources", "Capturing discarded batches for
 * Amazon MSK and self-managed Apache Kafka event sources").
 */
import type { KafkaBatchItemIdentifier } from '../../functions/core/batch-response.ts';
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

/**
 * Concurrent invocations one event poller runs, each over partitions no other in-flight invocation
 * holds: "Each event poller supports up to 5 concurrent Lambda invocations" (AWS Lambda Developer
 * Guide, "Low latency processing for Kafka event sources",
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-low-latency.html).
 */
export const INVOCATIONS_PER_POLLER = 5;

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
 * The event for `records` (any order), grouped by `"<topic>-<partition>"`, each partition's records
 * in offset order: `SelfManagedKafka`, or `aws:kafka` with its `eventSourceArn` for an Amazon MSK
 * mapping (the cluster ARN).
 */
export function buildEvent(
  bootstrapServers: string,
  records: readonly PolledRecord[],
  eventSourceArn?: string,
): LambdaKafkaEvent {
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
  return eventSourceArn === undefined
    ? { eventSource: 'SelfManagedKafka', bootstrapServers, records: groups }
    : { eventSource: 'aws:kafka', eventSourceArn, bootstrapServers, records: groups };
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

  constructor(bootstrapServers: string, eventSourceArn?: string) {
    this.bytes = Buffer.byteLength(JSON.stringify(buildEvent(bootstrapServers, [], eventSourceArn)));
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
 * Reads the handler's return value as a Kafka partial batch response
 * (`KafkaBatchResponse` of `functions/core/batch-response.ts`, its one definition). With `ReportBatchItemFailures`
 * off it is ignored (success). With it on: null/undefined, a non-object, `{}` or an empty/null
 * `batchItemFailures` is success. Each failure must be what the AWS guide documents,
 * `{"itemIdentifier": {"partition": "<topic>-<partition>", "offset": <number>}}`
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html), naming a record
 * of the batch. Anything else (another key such as the older `topic-partition`, an offset that is a
 * string or not an integer, an identifier naming no record of the batch) fails the whole batch like
 * a function error: the Kafka page is silent there, and for Kinesis the guide treats "an
 * itemIdentifier with a bad key name" or a null one as a complete failure, retried (and bisected)
 * as any failed invocation
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html).
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
    if (id === null || typeof id !== 'object' || Array.isArray(id)) {
      return { kind: 'error', message: `invalid itemIdentifier ${JSON.stringify(id)}` };
    }
    const { partition, offset } = id as Partial<Record<keyof KafkaBatchItemIdentifier, unknown>>;
    if (typeof partition !== 'string' || typeof offset !== 'number' || !Number.isSafeInteger(offset)) {
      return {
        kind: 'error',
        message: `invalid itemIdentifier ${JSON.stringify(id)}: expected {"partition": "<topic>-<partition>", "offset": <integer>}`,
      };
    }
    if (!present.has(`${partition}@${offset}`)) {
      return { kind: 'error', message: `itemIdentifier ${partition}@${offset} is not a record of the batch` };
    }
    const previous = failedFrom.get(partition);
    if (previous === undefined || offset < previous) failedFrom.set(partition, offset);
  }
  return { kind: 'partial', failedFrom };
}

/**
 * The documented conditions of an SQS/SNS on-failure record of a Kafka mapping:
 * `"RetryAttemptsExhausted" | "MaximumPayloadSizeExceeded"` (AWS Lambda Developer Guide,
 * "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources",
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html). The guide names no condition
 * for records older than `MaximumRecordAgeInSeconds`; the emulator sends those as
 * `RetryAttemptsExhausted` (see the README), so a reader cannot tell the two apart by condition.
 */
export type OnFailureCondition = 'RetryAttemptsExhausted' | 'MaximumPayloadSizeExceeded';

export interface OnFailureInput {
  readonly requestId: string;
  readonly functionArn: string;
  readonly condition: OnFailureCondition;
  readonly approximateInvokeCount: number;
  /** The last invocation's error, or null when the function was not invoked for these records. */
  readonly functionError: string | null;
  readonly now: number;
  /** The mapping's event source ARN (an Amazon MSK cluster); none for self-managed Kafka. */
  readonly eventSourceArn?: string | undefined;
  readonly bootstrapServers: string;
  readonly records: readonly PolledRecord[];
  readonly payloadSize: number;
}

/**
 * The JSON document an SQS or SNS on-failure destination receives: metadata only, no records. The
 * shape of the guide's example (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html),
 * whose `KafkaBatchInfo` carries the MSK cluster's `eventSourceArn`; a self-managed Kafka mapping
 * has no event source ARN (its event has none either), so the field is left out there.
 */
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
    /** The Amazon MSK cluster ARN; absent for a self-managed Kafka mapping. */
    eventSourceArn?: string;
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
      ...(input.eventSourceArn === undefined ? {} : { eventSourceArn: input.eventSourceArn }),
      bootstrapServers: input.bootstrapServers,
      payloadSize: input.payloadSize,
      recordsInfo,
    },
  };
}
