/**
 * Domain configuration (SPEC §1): a YAML file `config/domains/<name>.yaml` declares the event
 * contract (event types, fields with types and constraints, key, de-duplication and event-time
 * fields), enrichment tables, window aggregations, CEP thresholds and hints for the synthetic
 * generator. It is validated once with zod at the edge; everything downstream uses the typed,
 * normalized {@link Domain} (camelCase, durations in milliseconds, regexes compiled).
 *
 * Every config error names the file and the path of the bad key, e.g.
 * `config/domains/payments.yaml: windows[1].size: expected a duration like "5m", got "5x"`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type ChartSpec, chartProblems, generatedCharts, QUALITY_CHART_ID } from './charts.ts';
import { parseDuration } from './duration.ts';
import { parseIsoTimestamp } from './time.ts';
import {
  generatedViews,
  inlineView,
  lakehouseTablesOf,
  missingRequirements,
  parseViewText,
  type ViewDefinition,
} from './views.ts';

// ---------------------------------------------------------------------------------------------
// Normalized, typed domain
// ---------------------------------------------------------------------------------------------

/** Field types of the event contract. `timestamp` accepts an ISO-8601 string with zone or epoch ms. */
export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp';

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  /** Required for every event type. */
  readonly required: boolean;
  /** Required for these event types only (e.g. `amount` for `transaction`). */
  readonly requiredFor: readonly string[];
  /** When set, the field must be absent (or null) for every other event type ("absent otherwise"). */
  readonly onlyFor: readonly string[] | null;
  readonly minLength: number | null;
  readonly maxLength: number | null;
  readonly pattern: RegExp | null;
  readonly enum: readonly string[] | null;
  /** Inclusive bounds; for `timestamp` fields these are epoch ms. */
  readonly min: number | null;
  readonly max: number | null;
  /** Value stored in silver when the field is absent. */
  readonly default: string | number | boolean | null;
  /** The other half of an optional pair (`lat` <-> `lon`): both present or both absent. */
  readonly pair: string | null;
}

export interface CountryBox {
  readonly code: string;
  readonly latMin: number;
  readonly latMax: number;
  readonly lonMin: number;
  readonly lonMax: number;
}

export interface CurrencyEnrichment {
  readonly amountField: string;
  readonly currencyField: string;
  readonly output: string;
  readonly ratesToUsd: Readonly<Record<string, number>>;
  /** Decimal places `output` is rounded to. @default 2 */
  readonly decimals: number;
  /**
   * A contract-valid amount in a currency missing from the rate table: `dead_letter` (code
   * `unknown_currency`, the default, so no sum is silently wrong) or `null` (amount_usd = null).
   */
  readonly onUnknown: 'dead_letter' | 'null';
}

export interface GeoEnrichment {
  readonly latField: string;
  readonly lonField: string;
  readonly output: string;
  /** Checked in order; the first box containing the point wins (list small countries first). */
  readonly boxes: readonly CountryBox[];
}

export type AggregateName = 'count' | 'sum' | 'min' | 'max' | 'avg';

export interface WindowSpec {
  readonly name: string;
  readonly type: 'tumbling' | 'sliding' | 'session';
  /** Tumbling/sliding: window length. Sessions: 0. */
  readonly sizeMs: number;
  /** Sliding: hop. Tumbling: equal to sizeMs. Sessions: 0. */
  readonly slideMs: number;
  /** Sessions: inactivity gap. Others: 0. */
  readonly gapMs: number;
  /** Group-by field (a silver column). Events with a null group value are not counted in this window. */
  readonly groupBy: string;
  /** Measure field (a numeric silver column) and the prefix of its aggregate columns. */
  readonly measure: { readonly field: string; readonly as: string } | null;
  readonly aggregates: readonly AggregateName[];
  /** Lakehouse table path, e.g. `gold/window_tumbling_1m`. */
  readonly table: string;
}

export interface CepSpec {
  /** Event type whose events count as "transactions"; `null` means every event does. */
  readonly transactionType: string | null;
  /** Numeric silver column compared by amount_anomaly (payments: `amount_usd`). */
  readonly amountField: string | null;
  /** Silver column counted by merchant_diversity. */
  readonly merchantField: string | null;
  readonly location: { readonly lat: string; readonly lon: string } | null;
  /** Per-key state expires this long after the longest pattern horizon. */
  readonly stateTtlMarginMs: number;
  /** Hard cap on remembered transactions per key (newest by ts kept). */
  readonly maxTransactionsPerKey: number;
  readonly patterns: {
    readonly velocitySpike: { readonly moreThan: number; readonly windowMs: number } | null;
    readonly amountAnomaly: {
      readonly minHistory: number;
      readonly sigma: number;
      readonly highSigma: number;
    } | null;
    readonly impossibleTravel: { readonly minDistanceKm: number; readonly minSpeedKmh: number } | null;
    readonly rapidFireBurst: { readonly atLeast: number; readonly windowMs: number } | null;
    readonly merchantDiversity: { readonly atLeast: number; readonly windowMs: number } | null;
  };
}

export interface GeneratorCity {
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
  readonly currency: string | null;
}

