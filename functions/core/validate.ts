/**
 * Contract validation and enrichment (SPEC §1, §2 silver): a record value becomes a silver row,
 * or a poison record with a machine-readable reason. The validator is compiled once per domain
 * into a flat list of field checks (zod validates the config; a hand-rolled checker keeps the
 * per-record hot path fast). The first broken rule is reported.
 */
import type { Domain, FieldSpec } from './domain.ts';
import { findCountry } from './geo.ts';
import { isPlainAscii, type RawRecord } from './kafka.ts';
import type { KafkaCoordinates, Row } from './model.ts';
import { parseIsoTimestamp, utcDate, utcHour } from './time.ts';

/** Why a record is poison. Stable strings: dashboards, DLQ consumers and tests match on them. */
export type PoisonCode =
  /** value larger than `max_record_bytes` (256 KiB) */
  | 'too_large'
  /** null value (tombstone) or empty value */
  | 'empty_value'
  /** value bytes are not UTF-8 */
  | 'invalid_utf8'
  | 'invalid_json'
  /** JSON, but not an object (array, string, number...) */
  | 'not_an_object'
  /** a required field is absent or null (also: required for this event type) */
  | 'missing_field'
  | 'wrong_type'
  | 'too_short'
  | 'too_long'
  | 'pattern_mismatch'
  /** not one of the field's `enum` values */
  | 'not_allowed'
  | 'unknown_event_type'
  | 'out_of_range'
  /** a number that is not finite (e.g. `1e999`) */
  | 'not_finite'
  | 'not_integer'
  /** neither ISO-8601 with zone nor integer epoch milliseconds */
  | 'invalid_timestamp'
  /** present on an event type for which the field must be absent ("absent otherwise") */
  | 'unexpected_field'
  /** one half of a pair (lat/lon) without the other */
  | 'incomplete_pair'
  /** the amount's currency has no rate in the domain's table (`on_unknown: dead_letter`) */
  | 'unknown_currency'
  /** the Kafka record key differs from the key field */
  | 'key_mismatch';

export interface PoisonReason {
  readonly code: PoisonCode;
  /** The offending field, when there is one. */
  readonly field?: string;
  /** One line for humans, including the bad value (truncated). */
  readonly message: string;
}

/** A valid, enriched event: the silver row plus the values windows and CEP need, pre-extracted. */
export interface SilverEvent extends KafkaCoordinates {
  /** The `silver/events` row (columns of `layerSchemas(domain).silver`). */
  readonly row: Row;
  /** Event time, epoch ms. */
  readonly ts: number;
  /** Value of the key field. */
  readonly key: string;
  /** Value of the dedup field. */
  readonly id: string;
  /** Value of the event-type field. */
  readonly type: string;
  /**
   * Kafka timestamp of the record the event was read from, where a stage reads it from a topic
   * (the enriched topic, for windows and cep on AWS); latency metrics only. @default unknown
   */
  readonly kafkaTs?: number;
}

export type ValidationResult =
  | { readonly ok: true; readonly event: SilverEvent }
  | { readonly ok: false; readonly reason: PoisonReason };

/**
 * A valid result that is its own event (`result.event === result`): one object per valid record
 * instead of two, on the path every record takes.
 */
class ValidEvent implements SilverEvent {
  readonly row: Row;
  readonly ts: number;
  readonly key: string;
  readonly id: string;
  readonly type: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;

  constructor(row: Row, ts: number, key: string, id: string, type: string, at: KafkaCoordinates) {
    this.row = row;
    this.ts = ts;
    this.key = key;
    this.id = id;
    this.type = type;
    this.topic = at.topic;
    this.partition = at.partition;
    this.offset = at.offset;
  }

  /** On the prototype, like `event`: the event's own fields stay exactly those of SilverEvent. */
  get ok(): true {
    return true;
  }

  get event(): SilverEvent {
    return this;
  }
}

/** What goes to the dead-letter destination for a poison record (SPEC §1). */
export interface DeadLetter extends KafkaCoordinates {
  readonly reason: PoisonReason;
  readonly key: string | null;
  /** The raw value bytes, base64 (null for a tombstone). */
  readonly valueBase64: string | null;
}

