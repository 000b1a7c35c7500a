import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { isPlainAscii } from '../../core/index.ts';
import type { EventSource, SourceBatch, SourceRecord } from '../../ports/event-source.ts';

export interface JsonlFileSourceOptions {
  /** @default 'raw-events' */
  readonly topic?: string;
  /** @default 0 */
  readonly partition?: number;
  /**
   * Kafka timestamp given to every record (a file has none: as if the whole file had been
   * produced at once). @default the time the source is created
   */
  readonly kafkaTs?: number;
  /** Read size. @default 4 MiB */
  readonly chunkBytes?: number;
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];
const NL = 0x0a;
const CR = 0x0d;

function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

/**
 * A JSONL file as one Kafka partition (embedded mode): each line is one record value, in file
 * order; the offset is the line's 0-based number; no key, no headers. A trailing `\r` is not part
 * of the value. Blank lines are not records (their offsets are simply unused, like gaps in a Kafka
 * log) and are counted in `blankLines`. Bytes that are not UTF-8 are kept as delivered for the
 * dead-letter sink (`valueBase64`) and flagged (`invalidUtf8`).
 */
export class JsonlFileSource implements EventSource {
  readonly path: string;
  readonly description: string;
  private readonly topic: string;
  private readonly partition: number;
  private readonly kafkaTs: number;
  private readonly chunkBytes: number;
  private bytesRead = 0;
  private size: number | undefined;
  produced = 0;
  blankLines = 0;

  constructor(path: string, options: JsonlFileSourceOptions = {}) {
    this.path = path;
    this.description = `file ${path}`;
    this.topic = options.topic ?? 'raw-events';
    this.partition = options.partition ?? 0;
    this.kafkaTs = options.kafkaTs ?? Date.now();
    this.chunkBytes = options.chunkBytes ?? 4 << 20;
  }

  progress(): number | undefined {
    if (this.size === undefined) return undefined;
    return this.size === 0 ? 1 : Math.min(1, this.bytesRead / this.size);
  }

  async *batches(maxRecords: number): AsyncGenerator<SourceBatch> {
    const fh = await open(this.path, 'r');
    try {
      this.size = (await fh.stat()).size;
      let records: SourceRecord[] = [];
      let line = 0;
      let carry: Buffer | undefined;
      const chunk = Buffer.allocUnsafe(this.chunkBytes);
      for (;;) {
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
        this.bytesRead += bytesRead;
        const eof = bytesRead === 0;
        const fresh = chunk.subarray(0, bytesRead);
        const buf: Buffer = carry === undefined ? Buffer.from(fresh) : Buffer.concat([carry, fresh]);
        carry = undefined;
        let start = 0;
        for (;;) {
          let end = buf.indexOf(NL, start);
          if (end < 0) {
            if (!eof) {
              carry = buf.subarray(start);
              break;
            }
            if (start >= buf.length) break;
            end = buf.length;
          }
          const valueEnd = end > start && buf[end - 1] === CR ? end - 1 : end;
          if (isBlank(buf, start, valueEnd)) this.blankLines++;
          else {
            records.push(this.record(buf, start, valueEnd, line));
            if (records.length >= maxRecords) {
              this.produced += records.length;
              yield { topic: this.topic, partition: this.partition, records };
              records = [];
            }
          }
          line++;
          start = end + 1;
        }
        if (eof) break;
      }
      if (records.length > 0) {
        this.produced += records.length;
        yield { topic: this.topic, partition: this.partition, records };
      }
    } finally {
      await fh.close();
    }
  }

  private record(buf: Buffer, s: number, e: number, offset: number): SourceRecord {
    const value = buf.toString('utf8', s, e);
    const plain = isPlainAscii(value);
    const record: SourceRecord = {
      topic: this.topic,
      partition: this.partition,
      offset,
      kafkaTs: this.kafkaTs,
      key: null,
      value,
      valueBytes: e - s,
      plain,
      headers: NO_HEADERS,
    };
    // Only a text with a replacement character can come from bytes that are not UTF-8.
    if (plain || !value.includes('\uFFFD') || isUtf8(buf.subarray(s, e))) return record;
    return { ...record, valueBase64: buf.toString('base64', s, e), invalidUtf8: true };
  }
}
