import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GeneratorSource,
  JsonlDeadLetterSink,
  JsonlFileSource,
  MetricsCollector,
} from '../../../functions/adapters/embedded/index.ts';
import { isPlainAscii, toDeadLetter } from '../../../functions/core/index.ts';
import type { SourceBatch } from '../../../functions/ports/index.ts';
import { payments, rec } from './helpers.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tw-pipeline-'));
}

async function collect(batches: AsyncIterable<SourceBatch>): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

describe('JsonlFileSource', () => {
  it('yields lines in file order as one partition, offsets = line numbers, in batches', async () => {
    // Prepare
    const file = join(tmp(), 'in.jsonl');
    writeFileSync(file, 'a\nb\nc\nd\ne\n');
    const source = new JsonlFileSource(file, { kafkaTs: 5 });
    // Act
    const batches = await collect(source.batches(2));
    // Assess
    expect(batches.map((b) => b.records.map((r) => r.value))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batches.flatMap((b) => b.records.map((r) => r.offset))).toEqual([0, 1, 2, 3, 4]);
    expect(batches[0]).toMatchObject({ topic: 'raw-events', partition: 0 });
    expect(batches[0]!.records[0]).toMatchObject({ key: null, kafkaTs: 5, headers: [] });
    expect(source.produced).toBe(5);
    expect(source.progress()).toBe(1);
  });

  it('skips and counts blank lines, strips CRLF and reads a last line without newline', async () => {
    // Prepare
    const file = join(tmp(), 'in.jsonl');
    writeFileSync(file, 'a\r\n\n  \nb\nc');
    const source = new JsonlFileSource(file);
    // Act
    const [batch] = await collect(source.batches(100));
    // Assess
    expect(batch!.records.map((r) => [r.offset, r.value])).toEqual([
      [0, 'a'],
      [3, 'b'],
      [4, 'c'],
    ]);
    expect(source.blankLines).toBe(2);
    expect(source.produced).toBe(3);
  });

  it('marks the plain ASCII lines without a backslash (a hint for the scanner), and only those', async () => {
    // Prepare
    const file = join(tmp(), 'in.jsonl');
    writeFileSync(file, '{"a":"b c"}\n{"a":"b\\"c"}\n{"a":"é"}\n{"a":\t1}\n');
    const source = new JsonlFileSource(file);
    // Act
    const [batch] = await collect(source.batches(100));
    // Assess
    expect(batch!.records.map((r) => r.plain === true)).toEqual([true, false, false, false]);
  });

  it('joins a line split across read chunks', async () => {
    // Prepare
    const file = join(tmp(), 'in.jsonl');
    const long = 'x'.repeat(100);
    writeFileSync(file, `${long}\nshort\n`);
    const source = new JsonlFileSource(file, { chunkBytes: 7 });
    // Act
    const [batch] = await collect(source.batches(100));
    // Assess
    expect(batch!.records.map((r) => r.value)).toEqual([long, 'short']);
    expect(batch!.records[0]!.valueBytes).toBe(100);
  });

  it('flags a line that is not UTF-8 and keeps its exact bytes for the dead-letter sink', async () => {
    // Prepare
    const file = join(tmp(), 'in.jsonl');
    const bad = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    writeFileSync(file, Buffer.concat([bad, Buffer.from('\n{}\n')]));
    const source = new JsonlFileSource(file);
    // Act
    const [batch] = await collect(source.batches(100));
    // Assess
    expect(batch!.records[0]).toMatchObject({ invalidUtf8: true, valueBase64: bad.toString('base64') });
    expect(batch!.records[1]!.invalidUtf8).toBeUndefined();
  });
});

describe('GeneratorSource', () => {
  it('yields exactly N keyed records with consecutive offsets', async () => {
    // Prepare
    const source = new GeneratorSource(payments, 25, { seed: 3 });
    // Act
    const batches = await collect(source.batches(10));
    // Assess
    const records = batches.flatMap((b) => b.records);
    expect(batches.map((b) => b.records.length)).toEqual([10, 10, 5]);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(records.every((r) => typeof r.key === 'string' && r.key.length > 0)).toBe(true);
    expect(source.progress()).toBe(1);
  });

  it('marks a record plain exactly when its value is printable ASCII without a backslash', async () => {
    // Prepare: poison records included (the generator writes them in ASCII too).
    const source = new GeneratorSource(payments, 2000, { seed: 4, poisonRate: 0.2 });
    // Act
    const records = (await collect(source.batches(500))).flatMap((b) => b.records);
    // Assess
    expect(records.every((r) => r.plain === isPlainAscii(r.value ?? ''))).toBe(true);
    expect(records.some((r) => r.plain)).toBe(true);
  });
});

describe('JsonlDeadLetterSink', () => {
  it('writes one JSONL file per batch named from its coordinates, with reason and raw bytes', async () => {
    // Prepare
    const dir = join(tmp(), '_deadletter');
    const sink = new JsonlDeadLetterSink(dir);
    const letter = toDeadLetter(rec(7, 'not json'), {
      code: 'invalid_json',
      message: 'the value is not JSON',
    });
    // Act
    await sink.send({ topic: 'raw-events', partition: 0, firstOffset: 5, lastOffset: 9 }, [letter]);
    // Assess
    expect(readdirSync(dir)).toEqual(['raw-events-0-5-9.jsonl']);
    const line = JSON.parse(readFileSync(join(dir, 'raw-events-0-5-9.jsonl'), 'utf8').trim());
    expect(line).toMatchObject({
      topic: 'raw-events',
      partition: 0,
      offset: 7,
      reason: { code: 'invalid_json' },
    });
    expect(Buffer.from(line.valueBase64, 'base64').toString()).toBe('not json');
  });

  it('replaces the file of a redelivered batch instead of appending to it', async () => {
    // Prepare
    const dir = join(tmp(), '_deadletter');
    const sink = new JsonlDeadLetterSink(dir);
    const range = { topic: 'raw-events', partition: 0, firstOffset: 0, lastOffset: 1 };
    const letter = toDeadLetter(rec(1, '['), { code: 'invalid_json', message: 'x' });
    // Act
    await sink.send(range, [letter]);
    await sink.send(range, [letter]);
    // Assess
    expect(readFileSync(join(dir, 'raw-events-0-0-1.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('MetricsCollector', () => {
  it('sums counters per metric and dimensions', () => {
    // Prepare
    const m = new MetricsCollector();
    // Act
    m.count('RecordsOut', 3, { layer: 'silver' });
    m.count('RecordsOut', 4, { layer: 'silver' });
    m.count('RecordsOut', 1, { layer: 'gold' });
    // Assess
    expect(m.get('RecordsOut', { layer: 'silver' })).toBe(7);
    expect(m.total('RecordsOut')).toBe(8);
    expect(m.get('Alerts')).toBe(0);
  });
});