/** Builds the dead-letter message for a poison record. */
export function toDeadLetter(
  record: RawRecord & { readonly valueBase64?: string | null },
  reason: PoisonReason,
): DeadLetter {
  return {
    reason,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    valueBase64:
      record.valueBase64 !== undefined
        ? record.valueBase64
        : record.value === null
          ? null
          : Buffer.from(record.value, 'utf8').toString('base64'),
  };
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value));
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
}

function fail(code: PoisonCode, message: string, field?: string): ValidationResult {
  return { ok: false, reason: field === undefined ? { code, message } : { code, field, message } };
}

const KIND_STRING = 0;
const KIND_NUMBER = 1;
const KIND_INTEGER = 2;
const KIND_BOOLEAN = 3;
const KIND_TIMESTAMP = 4;

interface CompiledField {
  readonly spec: FieldSpec;
  readonly name: string;
  readonly kind: number;
  /** Per event-type index: required? */
  readonly requiredBy: readonly boolean[];
  /** Per event-type index: allowed at all? */
  readonly allowedBy: readonly boolean[];
  readonly enumSet: ReadonlySet<string> | null;
  readonly defaultValue: string | number | boolean | null;
  readonly pair: string | null;
}

/** A compiled validator: `(record) => ValidationResult`. */
export type Validator = (record: RawRecord) => ValidationResult;

/**
 * Compiles the contract of `domain` into a fast validator + enricher. Rules, in order:
 * size (`too_large`), null value, UTF-8, JSON object, the event-type field, then every declared
 * field in declaration order (presence per event type, type, constraints, pairs), then the record
 * key, then enrichment. Unknown extra fields are ignored; JSON `null` counts as absent.
 *
 * Enrichment: `event_date` (UTC `YYYY-MM-DD`) and `event_hour` (UTC 0..23) from event time,
 * `amount_usd` = amount x rate rounded to the configured decimals (null without an amount),
 * `country` = first bounding box containing (lat, lon), else null.
 */
