import { type Domain, type GeneratorOptions, generateEvents, isPlainAscii } from '../../core/index.ts';
import type { EventSource, SourceBatch, SourceRecord } from '../../ports/event-source.ts';

export interface GeneratorSourceOptions extends GeneratorOptions {
  /** @default 'raw-events' */
  readonly topic?: string;
  /** Kafka timestamp of every record. @default the time the source is created */
  readonly kafkaTs?: number;
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];

/**
 * The core's seeded generator as one Kafka partition (embedded mode): `count` records, offsets
 * 0..count-1, keyed by the domain's key field, with poison, duplicates and anomalies as the
 * options ask.
 */
export class GeneratorSource implements EventSource {
  readonly description: string;
  private readonly domain: Domain;
  private readonly count: number;
  private readonly options: GeneratorSourceOptions;
  private readonly topic: string;
  private readonly kafkaTs: number;
  produced = 0;

  constructor(domain: Domain, count: number, options: GeneratorSourceOptions = {}) {
    if (!Number.isSafeInteger(count) || count < 0)
      throw new RangeError(`count must be a non-negative integer, got ${count}`);
    this.domain = domain;
    this.count = count;
    this.options = options;
    this.topic = options.topic ?? 'raw-events';
    this.kafkaTs = options.kafkaTs ?? Date.now();
    this.description = `generator (${count} ${domain.name} events, seed ${options.seed ?? 1})`;
  }

  progress(): number {
    return this.count === 0 ? 1 : this.produced / this.count;
  }

  async *batches(maxRecords: number): AsyncGenerator<SourceBatch> {
    let records: SourceRecord[] = [];
    let offset = 0;
    for (const g of generateEvents(this.domain, this.count, this.options)) {
      records.push({
        topic: this.topic,
        partition: 0,
        offset: offset++,
        kafkaTs: this.kafkaTs,
        key: g.key,
        value: g.value,
        plain: isPlainAscii(g.value),
        headers: NO_HEADERS,
      });
      if (records.length >= maxRecords) {
        this.produced += records.length;
        yield { topic: this.topic, partition: 0, records };
        records = [];
      }
    }
    if (records.length > 0) {
      this.produced += records.length;
      yield { topic: this.topic, partition: 0, records };
    }
  }
}