/** Hints for the synthetic generator; every one has a default. */
export interface GeneratorHints {
  /** First event time. @default 2026-11-02T08:00:00Z */
  readonly startMs: number;
  /** Simulated arrival rate. @default 200 */
  readonly eventsPerSecond: number;
  readonly keys: {
    readonly prefix: string;
    readonly per1kEvents: number;
    readonly min: number;
    readonly zipf: number;
  };
  /** Relative weights of event types. @default uniform */
  readonly eventMix: Readonly<Record<string, number>>;
  readonly session: {
    readonly meanEvents: number;
    readonly gapMinMs: number;
    readonly gapMaxMs: number;
    readonly idleMs: number;
  };
  /** The numeric input field the measure derives from (payments: `amount`), and its per-key distribution. */
  readonly measure: {
    readonly field: string;
    readonly mu: number;
    readonly sigma: number;
    readonly jitter: number;
    readonly decimals: number;
  } | null;
  /** Share of timestamps written as ISO strings (the rest as epoch ms). @default 0.8 */
  readonly isoShare: number;
  readonly locatedShare: number;
  readonly travelShare: number;
  /**
   * How far (km) a key's located events stray from its home point: a user moving about a city,
   * a device's GPS noise. Consecutive events of a key that has not travelled are at most twice
   * this apart, so keep it well under `impossible_travel.min_distance_km`. @default 5
   */
  readonly roamKm: number;
  /**
   * A sticky field whose value places a key (a device at its `site_id`): keys with the same value
   * share a home point. @default null: each key has its own home point near its city
   */
  readonly homeBy: string | null;
  readonly cities: readonly GeneratorCity[];
  /** Value pools for string fields: a fixed list, or `prefix` + Zipf-chosen index. */
  readonly values: Readonly<
    Record<
      string,
      | { readonly list: readonly string[] }
      | { readonly prefix: string; readonly count: number; readonly zipf: number }
    >
  >;
  /** Fields whose value is chosen once per key and kept (a user's device, a sensor's site). */
  readonly sticky: readonly string[];
  readonly disorder: {
    readonly share: number;
    readonly maxMs: number;
    readonly lateShare: number;
    readonly lateMaxMs: number;
  };
}

export interface Domain {
  readonly name: string;
  readonly description: string;
  /** Where the config came from (file path or a label), used in error messages. */
  readonly source: string;
  /** Default Kafka topic of the domain. @default `<name>.events` */
  readonly topic: string;
  readonly keyField: string;
  readonly dedupField: string;
  readonly eventTimeField: string;
  readonly eventTypeField: string;
  readonly eventTypes: readonly string[];
  readonly fields: readonly FieldSpec[];
  /** @default 10 s (SPEC §3) */
  readonly maxOutOfOrdernessMs: number;
  /** Larger values are poison (`too_large`). @default 262144 (256 KiB, SPEC §1) */
  readonly maxRecordBytes: number;
  /**
   * When a Kafka record has a key, it must equal the key field (code `key_mismatch`): otherwise
   * per-key ordering, which CEP relies on, is not guaranteed. @default true
   */
  readonly enforceRecordKey: boolean;
  readonly enrichment: { readonly currency: CurrencyEnrichment | null; readonly geo: GeoEnrichment | null };
  readonly dedup: { readonly retentionMs: number; readonly maxEntries: number };
  readonly windows: readonly WindowSpec[];
  readonly cep: CepSpec | null;
  readonly generator: GeneratorHints;
  /**
   * Every SQL view of the domain: the generated ones first (`functions/core/views.ts`), then those
   * its YAML declares (`views:`), each checked against the domain's tables when it loads.
   */
  readonly views: readonly ViewDefinition[];
  /** The report's charts, in page order: generated, then declared (`report.charts`). */
  readonly charts: readonly ChartSpec[];
}

/** How a domain's YAML reaches the files it names (view SQL files). */
export interface DomainFileReader {
  /**
   * Reads a file named relative to the domain file.
   * @throws Error when it cannot be read
   */
  readonly read: (relativePath: string) => { readonly text: string; readonly path: string };
}

// ---------------------------------------------------------------------------------------------
// YAML schema
// ---------------------------------------------------------------------------------------------

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const duration = z.unknown().transform((value, ctx) => {
  if (typeof value === 'string') {
    const ms = parseDuration(value);
    if (ms !== undefined && ms > 0) return ms;
  }
  ctx.addIssue({ code: 'custom', message: `expected a duration like "5m", got ${show(value)}` });
  return z.NEVER;
});

const isoInstant = z.unknown().transform((value, ctx) => {
  if (typeof value === 'string') {
    const ms = parseIsoTimestamp(value);
    if (ms !== undefined) return ms;
  }
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  ctx.addIssue({
    code: 'custom',
    message: `expected an ISO-8601 time with zone like "2026-11-02T08:00:00Z", got ${show(value)}`,
  });
  return z.NEVER;
});

const identifier = z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a snake_case name like "merchant_id"');
const positiveInt = z.number().int().positive();
const share = z.number().min(0).max(1);

const fieldSchema = z.strictObject({
  type: z.enum(['string', 'number', 'integer', 'boolean', 'timestamp']),
  description: z.string().optional(),
  required: z.boolean().default(false),
  required_for: z.array(z.string()).default([]),
  only_for: z.array(z.string()).optional(),
  min_length: z.number().int().nonnegative().optional(),
  max_length: z.number().int().positive().optional(),
  pattern: z.string().optional(),
  enum: z.array(z.string()).min(1).optional(),
  min: z.union([z.number(), z.string()]).optional(),
  max: z.union([z.number(), z.string()]).optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  pair: z.string().optional(),
});

