/**
 * The SQL views of a domain (SPEC §8): one source for DuckDB (`tidewater query`, the report) and
 * the Glue/Athena views of the CDK app. Two kinds:
 *
 * - generated from the YAML, for any domain: one view per window definition (`<window>_over_time`),
 *   alerts by pattern and hour (`alerts_by_pattern_hourly`), events by the geo enrichment's output
 *   (`events_by_<output>`), pipeline quality (`pipeline_quality`) and, when the layers carry a
 *   processing time, freshness (`freshness`: event time to silver row and to alert, p50/p99/max per hour);
 * - declared by the domain (`views:` in its YAML): SQL files next to the YAML, or inline. A view
 *   says which columns of which tables it reads (`requires`), and a domain that lacks one of them is
 *   a config error when the domain is loaded, never a broken view at query time.
 *
 * A view file is
 * ```sql
 * -- view: <name>                       (the file name without .sql)
 * -- description: <text>
 * -- columns: <col> <athena type>, ...   (what the view returns: the Glue view's columns)
 * -- requires: events(user_id, amount_usd), alerts(user_id)
 * SELECT ...                             (one statement; tables and views by their SQL names)
 * ```
 * The SQL must mean the same in Trino (Athena engine 3) and DuckDB.
 */
import { BATCH_QUALITY } from './batch-quality.ts';
import type { Domain, WindowSpec } from './domain.ts';
import type { ColumnType, TableSchema } from './model.ts';
import { layerSchemas } from './schemas.ts';

/** Every table of a domain's lakehouse: the SPEC §2 layers and `ops/batch_quality`. */
export function lakehouseTablesOf(domain: Domain): TableSchema[] {
  return [...layerSchemas(domain).all, BATCH_QUALITY];
}

export interface ViewColumn {
  readonly name: string;
  /** Athena (Trino) type name, lower-case, e.g. `varchar`, `bigint`, `double`, `timestamp`, `date`. */
  readonly type: string;
}

export interface ViewDefinition {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly ViewColumn[];
  /** Columns the view reads, per table or view (by SQL name). Checked when the domain loads. */
  readonly requires: Readonly<Record<string, readonly string[]>>;
  /** The SELECT statement, without header comments or trailing semicolon. */
  readonly sql: string;
  /** Where it came from: a file path, `<domain file>: views[i]`, or `generated from <domain file>`. */
  readonly source: string;
  readonly origin: 'generated' | 'domain';
}

const NAME_RE = /^[a-z][a-z0-9_]*$/;

/** Splits `a, b(c, d), e` on the commas outside parentheses. */
function splitTop(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Parses `events(user_id, amount_usd), alerts(user_id)`. @throws Error naming the bad part */
export function parseRequires(text: string, where: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of splitTop(text)) {
    const m = /^([a-z][a-z0-9_]*)\s*\(([^)]*)\)$/.exec(part);
    if (!m)
      throw new Error(
        `${where}: bad requirement '${part}' (want '<table>(<col>, <col>)', e.g. 'events(user_id)')`,
      );
    const cols = m[2]!
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
    for (const c of cols)
      if (!NAME_RE.test(c)) throw new Error(`${where}: bad column '${c}' in requirement '${part}'`);
    out[m[1]!] = [...(out[m[1]!] ?? []), ...cols];
  }
  return out;
}

/** Parses `a varchar, b decimal(12, 2)`. */
export function parseColumns(text: string, where: string): ViewColumn[] {
  return splitTop(text).map((part) => {
    const m = /^([a-z][a-z0-9_]*)\s+(.+)$/.exec(part);
    if (!m) throw new Error(`${where}: bad column '${part}' in '-- columns:' (want '<name> <athena type>')`);
    return { name: m[1]!, type: m[2]!.toLowerCase() };
  });
}

/** Checks one SELECT body; returns it without a trailing semicolon. */
function checkSql(text: string, where: string): string {
  const sql = text.trim().replace(/;\s*$/, '').trim();
  if (!/^(select|with)\b/i.test(sql.replace(/^(--.*\n\s*)*/, '')))
    throw new Error(`${where}: the body must be one SELECT (or WITH ... SELECT) statement`);
  if (sql.includes(';')) throw new Error(`${where}: only one statement is allowed (found ';' inside)`);
  return sql;
}

