import type { ColumnSpec, ColumnType, Row, TableSchema } from '../../core/model.ts';

/**
 * Rows (objects) to columns (typed arrays), validating every cell against its `ColumnSpec`.
 * Shared by the Parquet encoders so they all accept and reject exactly the same input.
 */

/**
 * One column in Arrow-ready columnar form. `valid` is an LSB validity bitmap (bit set = not null),
 * absent when the column has no null. Strings are UTF-8 bytes plus `rowCount + 1` offsets.
 */
export type Column = {
  readonly spec: ColumnSpec;
  readonly valid?: Uint8Array;
  readonly nullCount: number;
} & (
  | { readonly kind: 'string'; readonly offsets: Int32Array; readonly data: Uint8Array }
  | { readonly kind: 'int32' | 'date'; readonly values: Int32Array }
  | { readonly kind: 'int64' | 'timestamp_ms'; readonly values: BigInt64Array }
  | { readonly kind: 'double'; readonly values: Float64Array }
  | { readonly kind: 'boolean'; readonly values: Uint8Array }
);

/** A cell that does not fit its column: the message names the table, column, row and value. */
export class ParquetSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParquetSchemaError';
  }
}

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a 'YYYY-MM-DD' string, or undefined when it is not a real calendar date. */
export function parseIsoDate(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return ms / DAY_MS;
}

function describe(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    : String(value);
}

function bad(schema: TableSchema, spec: ColumnSpec, row: number, value: unknown, expected: string): never {
  throw new ParquetSchemaError(
    `${schema.path}: column '${spec.name}' (${spec.type}) row ${row}: expected ${expected}, got ${describe(value)}`,
  );
}

const TWO_32 = 4_294_967_296;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

/** Appends strings as UTF-8 into one growing buffer; ASCII goes through a JavaScript loop, the rest through Buffer.write. */
class Utf8Writer {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;

  write(s: string): void {
    const len = s.length;
    if (this.length + len * 3 > this.buf.length) this.grow(this.length + len * 3);
    const buf = this.buf;
    let pos = this.length;
    if (len <= 32) {
      let k = 0;
      for (; k < len; k++) {
        const c = s.charCodeAt(k);
        if (c >= 0x80) break;
        buf[pos++] = c;
      }
      if (k < len) pos += buf.write(k === 0 ? s : s.slice(k), pos, 'utf8');
    } else {
      pos += buf.write(s, pos, 'utf8');
    }
    this.length = pos;
  }

  /** The bytes written so far, copied out to a right-sized array. */
  bytes(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.length).slice();
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

function convertColumn(schema: TableSchema, spec: ColumnSpec, rows: readonly Row[]): Column {
  const n = rows.length;
  const nullable = spec.nullable !== false;
  const name = spec.name;
  let valid: Uint8Array | undefined;
  let nullCount = 0;
  const markNull = (i: number): void => {
    if (!nullable) bad(schema, spec, i, null, 'a value (column is not nullable)');
    if (!valid) valid = new Uint8Array((n + 7) >> 3).fill(0xff);
    valid[i >> 3]! &= ~(1 << (i & 7));
    nullCount++;
  };
  const type: ColumnType = spec.type;
  switch (type) {
    case 'string': {
      const offsets = new Int32Array(n + 1);
      const utf8 = new Utf8Writer();
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        if (v === null || v === undefined) markNull(i);
        else if (typeof v === 'string') utf8.write(v);
        else bad(schema, spec, i, v, 'a string');
        offsets[i + 1] = utf8.length;
      }
      return { spec, kind: type, offsets, data: utf8.bytes(), valid, nullCount };
    }
    case 'int32': {
      const values = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        if (v === null || v === undefined) markNull(i);
        else if (typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX)
          values[i] = v;
        else bad(schema, spec, i, v, 'a 32-bit integer');
      }
      return { spec, kind: type, values, valid, nullCount };
    }
    case 'date': {
      const values = new Int32Array(n);
      let lastText = '';
      let lastDay = 0;
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        if (v === null || v === undefined) markNull(i);
        else if (typeof v === 'string') {
          if (v !== lastText) {
            const day = parseIsoDate(v);
            if (day === undefined) bad(schema, spec, i, v, "a 'YYYY-MM-DD' date");
            lastText = v;
            lastDay = day;
          }
          values[i] = lastDay;
        } else bad(schema, spec, i, v, "a 'YYYY-MM-DD' date");
      }
      return { spec, kind: type, values, valid, nullCount };
    }
    case 'int64':
    case 'timestamp_ms': {
      const values = new BigInt64Array(n);
      // Written as two 32-bit halves: no BigInt allocation per value.
      const words = new Uint32Array(values.buffer);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        if (v === null || v === undefined) markNull(i);
        else if (typeof v === 'number' && Number.isSafeInteger(v)) {
          const hi = Math.floor(v / TWO_32);
          words[2 * i] = v - hi * TWO_32;
          words[2 * i + 1] = hi >>> 0;
        } else
          bad(
            schema,
            spec,
            i,
            v,
            type === 'int64' ? 'a safe integer' : 'epoch milliseconds (a safe integer)',
          );
      }
      return { spec, kind: type, values, valid, nullCount };
    }
    case 'double': {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        if (v === null || v === undefined) markNull(i);
        else if (typeof v === 'number') values[i] = v;
        else bad(schema, spec, i, v, 'a number');
      }
      return { spec, kind: type, values, valid, nullCount };
    }
    case 'boolean': {
      const values = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        if (v === null || v === undefined) markNull(i);
        else if (v === true) values[i >> 3]! |= 1 << (i & 7);
        else if (v !== false) bad(schema, spec, i, v, 'a boolean');
      }
      return { spec, kind: type, values, valid, nullCount };
    }
    default: {
      const never: never = type;
      throw new ParquetSchemaError(`${schema.path}: column '${name}' has unknown type ${String(never)}`);
    }
  }
}

/** Converts rows to one `Column` per `schema.columns` entry, in order. Cells absent from a row count as null. */
export function toColumns(schema: TableSchema, rows: readonly Row[]): Column[] {
  return schema.columns.map((spec) => convertColumn(schema, spec, rows));
}

/** True when bit `i` of an LSB validity bitmap is set (or there is no bitmap). */
export function isValid(valid: Uint8Array | undefined, i: number): boolean {
  return valid === undefined || (valid[i >> 3]! & (1 << (i & 7))) !== 0;
}