const windowSchema = z.strictObject({
  name: identifier,
  type: z.enum(['tumbling', 'sliding', 'session']),
  size: duration.optional(),
  slide: duration.optional(),
  gap: duration.optional(),
  group_by: z.string(),
  measure: z.string().optional(),
  measure_as: identifier.optional(),
  aggregates: z
    .array(z.enum(['count', 'sum', 'min', 'max', 'avg']))
    .min(1)
    .default(['count', 'sum']),
  table: z
    .string()
    .regex(/^gold\/[a-z][a-z0-9_]*$/, 'expected a gold table path like "gold/window_tumbling_1m"')
    .optional(),
});

const cepSchema = z.strictObject({
  transaction_type: z.string().nullable().default(null),
  amount_field: z.string().nullable().default(null),
  merchant_field: z.string().nullable().default(null),
  location: z.strictObject({ lat: z.string(), lon: z.string() }).nullable().default(null),
  state_ttl_margin: duration.default(7 * 86_400_000),
  max_transactions_per_key: positiveInt.default(512),
  patterns: z.strictObject({
    velocity_spike: z.strictObject({ more_than: positiveInt, window: duration }).optional(),
    amount_anomaly: z
      .strictObject({
        min_history: z.number().int().min(2),
        sigma: z.number().positive(),
        high_sigma: z.number().positive(),
      })
      .optional(),
    impossible_travel: z
      .strictObject({ min_distance_km: z.number().nonnegative(), min_speed_kmh: z.number().positive() })
      .optional(),
    rapid_fire_burst: z.strictObject({ at_least: positiveInt, window: duration }).optional(),
    merchant_diversity: z.strictObject({ at_least: positiveInt, window: duration }).optional(),
  }),
});

const valuesSchema = z.union([
  z.array(z.string()).min(1),
  z.strictObject({ prefix: z.string(), count: positiveInt, zipf: z.number().nonnegative().default(1) }),
]);

const generatorSchema = z
  .strictObject({
    start: isoInstant.default(Date.UTC(2026, 10, 2, 8)),
    events_per_second: z.number().positive().default(200),
    keys: z
      .strictObject({
        prefix: z.string().default('k-'),
        per_1k_events: z.number().positive().default(20),
        min: positiveInt.default(500),
        zipf: z.number().nonnegative().default(1),
      })
      .default({ prefix: 'k-', per_1k_events: 20, min: 500, zipf: 1 }),
    event_mix: z.record(z.string(), z.number().nonnegative()).optional(),
    session: z
      .strictObject({
        mean_events: z.number().min(1).default(6),
        gap: z.tuple([duration, duration]).default([3_000, 120_000]),
        idle: duration.default(35 * 60_000),
      })
      .default({ mean_events: 6, gap: [3_000, 120_000], idle: 35 * 60_000 }),
    measure: z
      .strictObject({
        field: z.string(),
        lognormal: z.strictObject({ mu: z.number(), sigma: z.number().nonnegative() }),
        jitter: z.number().nonnegative().default(0.2),
        decimals: z.number().int().min(0).max(6).default(2),
      })
      .optional(),
    iso_share: share.default(0.8),
    located_share: share.default(0.7),
    travel_share: share.default(0.02),
    roam_km: z.number().nonnegative().default(5),
    home_by: z.string().optional(),
    cities: z
      .array(
        z.strictObject({
          name: z.string(),
          lat: z.number().min(-90).max(90),
          lon: z.number().min(-180).max(180),
          currency: z.string().optional(),
        }),
      )
      .default([]),
    values: z.record(z.string(), valuesSchema).default({}),
    sticky: z.array(z.string()).default([]),
    disorder: z
      .strictObject({
        share: share.default(0.03),
        max: duration.default(8_000),
        late_share: share.default(0.001),
        late_max: duration.default(180_000),
      })
      .default({ share: 0.03, max: 8_000, late_share: 0.001, late_max: 180_000 }),
  })
  .default({
    start: Date.UTC(2026, 10, 2, 8),
    events_per_second: 200,
    keys: { prefix: 'k-', per_1k_events: 20, min: 500, zipf: 1 },
    session: { mean_events: 6, gap: [3_000, 120_000], idle: 35 * 60_000 },
    iso_share: 0.8,
    located_share: 0.7,
    travel_share: 0.02,
    roam_km: 5,
    cities: [],
    values: {},
    sticky: [],
    disorder: { share: 0.03, max: 8_000, late_share: 0.001, late_max: 180_000 },
  });

const viewSchema = z.union([
  z.string().regex(/\.sql$/, 'expected a .sql file path relative to the domain file, or an inline view'),
  z.strictObject({
    name: identifier,
    description: z.string().min(1),
    columns: z.record(identifier, z.string().min(1)),
    requires: z.record(identifier, z.array(identifier)).default({}),
    sql: z.string().min(1),
  }),
]);

const chartSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a kebab-case id like "top-merchants"'),
  title: z.string().min(1),
  subtitle: z.string().default(''),
  type: z.enum(['line', 'stacked', 'bar']),
  view: identifier,
  x: identifier.optional(),
  series: identifier.optional(),
  label: identifier.optional(),
  value: identifier,
  aggregate: z.enum(['sum', 'max']).default('sum'),
  limit: positiveInt.default(10),
  unit: z.enum(['count', 'usd', 'number']).default('number'),
});