/**
 * Parses one view file's text (see the module comment).
 * @param file path used in messages; the view name must equal its base name without `.sql`
 * @throws Error naming the file and the missing or bad header
 */
export function parseViewText(text: string, file: string, requireRequires = true): ViewDefinition {
  const header = new Map<string, string>();
  const body: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^--\s*(view|description|columns|requires):\s*(.*)$/.exec(line.trim());
    if (m && body.every((l) => l.trim() === '' || l.trim().startsWith('--'))) header.set(m[1]!, m[2]!.trim());
    else body.push(line);
  }
  const where = file.split(/[\\/]/).at(-1) ?? file;
  const name = header.get('view');
  if (!name || !NAME_RE.test(name))
    throw new Error(`${where}: missing or bad '-- view: <name>' (lower-case snake_case)`);
  if (`${name}.sql` !== where) throw new Error(`${where}: view name '${name}' must match the file name`);
  const description = header.get('description');
  if (!description) throw new Error(`${where}: missing '-- description: <text>'`);
  const columnsText = header.get('columns');
  if (!columnsText) throw new Error(`${where}: missing '-- columns: <col> <type>, ...'`);
  const requiresText = header.get('requires');
  if (requiresText === undefined && requireRequires)
    throw new Error(`${where}: missing '-- requires: <table>(<col>, ...), ...' (the columns the view reads)`);
  return {
    name,
    description,
    columns: parseColumns(columnsText, where),
    requires: requiresText === undefined ? {} : parseRequires(requiresText, where),
    sql: checkSql(body.join('\n'), where),
    source: file,
    origin: 'domain',
  };
}

/** An inline view of the YAML (`views: [{ name, description, columns, requires, sql }]`). */
export function inlineView(
  v: {
    readonly name: string;
    readonly description: string;
    readonly columns: Readonly<Record<string, string>>;
    readonly requires: Readonly<Record<string, readonly string[]>>;
    readonly sql: string;
  },
  where: string,
): ViewDefinition {
  return {
    name: v.name,
    description: v.description,
    columns: Object.entries(v.columns).map(([name, type]) => ({ name, type: type.toLowerCase() })),
    requires: Object.fromEntries(Object.entries(v.requires).map(([t, c]) => [t, [...c]])),
    sql: checkSql(v.sql, where),
    source: where,
    origin: 'domain',
  };
}

// ---------------------------------------------------------------------------------------------
// Generated views
// ---------------------------------------------------------------------------------------------

const VIEW_TYPE: Record<ColumnType, string> = {
  string: 'varchar',
  int32: 'integer',
  int64: 'bigint',
  double: 'double',
  boolean: 'boolean',
  timestamp_ms: 'timestamp',
  date: 'date',
};

/** SQL name of a table: the last segment of its path. */
function sqlNameOfPath(path: string): string {
  return path.split('/').at(-1)!;
}

/** `user_id` -> `user`, `device_id` -> `device`: the noun of a key or group column. */
export function nounOf(column: string): string {
  return column.replace(/_id$/, '');
}

function typeOf(table: TableSchema, column: string): string {
  const c = table.columns.find((x) => x.name === column);
  if (!c) throw new Error(`${table.path} has no column "${column}"`);
  return VIEW_TYPE[c.type];
}

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** Name of the generated view of a window definition. */
export function windowViewName(w: WindowSpec): string {
  return `${w.name}_over_time`;
}

