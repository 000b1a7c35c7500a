import { describe, expect, it } from 'vitest';
import { encodeParquet, ParquetSchemaError } from '../../../functions/adapters/parquet/index.ts';
import type { Row } from '../../../functions/core/model.ts';
import { PAYMENTS, silverEventRows } from '../lakehouse/fixtures.ts';
import { ALL_TYPES } from './all-types.ts';
import { readBack } from './read-back.ts';

const ROWS: Row[] = [
  {
    name: 'plain',
    note: 'ascii',
    n32: -2_147_483_648,
    n64: 9_007_199_254_740_991,
    x: 1.5,
    flag: true,
    at: Date.UTC(2026, 0, 15, 10, 0, 0, 123),
    day: '2026-01-15',
  },
  {
    name: 'zürich — 東京 🚀',
    note: null,
    n32: null,
    n64: -42,
    x: null,
    flag: false,
    at: -1_000,
    day: null,
  },
  { name: 'absent cells are null', at: 0, flag: null },
];

describe('encodeParquet', () => {
  it('writes the contract types: TIMESTAMP(MILLIS, UTC), DATE, INT32, INT64, UTF8, REQUIRED only when not nullable', async () => {
    // Prepare
    const rows = silverEventRows(50, 2);

    // Act
    const { schema } = await readBack(await encodeParquet(PAYMENTS.silver, rows));

    // Assess
    const ts = schema.get('ts')!;
    expect(ts.type).toBe('INT64');
    expect(ts.logical).toContain('isAdjustedToUTC=1');
    expect(ts.logical).toContain('MILLIS=MilliSeconds()');
    expect(schema.get('event_date')).toMatchObject({ type: 'INT32', converted: 'DATE' });
    expect(schema.get('event_hour')).toMatchObject({ type: 'INT32' });
    expect(schema.get('event_id')).toMatchObject({
      type: 'BYTE_ARRAY',
      converted: 'UTF8',
      repetition: 'REQUIRED',
    });
    expect(schema.get('amount')).toMatchObject({ type: 'DOUBLE', repetition: 'OPTIONAL' });
    expect([...schema.keys()]).toEqual(PAYMENTS.silver.columns.map((c) => c.name));
  });

  it('writes bronze offsets as INT64 and partitions as INT32', async () => {
    // Prepare
    const row: Row = {
      topic: 't',
      partition: 3,
      offset: 2 ** 40,
      kafka_ts: 1,
      key: null,
      value: '{}',
      headers: '[]',
      ingest_ts: 2,
    };

    // Act
    const { schema, rows } = await readBack(await encodeParquet(PAYMENTS.bronze, [row]));

    // Assess
    expect(schema.get('offset')).toMatchObject({ type: 'INT64', repetition: 'REQUIRED' });
    expect(schema.get('partition')).toMatchObject({ type: 'INT32' });
    expect(rows[0]!.offset).toBe(BigInt(2 ** 40));
  });

  it('round-trips every type, nulls, absent cells, non-ASCII text, extreme integers and times before 1970', async () => {
    // Act
    const { rows } = await readBack(await encodeParquet(ALL_TYPES, ROWS));

    // Assess
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ name: 'plain', note: 'ascii', n32: -2_147_483_648, x: 1.5, flag: true });
    expect(rows[0]!.n64).toBe(9_007_199_254_740_991n);
    expect((rows[0]!.at as Date).toISOString()).toBe('2026-01-15T10:00:00.123Z');
    expect((rows[0]!.day as Date).toISOString().slice(0, 10)).toBe('2026-01-15');
    expect(rows[1]).toMatchObject({
      name: 'zürich — 東京 🚀',
      note: null,
      n32: null,
      x: null,
      flag: false,
      day: null,
    });
    expect(rows[1]!.n64).toBe(-42n);
    expect((rows[1]!.at as Date).toISOString()).toBe('1969-12-31T23:59:59.000Z');
    expect(rows[2]).toMatchObject({ name: 'absent cells are null', note: null, n64: null, flag: null });
  });

  it('compresses with zstd by default and snappy on request', async () => {
    // Act
    const zstd = await readBack(await encodeParquet(ALL_TYPES, ROWS));
    const snappy = await readBack(await encodeParquet(ALL_TYPES, ROWS, { compression: 'snappy' }));

    // Assess
    expect(zstd.codecs).toEqual(['ZSTD']);
    expect(snappy.codecs).toEqual(['SNAPPY']);
  });

  it('writes a valid empty file for no rows', async () => {
    // Act
    const { rows, schema } = await readBack(await encodeParquet(ALL_TYPES, []));

    // Assess
    expect(rows).toEqual([]);
    expect(schema.size).toBe(ALL_TYPES.columns.length);
  });

  it('rejects a null in a non-nullable column, naming table, column and row', async () => {
    // Prepare
    const rows: Row[] = [{ ...ROWS[0]! }, { ...ROWS[0]!, name: null }];

    // Act
    const result = encodeParquet(ALL_TYPES, rows);

    // Assess
    await expect(result).rejects.toThrow(ParquetSchemaError);
    await expect(result).rejects.toThrow(/test\/all_types: column 'name' \(string\) row 1: .*not nullable/);
  });

  it.each([
    ['n32', 2 ** 31, /32-bit integer/],
    ['n32', 1.5, /32-bit integer/],
    ['n64', 2 ** 53, /safe integer/],
    ['x', '1.5', /a number/],
    ['flag', 1, /a boolean/],
    ['day', '2026-02-30', /YYYY-MM-DD/],
    ['day', '15/01/2026', /YYYY-MM-DD/],
    ['at', '2026-01-15T10:00:00Z', /epoch milliseconds/],
    ['name', 7, /a string/],
  ])('rejects %s = %j with a message saying what was expected', async (column, value, message) => {
    // Prepare
    const rows: Row[] = [{ ...ROWS[0]!, [column]: value }];

    // Act + Assess
    await expect(encodeParquet(ALL_TYPES, rows)).rejects.toThrow(message);
  });
});