const domainSchema = z.strictObject({
  name: identifier,
  description: z.string().default(''),
  topic: z.string().min(1).optional(),
  key_field: z.string(),
  dedup_field: z.string(),
  event_time_field: z.string(),
  event_type_field: z.string(),
  event_types: z.array(identifier).min(1),
  max_out_of_orderness: duration.default(10_000),
  max_record_bytes: positiveInt.default(262_144),
  enforce_record_key: z.boolean().default(true),
  fields: z.record(identifier, fieldSchema),
  enrichment: z
    .strictObject({
      currency: z
        .strictObject({
          amount_field: z.string(),
          currency_field: z.string(),
          output: identifier,
          rates_to_usd: z.record(
            z.string().regex(/^[A-Z]{3}$/, 'expected a currency code like "EUR"'),
            z.number().positive(),
          ),
          decimals: z.number().int().min(0).max(9).default(2),
          on_unknown: z.enum(['dead_letter', 'null']).default('dead_letter'),
        })
        .optional(),
      geo: z
        .strictObject({
          lat_field: z.string(),
          lon_field: z.string(),
          output: identifier,
          boxes: z.array(
            z.strictObject({
              code: z.string().min(1),
              lat: z.tuple([z.number().min(-90).max(90), z.number().min(-90).max(90)]),
              lon: z.tuple([z.number().min(-180).max(180), z.number().min(-180).max(180)]),
            }),
          ),
        })
        .optional(),
    })
    .default({}),
  dedup: z
    .strictObject({ retention: duration.default(86_400_000), max_entries: positiveInt.default(5_000_000) })
    .default({ retention: 86_400_000, max_entries: 5_000_000 }),
  windows: z.array(windowSchema).default([]),
  cep: cepSchema.optional(),
  generator: generatorSchema,
  views: z.array(viewSchema).default([]),
  report: z.strictObject({ charts: z.array(chartSchema).default([]) }).default({ charts: [] }),
});