function windowView(w: WindowSpec, table: TableSchema, source: string): ViewDefinition {
  const t = sqlNameOfPath(table.path);
  const aggCols = table.columns.slice(3).map((c) => c.name);
  if (w.type === 'session') {
    const key = w.groupBy;
    const cols: ViewColumn[] = [
      { name: 'session_minute', type: 'timestamp' },
      { name: 'sessions', type: 'bigint' },
      { name: `${nounOf(key)}_count`, type: 'bigint' },
    ];
    const select = [
      "date_trunc('minute', session_start) AS session_minute",
      'count(*) AS sessions',
      `count(DISTINCT ${key}) AS ${nounOf(key)}_count`,
    ];
    if (aggCols.includes('event_count')) {
      cols.push({ name: 'events', type: 'bigint' }, { name: 'avg_events_per_session', type: 'double' });
      select.push(
        'CAST(sum(event_count) AS bigint) AS events',
        'CAST(sum(event_count) AS double) / count(*) AS avg_events_per_session',
      );
    }
    const sums = aggCols.filter((c) => c.endsWith('_sum'));
    for (const c of sums) {
      cols.push({ name: c, type: 'double' });
      select.push(`sum(${c}) AS ${c}`);
    }
    return {
      name: windowViewName(w),
      description: `Sessions of ${key} (gap ${durationText(w.gapMs)}, ${table.path}) by the UTC minute they started: sessions, distinct ${key}${aggCols.includes('event_count') ? ', events and events per session' : ''}${sums.length > 0 ? `, ${sums.join(', ')}` : ''}.`,
      columns: cols,
      requires: {
        [t]: ['session_start', key, ...aggCols.filter((c) => c === 'event_count' || sums.includes(c))],
      },
      sql: `SELECT\n  ${select.join(',\n  ')}\nFROM ${t}\nGROUP BY date_trunc('minute', session_start)`,
      source,
      origin: 'generated',
    };
  }
  const picked = ['window_start', 'window_end', w.groupBy, ...aggCols];
  const kind =
    w.type === 'tumbling'
      ? `${durationText(w.sizeMs)} tumbling windows`
      : `${durationText(w.sizeMs)} windows sliding by ${durationText(w.slideMs)}`;
  return {
    name: windowViewName(w),
    description: `${kind} by ${w.groupBy} (${table.path}): ${aggCols.join(', ')} per window and ${w.groupBy}; late events are not counted.`,
    columns: picked.map((c) => ({ name: c, type: typeOf(table, c) })),
    requires: { [t]: picked },
    sql: `SELECT\n  ${picked.join(',\n  ')}\nFROM ${t}`,
    source,
    origin: 'generated',
  };
}

/**
 * The views every domain gets, derived from its YAML and its layer tables.
 * @param tables the domain's lakehouse tables (layers plus `ops/batch_quality`)
 */