export function compileValidator(
  domain: Domain,
  options: {
    /** `false` runs only the interpreting checker (tests compare both). @default true */
    readonly fastPath?: boolean;
    /**
     * Whether the events' long strings (ids...) are copied out of the record text, so that one
     * kept after the batch does not keep the whole record text alive (see
     * {@link FlatJsonScanner}). Turn it off only when the events are let go with their batch, as
     * the AWS enrich consumer does (it publishes them and keeps ids in DynamoDB). @default true
     */
    readonly copyStrings?: boolean;
  } = {},
): Validator {
  const types = domain.eventTypes;
  const typeIndex = new Map(types.map((t, i) => [t, i]));
  const typeField = domain.eventTypeField;
  const fields: CompiledField[] = domain.fields.map((spec) => ({
    spec,
    name: spec.name,
    kind: {
      string: KIND_STRING,
      number: KIND_NUMBER,
      integer: KIND_INTEGER,
      boolean: KIND_BOOLEAN,
      timestamp: KIND_TIMESTAMP,
    }[spec.type],
    requiredBy: types.map((t) => spec.required || spec.requiredFor.includes(t)),
    allowedBy: types.map((t) => spec.onlyFor === null || spec.onlyFor.includes(t)),
    enumSet: spec.enum && spec.name !== typeField ? new Set(spec.enum) : null,
    defaultValue: spec.default,
    pair: spec.pair,
  }));
  const maxBytes = domain.maxRecordBytes;
  const keyField = domain.keyField;
  const idField = domain.dedupField;
  const tsField = domain.eventTimeField;
  const enforceKey = domain.enforceRecordKey;
  const cur = domain.enrichment.currency;
  const geo = domain.enrichment.geo;
  const curScale = cur ? 10 ** cur.decimals : 1;
  const rates = cur ? new Map(Object.entries(cur.ratesToUsd)) : null;

  const extraColumns = ['event_date', 'event_hour'];
  if (cur) extraColumns.push(cur.output);
  if (geo) extraColumns.push(geo.output);
  const useFast = options.fastPath !== false;
  const fast = useFast ? compileFastPath(fields, extraColumns, 'object') : () => null;
  // The scanner path reads declared fields straight from the JSON text into slots (no parsed
  // object). It is exact only when a missing field reads as undefined, which `o[name]` does
  // not guarantee for names inherited from Object.prototype (`constructor`...): such domains,
  // and domains whose pairs or type field are not declared fields, keep the object path.
  const names = fields.map((f) => f.name);
  const typeSlot = names.indexOf(typeField);
  const scannable =
    useFast &&
    typeSlot >= 0 &&
    names.every((n) => !(n in Object.prototype)) &&
    fields.every((f) => f.pair === null || names.includes(f.pair));
  // Timestamps are parsed in the text, and the strings of closed sets (event types, enum values,
  // currency codes) are the domain's own: neither makes a new string per record.
  const scanner = scannable
    ? new FlatJsonScanner(
        fields.map((f): ScanField => {
          const known = new Set(f.spec.enum ?? []);
          if (f.name === typeField) for (const t of types) known.add(t);
          if (cur !== null && f.name === cur.currencyField)
            for (const code of Object.keys(cur.ratesToUsd)) known.add(code);
          return { name: f.name, timestamp: f.kind === KIND_TIMESTAMP, known: [...known] };
        }),
        { copyStrings: options.copyStrings !== false },
      )
    : null;
  const fastSlots = scannable ? compileFastPath(fields, extraColumns, 'slots') : null;
  const slots: unknown[] = new Array<unknown>(names.length).fill(undefined);

  function validateAndEnrich(record: RawRecord): ValidationResult {
    const value = record.value;
    if (value === null || value.length === 0) return fail('empty_value', 'the record has no value');
    let bytes = record.valueBytes;
    if (bytes === undefined)
      bytes = value.length * 3 <= maxBytes ? value.length : Buffer.byteLength(value, 'utf8');
    if (bytes > maxBytes) return fail('too_large', `the value is ${bytes} bytes, larger than ${maxBytes}`);
    if ((record as { invalidUtf8?: boolean }).invalidUtf8 === true)
      return fail('invalid_utf8', 'the value is not valid UTF-8');
    // Fastest path: a flat JSON object scanned into slots and valid on the first try. Anything
    // else (nested values, escapes, any broken rule) goes the general way below, from scratch.
    if (scanner !== null && fastSlots !== null && scanner.scan(value, slots, record.plain === true)) {
      const tv = slots[typeSlot];
      if (typeof tv === 'string') {
        const t = typeIndex.get(tv);
        if (t !== undefined) {
          const row = fastSlots(slots, t);
          if (row !== null) return finish(record, row, tv);
        }
      }
    }
    let obj: unknown;
    try {
      obj = JSON.parse(value);
    } catch (err) {
      return fail('invalid_json', `the value is not JSON: ${(err as Error).message}`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      return fail('not_an_object', `the value is JSON but not an object: ${show(obj)}`);
    }
    const o = obj as Record<string, unknown>;
    const typeValue = o[typeField];
    if (typeValue === undefined || typeValue === null)
      return fail('missing_field', `"${typeField}" is required`, typeField);
    if (typeof typeValue !== 'string')
      return fail('wrong_type', `"${typeField}" must be a string, got ${show(typeValue)}`, typeField);
    const t = typeIndex.get(typeValue);
    if (t === undefined) {
      return fail(
        'unknown_event_type',
        `"${typeField}" must be one of ${types.join(', ')}, got ${show(typeValue)}`,
        typeField,
      );
    }

    // Fast path for valid events; on any doubt the interpreter below finds the exact reason.
    let row = fast(o, t);
    if (row === null) {
      row = {};
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const name = f.name;
        const v = o[name];
        if (v === undefined || v === null) {
          if (f.requiredBy[t]) {
            return fail(
              'missing_field',
              `"${name}" is required${f.spec.required ? '' : ` for ${typeValue}`}`,
              name,
            );
          }
          if (f.pair !== null) {
            const other = o[f.pair];
            if (other !== undefined && other !== null)
              return fail('incomplete_pair', `"${f.pair}" needs "${name}" too`, name);
          }
          row[name] = f.defaultValue;
          continue;
        }
        if (!f.allowedBy[t])
          return fail('unexpected_field', `"${name}" must be absent for ${typeValue}`, name);
        const s = f.spec;
        switch (f.kind) {
          case KIND_STRING: {
            if (typeof v !== 'string')
              return fail('wrong_type', `"${name}" must be a string, got ${show(v)}`, name);
            if (s.minLength !== null && v.length < s.minLength) {
              return fail(
                'too_short',
                `"${name}" must have at least ${s.minLength} characters, got ${show(v)}`,
                name,
              );
            }
            if (s.maxLength !== null && v.length > s.maxLength) {
              return fail(
                'too_long',
                `"${name}" must have at most ${s.maxLength} characters, got ${v.length}`,
                name,
              );
            }
            if (s.pattern !== null && !s.pattern.test(v)) {
              return fail(
                'pattern_mismatch',
                `"${name}" must match ${s.pattern.source}, got ${show(v)}`,
                name,
              );
            }
            if (f.enumSet !== null && !f.enumSet.has(v)) {
              return fail(
                'not_allowed',
                `"${name}" must be one of ${[...f.enumSet].join(', ')}, got ${show(v)}`,
                name,
              );
            }
            row[name] = v;
            break;
          }
          case KIND_NUMBER:
          case KIND_INTEGER: {
            if (typeof v !== 'number')
              return fail('wrong_type', `"${name}" must be a number, got ${show(v)}`, name);
            if (!Number.isFinite(v)) return fail('not_finite', `"${name}" must be finite, got ${v}`, name);
            if (f.kind === KIND_INTEGER && !Number.isSafeInteger(v))
              return fail('not_integer', `"${name}" must be an integer, got ${v}`, name);
            if ((s.min !== null && v < s.min) || (s.max !== null && v > s.max)) {
              return fail(
                'out_of_range',
                `"${name}" must be within [${s.min ?? '-inf'}, ${s.max ?? 'inf'}], got ${v}`,
                name,
              );
            }
            row[name] = v;
            break;
          }
          case KIND_BOOLEAN: {
            if (typeof v !== 'boolean')
              return fail('wrong_type', `"${name}" must be a boolean, got ${show(v)}`, name);
            row[name] = v;
            break;
          }
          default: {
            let ms: number | undefined;
            if (typeof v === 'number') {
              ms = Number.isSafeInteger(v) ? v : undefined;
            } else if (typeof v === 'string') {
              ms = parseIsoTimestamp(v);
            } else {
              return fail(
                'wrong_type',
                `"${name}" must be an ISO-8601 string or epoch milliseconds, got ${show(v)}`,
                name,
              );
            }
            if (ms === undefined) {
              return fail(
                'invalid_timestamp',
                `"${name}" must be ISO-8601 with a zone or integer epoch milliseconds, got ${show(v)}`,
                name,
              );
            }
            if ((s.min !== null && ms < s.min) || (s.max !== null && ms > s.max)) {
              return fail(
                'out_of_range',
                `"${name}" must be within [${s.min === null ? '-inf' : new Date(s.min).toISOString()}, ${s.max === null ? 'inf' : new Date(s.max).toISOString()}], got ${show(v)}`,
                name,
              );
            }
            row[name] = ms;
          }
        }
      }
    }
    return finish(record, row, typeValue);
  }

  /** Record key check, enrichment and the result, for a row whose declared fields are valid. */
  function finish(record: RawRecord, row: Row, typeValue: string): ValidationResult {
    const key = row[keyField] as string;
    if (enforceKey && record.key !== null && record.key !== '' && record.key !== key) {
      return fail(
        'key_mismatch',
        `the record key ${show(record.key)} differs from "${keyField}" ${show(key)}`,
        keyField,
      );
    }
    const ts = row[tsField] as number;
    row['event_date'] = utcDate(ts);
    row['event_hour'] = utcHour(ts);
    if (cur !== null && rates !== null) {
      const amount = row[cur.amountField];
      if (typeof amount === 'number') {
        const code = row[cur.currencyField];
        const rate = typeof code === 'string' ? rates.get(code) : undefined;
        if (rate === undefined) {
          if (cur.onUnknown === 'dead_letter') {
            return fail(
              'unknown_currency',
              `no rate for currency ${show(code)} in the domain's rate table`,
              cur.currencyField,
            );
          }
          row[cur.output] = null;
        } else {
          row[cur.output] = Math.round(amount * rate * curScale) / curScale;
        }
      } else {
        row[cur.output] = null;
      }
    }
    if (geo !== null) {
      const lat = row[geo.latField];
      const lon = row[geo.lonField];
      row[geo.output] =
        typeof lat === 'number' && typeof lon === 'number' ? findCountry(geo.boxes, lat, lon) : null;
    }
    return new ValidEvent(row, ts, key, row[idField] as string, typeValue, record);
  }

  return validateAndEnrich;
}

