/**
 * Decoding of the events Lambda's Kafka event source mapping delivers, in both shapes:
 * Amazon MSK (`eventSource: "aws:kafka"`, with `eventSourceArn`) and self-managed Apache Kafka
 * (`eventSource: "SelfManagedKafka"`). `records` maps `"<topic>-<partition>"` to that
 * partition's records in offset order; keys and values are base64; headers are
 * `[{ name: [byte, ...] }]`. Types are declared here so the core needs no `aws-lambda` import.
 */
import { isUtf8 } from 'node:buffer';
import type { KafkaCoordinates, Row } from './model.ts';

export interface LambdaKafkaHeader {
  readonly [name: string]: readonly number[];
}

export interface LambdaKafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Epoch ms. */
  readonly timestamp: number;
  readonly timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME' | (string & {});
  /** Base64; absent or null for a record without a key. */
  readonly key?: string | null;
  /** Base64; absent or null for a tombstone. */
  readonly value?: string | null;
  readonly headers?: readonly LambdaKafkaHeader[];
}

export interface LambdaKafkaEvent {
  readonly eventSource: 'aws:kafka' | 'SelfManagedKafka';
  /** MSK cluster ARN (`aws:kafka` only). */
  readonly eventSourceArn?: string;
  /** Comma-separated broker list. */
  readonly bootstrapServers?: string;
  readonly records: Readonly<Record<string, readonly LambdaKafkaRecord[]>>;
}

/**
 * A record as the validator consumes it: coordinates, key and value as text. Records that do not
 * come from Lambda (JSONL file, generator) are built directly in this shape.
 */
export interface RawRecord extends KafkaCoordinates {
  readonly key: string | null;
  readonly value: string | null;
  /** UTF-8 size of the value; computed from `value` when absent. */
  readonly valueBytes?: number;
  /**
   * Set by a decoder that checked the value is printable ASCII without a backslash (no escapes,
   * no control characters): the validator's scanner then finds string ends with `indexOf`.
   */
  readonly plain?: boolean;
}

/** A decoded Lambda Kafka record: everything the bronze row, the validator and the DLQ need. */
export interface DecodedRecord extends RawRecord {
  /** Kafka timestamp, epoch ms. */
  readonly kafkaTs: number;
  readonly timestampType: string;
  readonly valueBytes: number;
  /** The value exactly as delivered (base64), for the dead-letter destination; null for a tombstone. */
  readonly valueBase64: string | null;
  /** Set when the value bytes are not valid UTF-8 (the text then holds U+FFFD replacements). */
  readonly invalidUtf8: boolean;
  /** Headers in order, values as UTF-8 text, or `base64:<...>` when a value is not valid UTF-8. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** The Lambda event is not a Kafka event at all (a wiring bug, not a poison record). */
export class KafkaEventShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaEventShapeError';
  }
}

/**
 * A record key as text. Keys are short: decoding each one (ASCII fast path, as for values) beat a
 * cache of decoded keys once there are more distinct keys than the cache holds (100k users).
 */
function decodeKey(b64: string): string {
  return asciiFromBase64(b64) ?? Buffer.from(b64, 'base64').toString('utf8');
}

const NON_ASCII = /[\u0080-\uffff]/;
/** Anything but printable ASCII without the backslash: a text without it is {@link RawRecord.plain}. */
const NOT_PLAIN = /[^\x20-\x5b\x5d-\x7e]/;

/** Whether `text` is printable ASCII without a backslash (see {@link RawRecord.plain}). */
export function isPlainAscii(text: string): boolean {
  return !NOT_PLAIN.test(text);
}

/**
 * The bytes of a base64 string as text when they are all ASCII (then the text is also their
 * UTF-8 decoding, byte for byte); null otherwise, or when `atob` rejects the input.
 */
export function asciiFromBase64(b64: string): string | null {
  let text: string;
  try {
    text = atob(b64);
  } catch {
    return null;
  }
  return NON_ASCII.test(text) ? null : text;
}

const EMPTY_HEADERS: ReadonlyArray<readonly [string, string]> = [];

function decodeHeaders(
  headers: readonly LambdaKafkaHeader[] | undefined,
): ReadonlyArray<readonly [string, string]> {
  if (!headers || headers.length === 0) return EMPTY_HEADERS;
  const out: Array<readonly [string, string]> = [];
  for (const h of headers) {
    for (const name of Object.keys(h)) {
      const bytes = Buffer.from(h[name] ?? []);
      out.push([name, isUtf8(bytes) ? bytes.toString('utf8') : `base64:${bytes.toString('base64')}`]);
    }
  }
  return out;
}

