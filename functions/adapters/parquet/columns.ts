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

function convertColumn(
  schema: TableSchema,
  spec: ColumnSpec,
  rows: readonly Row[],
  writtenAt: number | undefined,
): Column {
  if (spec.writeTime === true && writtenAt !== undefined)
    rows = rows.map((r) => (r[spec.name] == null ? { ...r, [spec.name]: writtenAt } : r));
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

/**
 * Converts rows to one `Column` per `schema.columns` entry, in order. Cells absent from a row count
 * as null, except in a `writeTime` column, which takes `writtenAt` (the time of the write, epoch
 * ms) when given. A cell that does not fit its column throws `ParquetSchemaError` naming the table,
 * column, row and value.
 *
 * The work runs in one pass over the rows through a converter generated once per schema (constant
 * property names: monomorphic loads; no per-cell dispatch on the column type). At the first cell
 * it cannot take, the generated pass gives up and the column-by-column interpreter below redoes
 * the conversion and throws the exact error. Column names are passed through `JSON.stringify`,
 * so no schema text becomes code.
 */
export function toColumns(schema: TableSchema, rows: readonly Row[], writtenAt?: number): Column[] {
  let fast = converters.get(schema);
  if (fast === undefined) {
    fast = compileConverter(schema);
    converters.set(schema, fast);
  }
  return fast(rows, writtenAt) ?? toColumnsInterpreted(schema, rows, writtenAt);
}

/** The column-by-column interpreter alone (tests compare it with the generated converter). */
export function toColumnsInterpreted(
  schema: TableSchema,
  rows: readonly Row[],
  writtenAt?: number,
): Column[] {
  return schema.columns.map((spec) => convertColumn(schema, spec, rows, writtenAt));
}

type Converter = (rows: readonly Row[], writtenAt: number | undefined) => Column[] | null;

const converters = new WeakMap<TableSchema, Converter>();

/** Helpers the generated code calls (passed in, not captured from this module's scope). */
const RUNTIME = {
  Utf8Writer,
  parseIsoDate,
  /** Clears bit `i` of the validity bitmap `valid` (allocated all-valid on first use). */
  clear(valid: Uint8Array | undefined, n: number, i: number): Uint8Array {
    const v = valid ?? new Uint8Array((n + 7) >> 3).fill(0xff);
    v[i >> 3]! &= ~(1 << (i & 7));
    return v;
  },
  TWO_32,
  INT32_MIN,
  INT32_MAX,
};

function compileConverter(schema: TableSchema): Converter {
  const init: string[] = [];
  const body: string[] = [];
  const result: string[] = [];
  schema.columns.forEach((spec, k) => {
    const cell = `v${k}`;
    const nullable = spec.nullable !== false;
    const onNull = nullable ? `{ valid${k} = R.clear(valid${k}, n, i); nulls${k}++; }` : 'return null;';
    init.push(`let valid${k}; let nulls${k} = 0; const spec${k} = specs[${k}];`);
    body.push(
      spec.writeTime === true
        ? `const ${cell} = row[${JSON.stringify(spec.name)}] ?? writtenAt;`
        : `const ${cell} = row[${JSON.stringify(spec.name)}];`,
    );
    const isNull = `${cell} === null || ${cell} === undefined`;
    switch (spec.type) {
      case 'string':
        init.push(`const offsets${k} = new Int32Array(n + 1); const utf8${k} = new R.Utf8Writer();`);
        body.push(
          `if (${isNull}) ${onNull} else if (typeof ${cell} === 'string') utf8${k}.write(${cell}); else return null;`,
          `offsets${k}[i + 1] = utf8${k}.length;`,
        );
        result.push(
          `{ spec: spec${k}, kind: 'string', offsets: offsets${k}, data: utf8${k}.bytes(), valid: valid${k}, nullCount: nulls${k} }`,
        );
        break;
      case 'int32':
        init.push(`const values${k} = new Int32Array(n);`);
        body.push(
          `if (${isNull}) ${onNull} else if (typeof ${cell} === 'number' && Number.isInteger(${cell}) && ${cell} >= R.INT32_MIN && ${cell} <= R.INT32_MAX) values${k}[i] = ${cell}; else return null;`,
        );
        result.push(
          `{ spec: spec${k}, kind: 'int32', values: values${k}, valid: valid${k}, nullCount: nulls${k} }`,
        );
        break;
      case 'date':
        init.push(`const values${k} = new Int32Array(n); let lastText${k} = ''; let lastDay${k} = 0;`);
        body.push(
          `if (${isNull}) ${onNull} else if (typeof ${cell} === 'string') {`,
          `  if (${cell} !== lastText${k}) { const d = R.parseIsoDate(${cell}); if (d === undefined) return null; lastText${k} = ${cell}; lastDay${k} = d; }`,
          `  values${k}[i] = lastDay${k};`,
          '} else return null;',
        );
        result.push(
          `{ spec: spec${k}, kind: 'date', values: values${k}, valid: valid${k}, nullCount: nulls${k} }`,
        );
        break;
      case 'int64':
      case 'timestamp_ms':
        // Two 32-bit halves: no BigInt per value.
        init.push(
          `const values${k} = new BigInt64Array(n); const words${k} = new Uint32Array(values${k}.buffer);`,
        );
        body.push(
          `if (${isNull}) ${onNull} else if (typeof ${cell} === 'number' && Number.isSafeInteger(${cell})) {`,
          `  const hi = Math.floor(${cell} / R.TWO_32); words${k}[2 * i] = ${cell} - hi * R.TWO_32; words${k}[2 * i + 1] = hi >>> 0;`,
          '} else return null;',
        );
        result.push(
          `{ spec: spec${k}, kind: ${JSON.stringify(spec.type)}, values: values${k}, valid: valid${k}, nullCount: nulls${k} }`,
        );
        break;
      case 'double':
        init.push(`const values${k} = new Float64Array(n);`);
        body.push(
          `if (${isNull}) ${onNull} else if (typeof ${cell} === 'number') values${k}[i] = ${cell}; else return null;`,
        );
        result.push(
          `{ spec: spec${k}, kind: 'double', values: values${k}, valid: valid${k}, nullCount: nulls${k} }`,
        );
        break;
      case 'boolean':
        init.push(`const values${k} = new Uint8Array((n + 7) >> 3);`);
        body.push(
          `if (${isNull}) ${onNull} else if (${cell} === true) values${k}[i >> 3] |= 1 << (i & 7); else if (${cell} !== false) return null;`,
        );
        result.push(
          `{ spec: spec${k}, kind: 'boolean', values: values${k}, valid: valid${k}, nullCount: nulls${k} }`,
        );
        break;
      default: {
        const never: never = spec.type;
        throw new ParquetSchemaError(
          `${schema.path}: column '${spec.name}' has unknown type ${String(never)}`,
        );
      }
    }
  });
  const source = [
    "'use strict';",
    'return function convert(rows, writtenAt) {',
    'const n = rows.length;',
    ...init,
    'for (let i = 0; i < n; i++) {',
    'const row = rows[i];',
    ...body,
    '}',
    `return [${result.join(', ')}];`,
    '};',
  ].join('\n');
  const factory = new Function('R', 'specs', source) as (
    r: typeof RUNTIME,
    specs: readonly ColumnSpec[],
  ) => Converter;
  return factory(RUNTIME, schema.columns);
}

/** The buffers behind `columns`, for a `postMessage` transfer list (each column owns its own). */
export function columnBuffers(columns: readonly Column[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const c of columns) {
    if (c.valid !== undefined) out.push(c.valid.buffer as ArrayBuffer);
    if (c.kind === 'string') out.push(c.offsets.buffer as ArrayBuffer, c.data.buffer as ArrayBuffer);
    else out.push(c.values.buffer as ArrayBuffer);
  }
  return out;
}

/** True when bit `i` of an LSB validity bitmap is set (or there is no bitmap). */
export function isValid(valid: Uint8Array | undefined, i: number): boolean {
  return valid === undefined || (valid[i >> 3]! & (1 << (i & 7))) !== 0;
}