/**
 * Generates the straight-line fast path of a validator: constant property names (monomorphic
 * loads), the silver row built as one object literal (a stable shape, enrichment columns
 * included), and `null` at the first broken rule, after which the interpreting loop in
 * {@link compileValidator} runs and names the reason. Field names are validated snake_case
 * identifiers and constants are passed by reference, so no config text becomes code.
 */
function compileFastPath(
  fields: readonly CompiledField[],
  extraColumns: readonly string[],
  /** `object`: `o` is the parsed JSON object; `slots`: `o[i]` holds declared field i (see {@link FlatJsonScanner}). */
  source: 'object' | 'slots',
): (o: object, t: number) => Row | null {
  const names = fields.map((f) => f.name);
  const read = (name: string): string =>
    source === 'object' ? `o[${JSON.stringify(name)}]` : `o[${names.indexOf(name)}]`;
  const c: unknown[] = [];
  const ref = (x: unknown): string => {
    c.push(x);
    return `c[${c.length - 1}]`;
  };
  const out: string[] = [];
  fields.forEach((f, i) => {
    const v = `v${i}`;
    const s = f.spec;
    out.push(`let ${v} = ${read(f.name)};`, `if (${v} === undefined || ${v} === null) {`);
    if (f.requiredBy.some(Boolean)) out.push(`if (${ref(f.requiredBy)}[t]) return null;`);
    if (f.pair !== null)
      out.push(`{ const p = ${read(f.pair)}; if (p !== undefined && p !== null) return null; }`);
    out.push(`${v} = ${ref(f.defaultValue)};`, '} else {');
    if (f.allowedBy.some((a) => !a)) out.push(`if (!${ref(f.allowedBy)}[t]) return null;`);
    const bounds = () => {
      if (s.min !== null) out.push(`if (${v} < ${ref(s.min)}) return null;`);
      if (s.max !== null) out.push(`if (${v} > ${ref(s.max)}) return null;`);
    };
    switch (f.kind) {
      case KIND_STRING:
        out.push(`if (typeof ${v} !== 'string') return null;`);
        if (s.minLength !== null) out.push(`if (${v}.length < ${ref(s.minLength)}) return null;`);
        if (s.maxLength !== null) out.push(`if (${v}.length > ${ref(s.maxLength)}) return null;`);
        if (s.pattern !== null) out.push(`if (!${ref(s.pattern)}.test(${v})) return null;`);
        if (f.enumSet !== null) out.push(`if (!${ref(f.enumSet)}.has(${v})) return null;`);
        break;
      case KIND_NUMBER:
      case KIND_INTEGER:
        out.push(`if (typeof ${v} !== 'number' || ${v} - ${v} !== 0) return null;`);
        if (f.kind === KIND_INTEGER) out.push(`if (!Number.isSafeInteger(${v})) return null;`);
        bounds();
        break;
      case KIND_BOOLEAN:
        out.push(`if (typeof ${v} !== 'boolean') return null;`);
        break;
      default:
        out.push(
          `if (typeof ${v} === 'number') { if (!Number.isSafeInteger(${v})) return null; }`,
          `else if (typeof ${v} === 'string') { ${v} = ${ref(parseIsoTimestamp)}(${v}); if (${v} === undefined) return null; }`,
          'else return null;',
        );
        bounds();
    }
    out.push('}');
  });
  const literal = [
    ...fields.map((f, i) => `${JSON.stringify(f.name)}: v${i}`),
    ...extraColumns.map((col) => `${JSON.stringify(col)}: null`),
  ];
  out.push(`return { ${literal.join(', ')} };`);
  const factory = new Function(
    'c',
    `'use strict';\nreturn function fastPath(o, t) {\n${out.join('\n')}\n};`,
  ) as (constants: unknown[]) => (o: object, t: number) => Row | null;
  return factory(c);
}