/** What a `bronze/raw_events` row is made of: a decoded Lambda record, or any source's record. */
export interface BronzeSource extends KafkaCoordinates {
  /** Kafka timestamp, epoch ms. */
  readonly kafkaTs: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** Bronze `headers` column: a JSON array in Lambda's own shape with text values, `[{"name":"value"}]`. */
function headersJson(headers: ReadonlyArray<readonly [string, string]>): string {
  if (headers.length === 0) return '[]';
  return JSON.stringify(headers.map(([n, v]) => ({ [n]: v })));
}

/**
 * The `bronze/raw_events` row of a record (see `BRONZE_RAW_EVENTS`).
 * @param ingestTs the bronze `ingest_ts` (epoch ms), passed in so the core stays deterministic
 */
export function bronzeRow(record: BronzeSource, ingestTs: number): Row {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    kafka_ts: record.kafkaTs,
    key: record.key,
    value: record.value,
    headers: headersJson(record.headers),
    ingest_ts: ingestTs,
  };
}

/** Decodes one Lambda Kafka record (its bronze row, when needed: {@link bronzeRow}). */
export function decodeKafkaRecord(record: LambdaKafkaRecord): DecodedRecord {
  let value: string | null = null;
  let valueBytes = 0;
  let invalidUtf8 = false;
  let plain = false;
  const v = record.value;
  if (v !== undefined && v !== null) {
    // Fast path: `atob` decodes straight to a one-byte string, which is the UTF-8 text exactly
    // when every byte is ASCII (the common case for JSON). Anything else (non-ASCII bytes, or
    // base64 that atob rejects but Buffer accepts: base64url, junk) takes the Buffer path. One
    // regex answers both "ASCII?" and "plain?" for the common text; the rest is tested again.
    let ascii: string | null;
    try {
      ascii = atob(v);
    } catch {
      ascii = null;
    }
    if (ascii !== null) {
      plain = !NOT_PLAIN.test(ascii);
      if (!plain && NON_ASCII.test(ascii)) ascii = null;
    }
    if (ascii !== null) {
      value = ascii;
      valueBytes = ascii.length;
    } else {
      const bytes = Buffer.from(v, 'base64');
      valueBytes = bytes.length;
      value = bytes.toString('utf8');
      // Cheap check first: only text with a replacement character can come from invalid bytes.
      if (value.includes('\uFFFD') && !isUtf8(bytes)) invalidUtf8 = true;
    }
  }
  const k = record.key;
  const key = k === undefined || k === null ? null : decodeKey(k);
  const headers = decodeHeaders(record.headers);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    kafkaTs: record.timestamp,
    timestampType: record.timestampType,
    key,
    value,
    valueBytes,
    valueBase64: v ?? null,
    invalidUtf8,
    plain,
    headers,
  };
}

/**
 * Decodes every record of a Lambda Kafka event, partition by partition (in the order of the
 * `records` object) and in offset order within a partition.
 * @throws KafkaEventShapeError when `event` is not a Lambda Kafka event
 */
export function decodeKafkaEvent(event: LambdaKafkaEvent): DecodedRecord[] {
  if (
    event === null ||
    typeof event !== 'object' ||
    (event.eventSource !== 'aws:kafka' && event.eventSource !== 'SelfManagedKafka') ||
    typeof event.records !== 'object' ||
    event.records === null
  ) {
    throw new KafkaEventShapeError(
      `not a Lambda Kafka event: expected eventSource "aws:kafka" or "SelfManagedKafka" and a records object, got eventSource ${JSON.stringify(
        (event as { eventSource?: unknown } | null)?.eventSource,
      )}`,
    );
  }
  const out: DecodedRecord[] = [];
  for (const partitionKey of Object.keys(event.records)) {
    const records = event.records[partitionKey];
    if (!Array.isArray(records)) throw new KafkaEventShapeError(`records["${partitionKey}"] is not an array`);
    for (const r of records as readonly LambdaKafkaRecord[]) out.push(decodeKafkaRecord(r));
  }
  return out;
}

/** Base64 of a UTF-8 string (for building events and dead letters from text records). */
export function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** `"<topic>-<partition>"`, the key Lambda uses in `records` and the partition id of watermarks. */
export function partitionId(c: { readonly topic: string; readonly partition: number }): string {
  return `${c.topic}-${c.partition}`;
}

const PARTITION_DIGITS = /^[0-9]+$/;

/**
 * The inverse of {@link partitionId}: `"<topic>-<partition>"` (the topic may hold dashes) read back;
 * undefined when `id` is not of that form.
 */
export function parsePartitionId(id: string): { topic: string; partition: number } | undefined {
  const dash = id.lastIndexOf('-');
  if (dash <= 0) return undefined;
  const digits = id.slice(dash + 1);
  const partition = Number(digits);
  if (!PARTITION_DIGITS.test(digits) || !Number.isSafeInteger(partition)) return undefined;
  return { topic: id.slice(0, dash), partition };
}
