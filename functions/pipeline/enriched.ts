import type { Domain, Row, SilverEvent } from '../core/index.ts';
import type { SourceRecord } from '../ports/event-source.ts';

/**
 * The enriched-events topic between `enrich` and `windows`/`cep` on AWS (in embedded mode the
 * events are handed over in process). A record's key is the event's key field (user_id), so a
 * user's events stay in one partition and in order; its value is the silver row as JSON; header
 * `tidewater-source` names the raw record it came from (`<topic>-<partition>@<offset>`).
 */

export interface EnrichedRecord {
  readonly key: string;
  readonly value: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export const SOURCE_HEADER = 'tidewater-source';

/** The Kafka record to produce on the enriched topic for a silver event. */
export function encodeEnrichedEvent(event: SilverEvent): EnrichedRecord {
  return {
    key: event.key,
    value: JSON.stringify(event.row),
    headers: [[SOURCE_HEADER, `${event.topic}-${event.partition}@${event.offset}`]],
  };
}

/** A record of the enriched topic whose value is not a silver row of the domain (a wiring bug). */
export class EnrichedRecordError extends Error {
  constructor(record: SourceRecord, what: string) {
    super(`enriched record ${record.topic}-${record.partition}@${record.offset}: ${what}`);
    this.name = 'EnrichedRecordError';
  }
}

/**
 * The silver event of an enriched-topic record. Its coordinates are the enriched record's own (the
 * partition whose watermark it advances, the offsets the windows/cep fence tracks).
 */
export function decodeEnrichedRecord(domain: Domain, record: SourceRecord): SilverEvent {
  if (record.value === null) throw new EnrichedRecordError(record, 'no value');
  let row: Row;
  try {
    row = JSON.parse(record.value) as Row;
  } catch (err) {
    throw new EnrichedRecordError(record, `value is not JSON (${(err as Error).message})`);
  }
  const ts = row[domain.eventTimeField];
  const key = row[domain.keyField];
  const id = row[domain.dedupField];
  const type = row[domain.eventTypeField];
  if (typeof ts !== 'number' || typeof key !== 'string' || typeof id !== 'string' || typeof type !== 'string')
    throw new EnrichedRecordError(record, 'value is not a silver row of this domain');
  return {
    row,
    ts,
    key,
    id,
    type,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    kafkaTs: record.kafkaTs,
  };
}