export function generatedViews(domain: Domain, tables: readonly TableSchema[]): ViewDefinition[] {
  const source = `generated from ${domain.source}`;
  const byPath = new Map(tables.map((t) => [t.path, t]));
  const need = (path: string): TableSchema => {
    const t = byPath.get(path);
    if (!t) throw new Error(`${domain.source}: no table ${path}`);
    return t;
  };
  const views: ViewDefinition[] = [];
  for (const w of domain.windows) views.push(windowView(w, need(w.table), source));

  const key = domain.keyField;
  const keyCount = `${nounOf(key)}_count`;
  views.push({
    name: 'alerts_by_pattern_hourly',
    description: "Alerts per pattern and severity in each UTC hour of the triggering event's time.",
    columns: [
      { name: 'alert_hour', type: 'timestamp' },
      { name: 'pattern', type: 'varchar' },
      { name: 'severity', type: 'varchar' },
      { name: 'alert_count', type: 'bigint' },
      { name: keyCount, type: 'bigint' },
    ],
    requires: { alerts: ['ts', 'pattern', 'severity', key] },
    sql: `SELECT\n  date_trunc('hour', ts) AS alert_hour,\n  pattern,\n  severity,\n  count(*) AS alert_count,\n  count(DISTINCT ${key}) AS ${keyCount}\nFROM alerts\nGROUP BY date_trunc('hour', ts), pattern, severity`,
    source,
    origin: 'generated',
  });

  const geo = domain.enrichment.geo;
  if (geo) {
    const out = geo.output;
    const cur = domain.enrichment.currency;
    const cols: ViewColumn[] = [
      { name: out, type: 'varchar' },
      { name: domain.eventTypeField, type: 'varchar' },
      { name: 'event_count', type: 'bigint' },
      { name: keyCount, type: 'bigint' },
    ];
    const select = [
      `COALESCE(${out}, 'unknown') AS ${out}`,
      domain.eventTypeField,
      'count(*) AS event_count',
      `count(DISTINCT ${key}) AS ${keyCount}`,
    ];
    if (cur) {
      cols.push({ name: `${cur.output}_sum`, type: 'double' });
      select.push(`sum(${cur.output}) AS ${cur.output}_sum`);
    }
    views.push({
      name: `events_by_${out}`,
      description: `Events per ${out} (from ${geo.latField}/${geo.lonField}, 'unknown' when none) and ${domain.eventTypeField}${cur ? `, with the sum of ${cur.output}` : ''}.`,
      columns: cols,
      requires: {
        events: [out, domain.eventTypeField, key, ...(cur ? [cur.output] : [])],
      },
      sql: `SELECT\n  ${select.join(',\n  ')}\nFROM events\nGROUP BY COALESCE(${out}, 'unknown'), ${domain.eventTypeField}`,
      source,
      origin: 'generated',
    });
  }

  views.push(pipelineQualityView(domain, source));

  const silver = byPath.get('silver/events');
  if (silver?.columns.some((c) => c.name === 'processed_at')) {
    const t = domain.eventTimeField;
    const stats = (from: string) =>
      `  SELECT\n    processing_hour,\n    count(*) AS n,\n    approx_percentile(ms, 0.5) AS p50,\n    approx_percentile(ms, 0.99) AS p99,\n    max(ms) AS mx\n  FROM ${from}\n  GROUP BY processing_hour`;
    views.push({
      name: 'freshness',
      description:
        'Freshness per UTC hour of processing time: how long events took from their event time to a silver row (processed_at) and to an alert (detected_at), p50/p99/max in milliseconds, with the rows behind each figure. Processing time minus event time, so it includes producer delay and replays.',
      columns: [
        { name: 'processing_hour', type: 'timestamp' },
        { name: 'silver_rows', type: 'bigint' },
        { name: 'p50_event_to_silver_ms', type: 'double' },
        { name: 'p99_event_to_silver_ms', type: 'double' },
        { name: 'max_event_to_silver_ms', type: 'double' },
        { name: 'alert_rows', type: 'bigint' },
        { name: 'p50_event_to_alert_ms', type: 'double' },
        { name: 'p99_event_to_alert_ms', type: 'double' },
        { name: 'max_event_to_alert_ms', type: 'double' },
      ],
      requires: { events: [t, 'processed_at'], alerts: ['ts', 'detected_at'] },
      // approx_percentile and to_unixtime are Trino's; DuckDB gets them as macros (Lakehouse.open).
      sql: [
        'WITH silver AS (',
        `  SELECT\n    date_trunc('hour', processed_at) AS processing_hour,\n    round((to_unixtime(processed_at) - to_unixtime(${t})) * 1000) AS ms\n  FROM events`,
        '),',
        'alerted AS (',
        "  SELECT\n    date_trunc('hour', detected_at) AS processing_hour,\n    round((to_unixtime(detected_at) - to_unixtime(ts)) * 1000) AS ms\n  FROM alerts",
        '),',
        `s AS (\n${stats('silver')}\n),`,
        `a AS (\n${stats('alerted')}\n)`,
        'SELECT',
        '  COALESCE(s.processing_hour, a.processing_hour) AS processing_hour,',
        '  COALESCE(s.n, CAST(0 AS bigint)) AS silver_rows,',
        '  s.p50 AS p50_event_to_silver_ms,',
        '  s.p99 AS p99_event_to_silver_ms,',
        '  s.mx AS max_event_to_silver_ms,',
        '  COALESCE(a.n, CAST(0 AS bigint)) AS alert_rows,',
        '  a.p50 AS p50_event_to_alert_ms,',
        '  a.p99 AS p99_event_to_alert_ms,',
        '  a.mx AS max_event_to_alert_ms',
        'FROM s',
        'FULL OUTER JOIN a ON s.processing_hour = a.processing_hour',
      ].join('\n'),
      source,
      origin: 'generated',
    });
  }
  return views;
}

