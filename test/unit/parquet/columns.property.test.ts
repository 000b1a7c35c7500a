import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toColumns, toColumnsInterpreted } from '../../../functions/adapters/parquet/columns.ts';
import type { Cell, Row, TableSchema } from '../../../functions/core/model.ts';
import { ALL_TYPES } from './all-types.ts';

const SCHEMA = ALL_TYPES;

/** Mostly valid cells per column, with a few of every kind of wrong one. */
const cell: Record<string, fc.Arbitrary<Cell | undefined>> = {
  name: fc.oneof({ weight: 20, arbitrary: fc.string({ unit: 'binary' }) }, fc.constant(null), fc.integer()),
  note: fc.oneof(fc.string({ unit: 'grapheme' }), fc.constant(null), fc.constant(undefined), fc.boolean()),
  n32: fc.oneof(
    { weight: 10, arbitrary: fc.integer() },
    fc.constant(null),
    fc.constant(2 ** 31),
    fc.double(),
    fc.string(),
  ),
  n64: fc.oneof(
    { weight: 10, arbitrary: fc.maxSafeInteger() },
    fc.constant(null),
    fc.constant(2 ** 53),
    fc.constant(0.5),
  ),
  x: fc.oneof({ weight: 10, arbitrary: fc.double() }, fc.constant(null), fc.constant('1')),
  flag: fc.oneof({ weight: 10, arbitrary: fc.boolean() }, fc.constant(null), fc.constant(0)),
  at: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: -1e12, max: 4e12 }) }, fc.constant(null)),
  day: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom('2026-01-15', '1969-12-31', '2024-02-29') },
    fc.constant(null),
    fc.constantFrom('2026-02-30', '2026-1-5', 20260115),
  ),
};

const row: fc.Arbitrary<Row> = fc.record(cell, { requiredKeys: ['name', 'at'] }) as fc.Arbitrary<Row>;

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('toColumns (generated single-pass converter)', () => {
  it('gives exactly the interpreter’s columns, and the same error for the same bad cell', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        expect(outcome(() => toColumns(SCHEMA, rows))).toEqual(
          outcome(() => toColumnsInterpreted(SCHEMA, rows)),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('does not run schema text as code', () => {
    const evil: TableSchema = {
      path: 'test/evil',
      partitionBy: 'at',
      columns: [
        { name: "x']; throw new Error('injected'); //", type: 'string' },
        { name: 'at', type: 'timestamp_ms', nullable: false },
      ],
    };
    const [col] = toColumns(evil, [{ "x']; throw new Error('injected'); //": 'ok', at: 1 }]);
    expect(col?.kind).toBe('string');
    expect(col?.nullCount).toBe(0);
  });
});