const WS_SPACE = 32;
const WS_TAB = 9;
const WS_LF = 10;
const WS_CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
/** Exact powers of ten 10^0..10^22 (all exactly representable as doubles). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The index of the quote that ends the JSON string starting at `from`, or -1 when there is none or
 * the string leaves the scanner's subset (an escape, a control character). A caller that knows
 * the text is plain ({@link isPlainAscii}) finds the quote with `indexOf` instead.
 */
function stringEnd(s: string, from: number): number {
  const len = s.length;
  for (let j = from; j < len; j++) {
    const d = s.charCodeAt(j);
    if (d === QUOTE) return j;
    if (d === BACKSLASH || d < 32) return -1;
  }
  return -1;
}

/** How {@link FlatJsonScanner} reads one declared field. */
export interface ScanField {
  readonly name: string;
  /**
   * An event-time field: a string value is parsed as ISO-8601 ({@link parseIsoTimestamp}) in place,
   * and the slot gets epoch ms (a string that is not such a timestamp leaves the fast subset, so
   * that the caller's general path names the reason). Numbers are read as numbers.
   */
  readonly timestamp?: boolean;
  /**
   * The values the field usually holds (event types, enum values, currency codes). A string value
   * equal to one of them is that very string: no new string per record, and a `Map` or `Set` keyed
   * by them finds it by its cached hash. Other values are read as usual.
   */
  readonly known?: readonly string[];
}