function pipelineQualityView(domain: Domain, source: string): ViewDefinition {
  const windows = domain.windows.map((w) => sqlNameOfPath(w.table));
  const ctes = [
    'bronze AS (SELECT count(*) AS n FROM raw_events)',
    'silver AS (SELECT count(*) AS n FROM events)',
    'batches AS (\n  SELECT\n    count(*) AS n,\n    CAST(COALESCE(sum(poison), 0) AS bigint) AS poison,\n    CAST(COALESCE(sum(duplicates), 0) AS bigint) AS duplicates\n  FROM batch_quality\n)',
    `late AS (SELECT count(DISTINCT ${domain.dedupField}) AS events, count(*) AS n FROM late_events)`,
    ...windows.map((t, i) => `w${i} AS (SELECT count(*) AS n FROM ${t})`),
    'alerted AS (SELECT count(*) AS n FROM alerts)',
  ];
  const cols: [string, string, string][] = [
    ['bronze_rows', 'bigint', 'bronze.n'],
    ['silver_rows', 'bigint', 'silver.n'],
    ['poison_records', 'bigint', 'batches.poison'],
    ['duplicate_records', 'bigint', 'batches.duplicates'],
    ['unaccounted_records', 'bigint', 'bronze.n - silver.n - batches.poison - batches.duplicates'],
    ['conservation_ok', 'boolean', 'bronze.n = silver.n + batches.poison + batches.duplicates'],
    [
      'poison_ratio',
      'double',
      'CASE WHEN bronze.n = 0 THEN CAST(0 AS double) ELSE CAST(batches.poison AS double) / CAST(bronze.n AS double) END',
    ],
    ['late_events', 'bigint', 'late.events'],
    ['late_event_rows', 'bigint', 'late.n'],
    ...windows.map((t, i): [string, string, string] => [`${t}_rows`, 'bigint', `w${i}.n`]),
    ['alert_rows', 'bigint', 'alerted.n'],
    ['batches', 'bigint', 'batches.n'],
  ];
  const from = ['bronze', 'silver', 'batches', 'late', ...windows.map((_, i) => `w${i}`), 'alerted'];
  return {
    name: 'pipeline_quality',
    description: `One row: rows per layer (${windows.length} window table${windows.length === 1 ? '' : 's'}), poison (dead-lettered) and duplicate counts from ops/batch_quality, late events (distinct events, and rows: one per window missed), and the SPEC §1 check bronze = silver + poison + duplicates.`,
    columns: cols.map(([name, type]) => ({ name, type })),
    requires: {
      raw_events: [],
      events: [],
      batch_quality: ['poison', 'duplicates'],
      late_events: [domain.dedupField],
      alerts: [],
      ...Object.fromEntries(windows.map((t) => [t, []])),
    },
    sql: `WITH\n${ctes.join(',\n')}\nSELECT\n  ${cols.map(([n, , e]) => `${e} AS ${n}`).join(',\n  ')}\nFROM ${from.join('\nCROSS JOIN ')}`,
    source,
    origin: 'generated',
  };
}

/**
 * What a view needs that the tables and earlier views do not have: one message per missing table
 * or column, naming the view and the column.
 */
export function missingRequirements(
  view: ViewDefinition,
  relations: ReadonlyMap<string, readonly string[]>,
): string[] {
  const problems: string[] = [];
  for (const [table, cols] of Object.entries(view.requires)) {
    const have = relations.get(table);
    if (!have) {
      problems.push(
        `view "${view.name}" reads table "${table}", which this domain does not have (tables and views: ${[...relations.keys()].join(', ')})`,
      );
      continue;
    }
    for (const c of cols)
      if (!have.includes(c))
        problems.push(
          `view "${view.name}" needs column "${c}" of "${table}", which this domain does not have (${table}: ${have.join(', ')})`,
        );
  }
  return problems;
}