type DomainYaml = z.output<typeof domainSchema>;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** A domain config that cannot be used; `message` is `<source>: <path>: <what is wrong>` per problem. */
export class DomainConfigError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(problems.map((p) => `${source}: ${p}`).join('\n'));
    this.name = 'DomainConfigError';
    this.problems = problems;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(`${formatPath([...issue.path, key])}: unknown key`);
    } else {
      out.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Normalization and cross-checks
// ---------------------------------------------------------------------------------------------

type Problem = { path: PropertyKey[]; message: string };

/** Silver columns derived from the config (contract fields, enrichment outputs, event_date/hour) with numeric flags. */
function silverColumnKinds(y: DomainYaml): Map<string, 'string' | 'number' | 'other'> {
  const kinds = new Map<string, 'string' | 'number' | 'other'>();
  for (const [name, f] of Object.entries(y.fields)) {
    kinds.set(
      name,
      f.type === 'string' ? 'string' : f.type === 'number' || f.type === 'integer' ? 'number' : 'other',
    );
  }
  kinds.set('event_date', 'other');
  kinds.set('event_hour', 'number');
  if (y.enrichment.currency) kinds.set(y.enrichment.currency.output, 'number');
  if (y.enrichment.geo) kinds.set(y.enrichment.geo.output, 'string');
  return kinds;
}

function normalize(y: DomainYaml, source: string, files: DomainFileReader | undefined): Domain {
  const problems: Problem[] = [];
  const fieldNames = new Set(Object.keys(y.fields));
  const types = new Set(y.event_types);
  const needField = (path: PropertyKey[], name: string, what: string, type?: string) => {
    const f = y.fields[name];
    if (!f) {
      problems.push({
        path,
        message: `${what} "${name}" is not a declared field (declared: ${[...fieldNames].join(', ')})`,
      });
    } else if (type && f.type !== type) {
      problems.push({ path, message: `${what} "${name}" must be a ${type} field, it is ${f.type}` });
    }
  };
  needField(['key_field'], y.key_field, 'key field', 'string');
  needField(['dedup_field'], y.dedup_field, 'dedup field', 'string');
  needField(['event_time_field'], y.event_time_field, 'event-time field', 'timestamp');
  needField(['event_type_field'], y.event_type_field, 'event-type field', 'string');
  for (const name of [y.key_field, y.dedup_field, y.event_time_field, y.event_type_field]) {
    const f = y.fields[name];
    if (f && !f.required)
      problems.push({ path: ['fields', name, 'required'], message: `"${name}" must be required: true` });
  }

  const fields: FieldSpec[] = [];
  for (const [name, f] of Object.entries(y.fields)) {
    const at = (k: string): PropertyKey[] => ['fields', name, k];
    for (const [k, list] of [
      ['required_for', f.required_for],
      ['only_for', f.only_for ?? []],
    ] as const) {
      for (const [i, t] of list.entries()) {
        if (!types.has(t))
          problems.push({
            path: [...at(k), i],
            message: `unknown event type "${t}" (event_types: ${y.event_types.join(', ')})`,
          });
      }
    }
    let pattern: RegExp | null = null;
    if (f.pattern !== undefined) {
      try {
        pattern = new RegExp(f.pattern);
      } catch (err) {
        problems.push({
          path: at('pattern'),
          message: `not a valid regular expression: ${(err as Error).message}`,
        });
      }
    }
    const bound = (k: 'min' | 'max'): number | null => {
      const v = f[k];
      if (v === undefined) return null;
      if (f.type === 'timestamp') {
        const ms = typeof v === 'string' ? parseIsoTimestamp(v) : v;
        if (ms === undefined) {
          problems.push({ path: at(k), message: `expected an ISO-8601 time with zone, got ${show(v)}` });
          return null;
        }
        return ms;
      }
      if (typeof v !== 'number') {
        problems.push({ path: at(k), message: `expected a number, got ${show(v)}` });
        return null;
      }
      if (f.type !== 'number' && f.type !== 'integer') {
        problems.push({
          path: at(k),
          message: `min/max apply to number, integer and timestamp fields, not ${f.type}`,
        });
      }
      return v;
    };
    if (
      (f.min_length !== undefined || f.max_length !== undefined || f.pattern !== undefined || f.enum) &&
      f.type !== 'string'
    ) {
      problems.push({
        path: ['fields', name],
        message: `min_length/max_length/pattern/enum apply to string fields, not ${f.type}`,
      });
    }
    if (f.pair !== undefined) {
      const other = y.fields[f.pair];
      if (!other) problems.push({ path: at('pair'), message: `pair "${f.pair}" is not a declared field` });
      else if (other.pair !== undefined && other.pair !== name) {
        problems.push({
          path: at('pair'),
          message: `"${f.pair}" is paired with "${other.pair}", not "${name}"`,
        });
      }
    }
    if (f.default !== undefined) {
      const ok =
        (f.type === 'string' && typeof f.default === 'string') ||
        ((f.type === 'number' || f.type === 'integer') && typeof f.default === 'number') ||
        (f.type === 'boolean' && typeof f.default === 'boolean');
      if (!ok)
        problems.push({
          path: at('default'),
          message: `default ${show(f.default)} does not match type ${f.type}`,
        });
    }
    fields.push({
      name,
      type: f.type,
      required: f.required,
      requiredFor: f.required_for,
      onlyFor: f.only_for ?? null,
      minLength: f.min_length ?? null,
      maxLength: f.max_length ?? null,
      pattern,
      enum: name === y.event_type_field ? (f.enum ?? y.event_types) : (f.enum ?? null),
      min: bound('min'),
      max: bound('max'),
      default: f.default ?? null,
      pair: f.pair ?? null,
    });
  }
  // The pair relation is symmetric even when declared on one side only.
  for (const [i, f] of fields.entries()) {
    if (f.pair) continue;
    const partner = fields.find((o) => o.pair === f.name);
    if (partner) fields[i] = { ...f, pair: partner.name };
  }

  const cur = y.enrichment.currency;
  if (cur) {
    needField(['enrichment', 'currency', 'amount_field'], cur.amount_field, 'amount field', 'number');
    needField(['enrichment', 'currency', 'currency_field'], cur.currency_field, 'currency field', 'string');
    if (fieldNames.has(cur.output))
      problems.push({
        path: ['enrichment', 'currency', 'output'],
        message: `"${cur.output}" clashes with a declared field`,
      });
  }
  const geo = y.enrichment.geo;
  if (geo) {
    needField(['enrichment', 'geo', 'lat_field'], geo.lat_field, 'latitude field', 'number');
    needField(['enrichment', 'geo', 'lon_field'], geo.lon_field, 'longitude field', 'number');
    if (fieldNames.has(geo.output))
      problems.push({
        path: ['enrichment', 'geo', 'output'],
        message: `"${geo.output}" clashes with a declared field`,
      });
    for (const [i, b] of geo.boxes.entries()) {
      if (b.lat[0] > b.lat[1] || b.lon[0] > b.lon[1]) {
        problems.push({
          path: ['enrichment', 'geo', 'boxes', i],
          message: 'expected [min, max] ranges for lat and lon',
        });
      }
    }
  }

  const kinds = silverColumnKinds(y);
  const windows: WindowSpec[] = [];
  const tables = new Set<string>();
  for (const [i, w] of y.windows.entries()) {
    const at = (k: string): PropertyKey[] => ['windows', i, k];
    if (w.type === 'session') {
      if (w.gap === undefined)
        problems.push({ path: at('gap'), message: 'a session window needs a gap, e.g. "30m"' });
      if (w.size !== undefined || w.slide !== undefined)
        problems.push({ path: ['windows', i], message: 'a session window takes gap, not size/slide' });
    } else {
      if (w.size === undefined)
        problems.push({ path: at('size'), message: `a ${w.type} window needs a size, e.g. "1m"` });
      if (w.gap !== undefined)
        problems.push({
          path: at('gap'),
          message: `a ${w.type} window takes size${w.type === 'sliding' ? '/slide' : ''}, not gap`,
        });
      if (w.type === 'sliding') {
        if (w.slide === undefined)
          problems.push({ path: at('slide'), message: 'a sliding window needs a slide, e.g. "1m"' });
        else if (w.size !== undefined && (w.slide > w.size || w.size % w.slide !== 0)) {
          problems.push({
            path: at('slide'),
            message: `the slide must divide the size (size ${w.size} ms, slide ${w.slide} ms)`,
          });
        }
      } else if (w.slide !== undefined) {
        problems.push({ path: at('slide'), message: 'a tumbling window has no slide' });
      }
    }
    if (!kinds.has(w.group_by))
      problems.push({
        path: at('group_by'),
        message: `"${w.group_by}" is not a silver column (${[...kinds.keys()].join(', ')})`,
      });
    if (w.measure !== undefined && kinds.get(w.measure) !== 'number') {
      problems.push({ path: at('measure'), message: `"${w.measure}" is not a numeric silver column` });
    }
    if (w.measure === undefined && w.aggregates.some((a) => a !== 'count')) {
      problems.push({ path: at('aggregates'), message: 'sum/min/max/avg need a measure' });
    }
    const table = w.table ?? (w.type === 'session' ? `gold/${w.name}` : `gold/window_${w.name}`);
    if (tables.has(table)) problems.push({ path: at('table'), message: `table "${table}" is used twice` });
    if (table === 'gold/alerts' || table === 'gold/late_events')
      problems.push({ path: at('table'), message: `"${table}" is reserved` });
    tables.add(table);
    if (y.windows.findIndex((o) => o.name === w.name) !== i)
      problems.push({ path: at('name'), message: `window name "${w.name}" is used twice` });
    const order: AggregateName[] = ['count', 'sum', 'min', 'max', 'avg'];
    windows.push({
      name: w.name,
      type: w.type,
      sizeMs: w.type === 'session' ? 0 : (w.size ?? 0),
      slideMs: w.type === 'sliding' ? (w.slide ?? 0) : w.type === 'tumbling' ? (w.size ?? 0) : 0,
      gapMs: w.type === 'session' ? (w.gap ?? 0) : 0,
      groupBy: w.group_by,
      measure: w.measure === undefined ? null : { field: w.measure, as: w.measure_as ?? w.measure },
      aggregates: order.filter((a) => w.aggregates.includes(a)),
      table,
    });
  }

  let cep: CepSpec | null = null;
  if (y.cep) {
    const c = y.cep;
    const p = c.patterns;
    if (c.transaction_type !== null && !types.has(c.transaction_type)) {
      problems.push({
        path: ['cep', 'transaction_type'],
        message: `unknown event type "${c.transaction_type}"`,
      });
    }
    if (c.amount_field !== null && kinds.get(c.amount_field) !== 'number') {
      problems.push({
        path: ['cep', 'amount_field'],
        message: `"${c.amount_field}" is not a numeric silver column`,
      });
    }
    if (c.merchant_field !== null && !kinds.has(c.merchant_field)) {
      problems.push({
        path: ['cep', 'merchant_field'],
        message: `"${c.merchant_field}" is not a silver column`,
      });
    }
    if (c.location) {
      for (const k of ['lat', 'lon'] as const) {
        if (kinds.get(c.location[k]) !== 'number')
          problems.push({
            path: ['cep', 'location', k],
            message: `"${c.location[k]}" is not a numeric field`,
          });
      }
    }
    if (p.amount_anomaly && c.amount_field === null)
      problems.push({ path: ['cep', 'patterns', 'amount_anomaly'], message: 'needs cep.amount_field' });
    if (p.merchant_diversity && c.merchant_field === null)
      problems.push({ path: ['cep', 'patterns', 'merchant_diversity'], message: 'needs cep.merchant_field' });
    if (p.impossible_travel && c.location === null)
      problems.push({ path: ['cep', 'patterns', 'impossible_travel'], message: 'needs cep.location' });
    if (p.amount_anomaly && p.amount_anomaly.high_sigma < p.amount_anomaly.sigma) {
      problems.push({
        path: ['cep', 'patterns', 'amount_anomaly', 'high_sigma'],
        message: 'must be at least sigma',
      });
    }
    cep = {
      transactionType: c.transaction_type,
      amountField: c.amount_field,
      merchantField: c.merchant_field,
      location: c.location,
      stateTtlMarginMs: c.state_ttl_margin,
      maxTransactionsPerKey: c.max_transactions_per_key,
      patterns: {
        velocitySpike: p.velocity_spike
          ? { moreThan: p.velocity_spike.more_than, windowMs: p.velocity_spike.window }
          : null,
        amountAnomaly: p.amount_anomaly
          ? {
              minHistory: p.amount_anomaly.min_history,
              sigma: p.amount_anomaly.sigma,
              highSigma: p.amount_anomaly.high_sigma,
            }
          : null,
        impossibleTravel: p.impossible_travel
          ? {
              minDistanceKm: p.impossible_travel.min_distance_km,
              minSpeedKmh: p.impossible_travel.min_speed_kmh,
            }
          : null,
        rapidFireBurst: p.rapid_fire_burst
          ? { atLeast: p.rapid_fire_burst.at_least, windowMs: p.rapid_fire_burst.window }
          : null,
        merchantDiversity: p.merchant_diversity
          ? { atLeast: p.merchant_diversity.at_least, windowMs: p.merchant_diversity.window }
          : null,
      },
    };
  }

  const g = y.generator;
  if (g.measure) needField(['generator', 'measure', 'field'], g.measure.field, 'generator measure', 'number');
  for (const name of [...Object.keys(g.values), ...g.sticky]) {
    if (!fieldNames.has(name))
      problems.push({ path: ['generator'], message: `"${name}" is not a declared field` });
  }
  if (g.event_mix) {
    for (const t of Object.keys(g.event_mix)) {
      if (!types.has(t))
        problems.push({ path: ['generator', 'event_mix', t], message: `unknown event type "${t}"` });
    }
  }
  if (g.home_by !== undefined && !g.sticky.includes(g.home_by))
    problems.push({
      path: ['generator', 'home_by'],
      message: `"${g.home_by}" must be one of generator.sticky (${g.sticky.join(', ') || 'none'}): a key's home follows a value it keeps`,
    });
  if (g.session.gap[0] > g.session.gap[1])
    problems.push({ path: ['generator', 'session', 'gap'], message: 'expected [min, max]' });

  const fail = () =>
    new DomainConfigError(
      source,
      problems.map((p) => `${formatPath(p.path)}: ${p.message}`),
    );
  // Earlier problems do not stop here: the views and charts are checked too when the rest allows
  // it, so one validation lists every problem.
  const earlier = problems.length;

  const domain: Domain = {
    name: y.name,
    description: y.description,
    source,
    topic: y.topic ?? `${y.name}.events`,
    keyField: y.key_field,
    dedupField: y.dedup_field,
    eventTimeField: y.event_time_field,
    eventTypeField: y.event_type_field,
    eventTypes: y.event_types,
    fields,
    maxOutOfOrdernessMs: y.max_out_of_orderness,
    maxRecordBytes: y.max_record_bytes,
    enforceRecordKey: y.enforce_record_key,
    enrichment: {
      currency: cur
        ? {
            amountField: cur.amount_field,
            currencyField: cur.currency_field,
            output: cur.output,
            ratesToUsd: cur.rates_to_usd,
            decimals: cur.decimals,
            onUnknown: cur.on_unknown,
          }
        : null,
      geo: geo
        ? {
            latField: geo.lat_field,
            lonField: geo.lon_field,
            output: geo.output,
            boxes: geo.boxes.map((b) => ({
              code: b.code,
              latMin: b.lat[0],
              latMax: b.lat[1],
              lonMin: b.lon[0],
              lonMax: b.lon[1],
            })),
          }
        : null,
    },
    dedup: { retentionMs: y.dedup.retention, maxEntries: y.dedup.max_entries },
    windows,
    cep,
    generator: {
      startMs: g.start,
      eventsPerSecond: g.events_per_second,
      keys: { prefix: g.keys.prefix, per1kEvents: g.keys.per_1k_events, min: g.keys.min, zipf: g.keys.zipf },
      eventMix: g.event_mix ?? Object.fromEntries(y.event_types.map((t) => [t, 1])),
      session: {
        meanEvents: g.session.mean_events,
        gapMinMs: g.session.gap[0],
        gapMaxMs: g.session.gap[1],
        idleMs: g.session.idle,
      },
      measure: g.measure
        ? {
            field: g.measure.field,
            mu: g.measure.lognormal.mu,
            sigma: g.measure.lognormal.sigma,
            jitter: g.measure.jitter,
            decimals: g.measure.decimals,
          }
        : null,
      isoShare: g.iso_share,
      locatedShare: g.located_share,
      travelShare: g.travel_share,
      roamKm: g.roam_km,
      homeBy: g.home_by ?? null,
      cities: g.cities.map((c) => ({ name: c.name, lat: c.lat, lon: c.lon, currency: c.currency ?? null })),
      values: Object.fromEntries(
        Object.entries(g.values).map(([k, v]) => [
          k,
          Array.isArray(v) ? { list: v } : { prefix: v.prefix, count: v.count, zipf: v.zipf },
        ]),
      ),
      sticky: g.sticky,
      disorder: {
        share: g.disorder.share,
        maxMs: g.disorder.max,
        lateShare: g.disorder.late_share,
        lateMaxMs: g.disorder.late_max,
      },
    },
    views: [],
    charts: [],
  };
  let views: ViewDefinition[] = [];
  let charts: ChartSpec[] = [];
  // A domain already known to be broken is checked without its broken windows (a window whose
  // columns silver lacks has no table to derive); its problems say why.
  const checked =
    earlier === 0
      ? domain
      : {
          ...domain,
          windows: domain.windows.filter(
            (w) => kinds.has(w.groupBy) && (w.measure === null || kinds.get(w.measure.field) === 'number'),
          ),
        };
  try {
    views = domainViews(checked, y, files, problems);
    charts = domainCharts(checked, y, views, problems);
  } catch (err) {
    if (earlier === 0) throw err;
  }
  if (problems.length > 0) throw fail();
  return { ...domain, views, charts };
}

/** Generated and declared views, each checked against the tables and the views before it. */
function domainViews(
  domain: Domain,
  y: DomainYaml,
  files: DomainFileReader | undefined,
  problems: Problem[],
): ViewDefinition[] {
  const relations = new Map<string, readonly string[]>();
  for (const t of lakehouseTablesOf(domain))
    relations.set(t.path.split('/').at(-1)!, [...t.columns.map((c) => c.name), 'dt', 'hr']);
  const views: ViewDefinition[] = [];
  const add = (view: ViewDefinition, path: PropertyKey[]) => {
    if (relations.has(view.name)) {
      const generated = views.find((v) => v.name === view.name)?.origin === 'generated';
      problems.push({
        path,
        message: generated
          ? `view "${view.name}" is generated for every domain; give yours another name`
          : `view "${view.name}" has the name of a table or an earlier view; rename it`,
      });
      return;
    }
    for (const message of missingRequirements(view, relations)) problems.push({ path, message });
    relations.set(
      view.name,
      view.columns.map((c) => c.name),
    );
    views.push(view);
  };
  for (const v of generatedViews(domain, lakehouseTablesOf(domain))) add(v, ['(generated)']);
  for (const [i, entry] of y.views.entries()) {
    const path: PropertyKey[] = ['views', i];
    let view: ViewDefinition;
    try {
      if (typeof entry === 'string') {
        if (!files) throw new Error(`view file "${entry}" needs a domain loaded from a file (loadDomain)`);
        const { text, path: file } = files.read(entry);
        view = parseViewText(text, file);
      } else {
        view = inlineView(entry, `${domain.source}: views[${i}]`);
      }
    } catch (err) {
      problems.push({ path, message: (err as Error).message });
      continue;
    }
    add(view, path);
  }
  return views;
}

/** Generated and declared charts, each checked against the domain's views. */
function domainCharts(
  domain: Domain,
  y: DomainYaml,
  views: readonly ViewDefinition[],
  problems: Problem[],
): ChartSpec[] {
  const charts = generatedCharts(domain);
  for (const [i, c] of y.report.charts.entries()) {
    const chart: ChartSpec = {
      id: c.id,
      title: c.title,
      subtitle: c.subtitle,
      type: c.type,
      view: c.view,
      x: c.x ?? null,
      series: c.series ?? null,
      label: c.label ?? null,
      value: c.value,
      aggregate: c.aggregate,
      limit: c.limit,
      unit: c.unit,
      origin: 'domain',
    };
    if (c.id === QUALITY_CHART_ID || charts.some((o) => o.id === c.id)) {
      problems.push({ path: ['report', 'charts', i, 'id'], message: `chart id "${c.id}" is used twice` });
      continue;
    }
    const found = chartProblems(chart, views);
    for (const message of found) problems.push({ path: ['report', 'charts', i], message });
    if (found.length === 0) charts.push(chart);
  }
  return charts;
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Validates an already-parsed config object (e.g. from YAML) into a {@link Domain}.
 * @param source label used in error messages (usually the file path)
 * @throws DomainConfigError listing every problem with the path of the bad key
 */
export function parseDomainObject(input: unknown, source = '<domain>', files?: DomainFileReader): Domain {
  const result = domainSchema.safeParse(input);
  if (!result.success) throw new DomainConfigError(source, formatIssues(result.error.issues));
  return normalize(result.data, source, files);
}

/**
 * Parses YAML text into a {@link Domain}. YAML syntax errors are reported with line and column.
 * @throws DomainConfigError
 */
export function parseDomain(yamlText: string, source = '<domain>', files?: DomainFileReader): Domain {
  let raw: unknown;
  try {
    raw = parseYaml(yamlText);
  } catch (err) {
    throw new DomainConfigError(source, [`(yaml): ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseDomainObject(raw, source, files);
}

/**
 * The folder holding `<name>.yaml` domain files: `$TIDEWATER_DOMAINS_DIR` when set, else the
 * repository's `config/domains/` (resolved from this module, so it works from any cwd).
 */
export function domainsDir(): string {
  const fromEnv = process.env['TIDEWATER_DOMAINS_DIR'];
  if (fromEnv) return resolve(fromEnv);
  // import.meta.url is missing when bundled to CommonJS: fall back to the working directory.
  const here = typeof import.meta.url === 'string' && import.meta.url !== '' ? import.meta.url : undefined;
  if (here === undefined) return resolve('config/domains');
  const sources = fileURLToPath(new URL('../../config/domains/', here));
  if (existsSync(sources)) return sources;
  // A Lambda bundle (`lib/constructs/bundling.ts`) carries the domains beside itself.
  return fileURLToPath(new URL('./config/domains/', here));
}

const cache = new Map<string, Domain>();

/**
 * Loads a domain by name (`payments` -> `<domainsDir>/payments.yaml`) or by path (anything with a
 * slash or a `.yaml`/`.yml` suffix). Results are cached per resolved file.
 * @throws DomainConfigError for a missing file or an invalid config
 */
export function loadDomain(nameOrPath = 'payments'): Domain {
  const isPath = /[\\/]/.test(nameOrPath) || /\.ya?ml$/i.test(nameOrPath);
  const file = isPath
    ? isAbsolute(nameOrPath)
      ? nameOrPath
      : resolve(nameOrPath)
    : join(domainsDir(), `${nameOrPath}.yaml`);
  const hit = cache.get(file);
  if (hit) return hit;
  const label = isPath ? nameOrPath : `config/domains/${nameOrPath}.yaml`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new DomainConfigError(label, [
      `(file): cannot read ${file}; domains are config/domains/<name>.yaml or a path to a .yaml file`,
    ]);
  }
  const dir = dirname(file);
  const labelDir = dirname(label);
  const files: DomainFileReader = {
    read: (relativePath) => {
      const path = join(dir, relativePath);
      try {
        return { text: readFileSync(path, 'utf8'), path: join(labelDir, relativePath) };
      } catch {
        throw new Error(`cannot read view file ${path} (view files are named relative to the domain file)`);
      }
    },
  };
  const domain = parseDomain(text, label, files);
  cache.set(file, domain);
  return domain;
}

/** The field spec of a declared field. @throws Error when the field is not declared */
export function fieldOf(domain: Domain, name: string): FieldSpec {
  const f = domain.fields.find((x) => x.name === name);
  if (!f) throw new Error(`${domain.source}: field "${name}" is not declared`);
  return f;
}