/**
 * Whether `text` appears in a JSON text as itself, between quotes: printable ASCII without a
 * quote or a backslash. Only such names and known values are matched in place (a match then ends
 * at a quote that really ends the string).
 */
function isPlainName(text: string): boolean {
  return isPlainAscii(text) && !text.includes('"');
}

/** At most this many known values per field (past it, matching would cost more than it saves). */
const MAX_KNOWN = 64;

/**
 * A scanner for the common shape of event values: one flat JSON object whose values are
 * strings without escapes, numbers, `true`, `false` or `null`. It writes the values of the
 * declared fields into slots (index = declaration order; absent = undefined, JSON null = null,
 * a repeated key: the last one, like `JSON.parse`) and skips other keys, without building the
 * parsed object. `scan` returns false as soon as the text leaves that subset (nesting, escapes,
 * anything that is not strict JSON): the caller then uses `JSON.parse`, which either accepts the
 * text (and yields exactly the values the scanner would have) or names the syntax error.
 * Numbers are converted by `Number()` (the same correctly rounded conversion as `JSON.parse`),
 * or digit by digit for short non-negative integers, which is exact.
 */
export class FlatJsonScanner {
  private readonly codes: ReadonlyArray<readonly number[]>;
  private readonly lengths: readonly number[];
  private readonly firstCodes: readonly number[];
  private readonly timestamps: readonly boolean[];
  /**
   * Per slot, per first character code (0..127): the known values starting with it, each with its
   * closing quote appended (what the text holds when the value is that one).
   */
  private readonly known: ReadonlyArray<ReadonlyArray<
    ReadonlyArray<readonly [string, string]> | undefined
  > | null>;
  /** Per slot: the name with its closing quote and the colon after it (compact JSON); null: see below. */
  private readonly closedNames: ReadonlyArray<string | null>;
  /** Per slot: the name as the next key of compact JSON, `,"name":`; null: see below. */
  private readonly nextNames: ReadonlyArray<string | null>;
  private readonly copyStrings: boolean;
  /**
   * `follows[s]`: the slot whose key came after slot `s`'s key last time (`follows[n]`: the first
   * key). Producers write their fields in a few fixed orders, so this is the first name tried.
   */
  private readonly follows: Int32Array;

  /**
   * @param fields the declared fields, in slot order (a bare name: a plain field)
   * @param options.copyStrings copy string values of 13 characters or more out of the text
   *   (default true). V8 makes a shorter slice a copy but a longer one a view that shares, and so
   *   keeps alive, the whole text: a value kept after the record is let go (an id in an in-memory
   *   dedup set, CEP state) must be a copy. A caller that lets its values go with the record
   *   turns copying off and saves the copies (one JSON.parse of each long value).
   */
  constructor(fields: ReadonlyArray<string | ScanField>, options: { readonly copyStrings?: boolean } = {}) {
    const specs = fields.map((f): ScanField => (typeof f === 'string' ? { name: f } : f));
    const names = specs.map((f) => f.name);
    this.codes = names.map((n) => Array.from(n, (ch) => ch.charCodeAt(0)));
    this.lengths = names.map((n) => n.length);
    this.firstCodes = names.map((n) => n.charCodeAt(0));
    // Null for a name that cannot be matched in place ({@link isPlainName}). Joined, not
    // concatenated: `join` makes flat strings, which `startsWith` compares directly.
    this.closedNames = names.map((n) => (isPlainName(n) ? [n, '":'].join('') : null));
    this.nextNames = names.map((n) => (isPlainName(n) ? [',"', n, '":'].join('') : null));
    this.timestamps = specs.map((f) => f.timestamp === true);
    this.known = specs.map((f) => {
      const values = (f.known ?? []).filter((v) => v.length > 0 && isPlainName(v));
      if (values.length === 0 || values.length > MAX_KNOWN) return null;
      const byFirst: Array<Array<readonly [string, string]> | undefined> = new Array<
        Array<readonly [string, string]> | undefined
      >(128).fill(undefined);
      for (const v of new Set(values)) {
        const c = v.charCodeAt(0);
        byFirst[c] = [...(byFirst[c] ?? []), [v, [v, '"'].join('')] as const];
      }
      return byFirst;
    });
    this.copyStrings = options.copyStrings !== false;
    const n = names.length;
    this.follows = Int32Array.from({ length: n + 1 }, (_, i) => (i === n ? 0 : i + 1));
  }

  /**
   * Fills `slots` (length = number of names) from `s`; false when `s` is not in the fast subset.
   * @param plain the caller checked that `s` is printable ASCII without a backslash
   *   ({@link isPlainAscii}): string ends are then found with `indexOf`, not char by char.
   */
  scan(s: string, slots: unknown[], plain = false): boolean {
    const codes = this.codes;
    const lengths = this.lengths;
    const firstCodes = this.firstCodes;
    const closedNames = this.closedNames;
    const nextNames = this.nextNames;
    const nNames = codes.length;
    for (let f = 0; f < nNames; f++) slots[f] = undefined;
    const follows = this.follows;
    let prev = nNames;
    let i = 0;
    let c = s.charCodeAt(0);
    while (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) c = s.charCodeAt(++i);
    if (c !== 123 /* { */) return false;
    c = s.charCodeAt(++i);
    while (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) c = s.charCodeAt(++i);
    if (c === 125 /* } */) return this.onlyWhitespace(s, i + 1);
    // The slot of a key already matched together with the comma before it (see the end of the loop).
    let fused = -1;
    for (;;) {
      let slot = -1;
      let j = -1;
      if (fused >= 0) {
        slot = fused;
        fused = -1;
      } else {
        // Key. Producers write their fields in a few fixed orders: the name that followed the last
        // match last time is tried first, in place (name, closing quote and colon, with one
        // `startsWith`: cheaper than comparing char by char), then the key's end is looked up and
        // all the names are tried.
        if (c !== QUOTE) return false;
        const ka = i + 1;
        const guess = follows[prev]!;
        const closed = guess < nNames ? closedNames[guess]! : null;
        if (closed !== null && s.startsWith(closed, ka)) {
          slot = guess;
          i = ka + lengths[guess]! + 2;
        } else {
          j = plain ? s.indexOf('"', ka) : stringEnd(s, ka);
          if (j < 0) return false;
          const klen = j - ka;
          const k0 = klen > 0 ? s.charCodeAt(ka) : -1;
          for (let f = 0; slot < 0 && f < nNames; f++) {
            if (firstCodes[f] === k0 && lengths[f] === klen) {
              const name = codes[f]!;
              let k = 1;
              while (k < klen && name[k] === s.charCodeAt(ka + k)) k++;
              if (k === klen) slot = f;
            }
          }
          if (slot >= 0) follows[prev] = slot;
          i = j + 1;
          c = s.charCodeAt(i);
          while (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) c = s.charCodeAt(++i);
          if (c !== 58 /* : */) return false;
          i++;
        }
      }
      if (slot >= 0) prev = slot;
      c = s.charCodeAt(i);
      while (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) c = s.charCodeAt(++i);
      // Value.
      let value: string | number | boolean | null;
      if (c === QUOTE) {
        const va = i + 1;
        // A known value is tried in place first, like a name.
        const known = slot < 0 ? null : this.known[slot]!;
        const candidates = known === null ? undefined : known[s.charCodeAt(va)];
        let found: string | null = null;
        if (candidates !== undefined) {
          for (let q = 0; found === null && q < candidates.length; q++) {
            const cand = candidates[q]!;
            if (s.startsWith(cand[1]!, va)) found = cand[0]!;
          }
        }
        if (found !== null) {
          value = found;
          j = va + found.length;
        } else {
          j = plain ? s.indexOf('"', va) : stringEnd(s, va);
          if (j < 0) return false;
          if (slot < 0) value = null;
          else if (this.timestamps[slot]!) {
            const ms = parseIsoTimestamp(s, va, j);
            if (ms === undefined) return false;
            value = ms;
          } else {
            // A slice of 13 or more characters shares the record text (see the constructor): a
            // copy is parsed from it as a JSON string literal (JSON.parse gives fresh strings).
            value =
              j - va < 13 || !this.copyStrings
                ? s.slice(va, j)
                : (JSON.parse(s.slice(va - 1, j + 1)) as string);
          }
        }
        i = j + 1;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        // Digits accumulate into an integer mantissa m (exact while at most 15 digits) with
        // `frac` digits after the point; then m / 10^frac is the correctly rounded value
        // (Clinger's fast path: both operands are exact doubles). Otherwise Number().
        const na = i;
        j = c === MINUS ? i + 1 : i;
        let m = 0;
        let digits = 0;
        let frac = 0;
        let exact = true;
        let d = s.charCodeAt(j);
        if (d === ZERO) d = s.charCodeAt(++j);
        else if (d > ZERO && d <= NINE) {
          do {
            m = m * 10 + (d - ZERO);
            digits++;
            d = s.charCodeAt(++j);
          } while (d >= ZERO && d <= NINE);
        } else return false;
        if (d === DOT) {
          d = s.charCodeAt(++j);
          if (!(d >= ZERO && d <= NINE)) return false;
          do {
            m = m * 10 + (d - ZERO);
            if (m !== 0) digits++;
            frac++;
            d = s.charCodeAt(++j);
          } while (d >= ZERO && d <= NINE);
        }
        if (d === 101 /* e */ || d === 69 /* E */) {
          exact = false;
          d = s.charCodeAt(++j);
          if (d === 43 /* + */ || d === MINUS) d = s.charCodeAt(++j);
          if (!(d >= ZERO && d <= NINE)) return false;
          do d = s.charCodeAt(++j);
          while (d >= ZERO && d <= NINE);
        }
        if (slot < 0) value = null;
        else if (exact && digits <= 15 && frac <= 22) {
          const v = frac === 0 ? m : m / POW10[frac]!;
          value = c === MINUS ? -v : v;
        } else value = Number(s.slice(na, j));
        i = j;
      } else if (c === 116 /* t */ && s.startsWith('true', i)) {
        value = true;
        i += 4;
      } else if (c === 102 /* f */ && s.startsWith('false', i)) {
        value = false;
        i += 5;
      } else if (c === 110 /* n */ && s.startsWith('null', i)) {
        value = null;
        i += 4;
      } else return false;
      if (slot >= 0) slots[slot] = value;
      // The expected next key right after a comma, in compact JSON: comma, name, quotes and
      // colon in one `startsWith`.
      const next = follows[prev]!;
      const nextName = next < nNames ? nextNames[next]! : null;
      if (nextName !== null && s.startsWith(nextName, i)) {
        fused = next;
        i += lengths[next]! + 4;
        continue;
      }
      c = s.charCodeAt(i);
      while (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) c = s.charCodeAt(++i);
      if (c === 44 /* , */) {
        c = s.charCodeAt(++i);
        while (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) c = s.charCodeAt(++i);
        continue;
      }
      if (c === 125 /* } */) return this.onlyWhitespace(s, i + 1);
      return false;
    }
  }

  private onlyWhitespace(s: string, from: number): boolean {
    for (let i = from; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== WS_SPACE && c !== WS_LF && c !== WS_CR && c !== WS_TAB) return false;
    }
    return true;
  }
}

const compiled = new WeakMap<Domain, Map<boolean, Validator>>();

/**
 * The validator of `domain`, compiled once per domain object and `copyStrings` (a Lambda opens a
 * stage per batch). See {@link compileValidator}.
 */
export function validatorOf(domain: Domain, options: { readonly copyStrings?: boolean } = {}): Validator {
  const copyStrings = options.copyStrings !== false;
  let byCopy = compiled.get(domain);
  if (byCopy === undefined) {
    byCopy = new Map();
    compiled.set(domain, byCopy);
  }
  let v = byCopy.get(copyStrings);
  if (v === undefined) {
    v = compileValidator(domain, { copyStrings });
    byCopy.set(copyStrings, v);
  }
  return v;
}

/**
 * Validates and enriches one record against `domain` (with {@link validatorOf}'s validator). See
 * {@link compileValidator} for the rules.
 */
export function validateAndEnrich(domain: Domain, record: RawRecord): ValidationResult {
  return validatorOf(domain)(record);
}
