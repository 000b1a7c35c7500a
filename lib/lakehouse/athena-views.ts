/**
 * Athena views from `sql/views/*.sql`, encoded the way Athena stores them in the Glue Data Catalog:
 * a `VIRTUAL_VIEW` table whose `ViewOriginalText` is `/* Presto View: <base64 of JSON> *\/`, the JSON
 * holding `originalSql`, `catalog`, `schema` and `columns` (Presto/Trino types).
 *
 * View file convention (one view per file):
 * ```sql
 * -- view: <name>
 * -- description: <text>
 * -- columns: <col> <athena type>, <col> <athena type>, ...
 * SELECT ... FROM events ...   -- tables by their SQL names; a trailing ";" is stripped
 * ```
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const VIEWS_DIR = join(import.meta.dirname, '..', '..', 'sql', 'views');

export interface ViewColumn {
  readonly name: string;
  /** Type as written in the view file, lower-cased (e.g. `varchar`, `bigint`, `timestamp(3)`). */
  readonly athenaType: string;
  /** Type in the Presto view JSON (`varchar`, `bigint`, `timestamp(3)`, ...). */
  readonly prestoType: string;
  /** Type in the Glue table's storage descriptor (Hive DDL: `string`, `bigint`, `timestamp`, ...). */
  readonly glueType: string;
}

export interface ViewDefinition {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly ViewColumn[];
  /** The SELECT statement, trimmed, without a trailing semicolon. */
  readonly sql: string;
  /** File it came from, for error messages. */
  readonly source: string;
}

/** The JSON inside `/* Presto View: ... *\/`. */
export interface PrestoViewJson {
  readonly originalSql: string;
  readonly catalog: string;
  readonly schema: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly owner?: string;
  readonly runAsInvoker?: boolean;
  readonly properties?: Record<string, string>;
}

export const PRESTO_VIEW_PREFIX = '/* Presto View: ';
export const PRESTO_VIEW_SUFFIX = ' */';

const SIMPLE_TYPES: Readonly<Record<string, { presto: string; glue: string }>> = {
  varchar: { presto: 'varchar', glue: 'string' },
  string: { presto: 'varchar', glue: 'string' },
  char: { presto: 'varchar', glue: 'string' },
  bigint: { presto: 'bigint', glue: 'bigint' },
  integer: { presto: 'integer', glue: 'int' },
  int: { presto: 'integer', glue: 'int' },
  smallint: { presto: 'smallint', glue: 'smallint' },
  tinyint: { presto: 'tinyint', glue: 'tinyint' },
  double: { presto: 'double', glue: 'double' },
  real: { presto: 'real', glue: 'float' },
  float: { presto: 'real', glue: 'float' },
  boolean: { presto: 'boolean', glue: 'boolean' },
  date: { presto: 'date', glue: 'date' },
  timestamp: { presto: 'timestamp', glue: 'timestamp' },
  'timestamp(3)': { presto: 'timestamp(3)', glue: 'timestamp' },
};

/** Maps an Athena type of a view column to its Presto and Glue spellings. */
export function mapViewColumnType(athenaType: string, where: string): { presto: string; glue: string } {
  const t = athenaType.trim().toLowerCase();
  const simple = SIMPLE_TYPES[t];
  if (simple) return simple;
  const decimal = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (decimal)
    return { presto: `decimal(${decimal[1]},${decimal[2]})`, glue: `decimal(${decimal[1]},${decimal[2]})` };
  throw new Error(
    `${where}: unsupported column type "${athenaType}". Use one of ${Object.keys(SIMPLE_TYPES).join(', ')}, decimal(p,s).`,
  );
}

/** Splits `a varchar, b decimal(10,2)` on the commas that are not inside parentheses. */
function splitColumns(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Parses one view file's text. @throws Error naming the file and the missing or bad header. */
export function parseViewFile(text: string, source: string): ViewDefinition {
  const headers = new Map<string, string>();
  const body: string[] = [];
  let inHeader = true;
  for (const line of text.split(/\r?\n/)) {
    const header = inHeader ? /^--\s*(view|description|columns)\s*:\s*(.*)$/.exec(line.trim()) : null;
    if (header?.[1] !== undefined && header[2] !== undefined) {
      headers.set(header[1], header[2].trim());
      continue;
    }
    if (inHeader && (line.trim() === '' || line.trim().startsWith('--'))) continue;
    inHeader = false;
    body.push(line);
  }
  const name = headers.get('view');
  const columnsText = headers.get('columns');
  if (!name) throw new Error(`${source}: missing header line "-- view: <name>"`);
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new Error(`${source}: view name "${name}" must be lower-case letters, digits and "_"`);
  }
  if (!columnsText) throw new Error(`${source}: missing header line "-- columns: <col> <type>, ..."`);
  const columns = splitColumns(columnsText).map((spec) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s+(.+)$/.exec(spec);
    if (!match?.[1] || !match[2]) throw new Error(`${source}: column "${spec}" must be "<name> <type>"`);
    const mapped = mapViewColumnType(match[2], `${source}: column ${match[1]}`);
    return {
      name: match[1],
      athenaType: match[2].trim().toLowerCase(),
      prestoType: mapped.presto,
      glueType: mapped.glue,
    };
  });
  const sql = body.join('\n').trim().replace(/;\s*$/, '').trim();
  if (!/^(with|select)\b/i.test(sql)) {
    throw new Error(
      `${source}: the body must be one SELECT (or WITH ... SELECT) statement, found "${sql.slice(0, 40)}"`,
    );
  }
  return { name, description: headers.get('description') ?? '', columns, sql, source };
}

/** Every `*.sql` view in `dir`, sorted by file name; none if the folder is missing. */
export function loadViews(dir: string = VIEWS_DIR): ViewDefinition[] {
  if (!existsSync(dir)) return [];
  const views = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseViewFile(readFileSync(join(dir, f), 'utf8'), join(basename(dir), f)));
  const seen = new Set<string>();
  for (const v of views) {
    if (seen.has(v.name)) throw new Error(`${v.source}: view "${v.name}" is defined twice`);
    seen.add(v.name);
  }
  return views;
}

/** The `ViewOriginalText` Athena expects for a view in `catalog`.`schema`. */
export function encodePrestoView(view: ViewDefinition, schema: string, catalog = 'awsdatacatalog'): string {
  const json: PrestoViewJson = {
    originalSql: view.sql,
    catalog,
    schema,
    columns: view.columns.map((c) => ({ name: c.name, type: c.prestoType })),
  };
  return `${PRESTO_VIEW_PREFIX}${Buffer.from(JSON.stringify(json), 'utf8').toString('base64')}${PRESTO_VIEW_SUFFIX}`;
}

/** Inverse of {@link encodePrestoView}; used by tests and tooling to read what was synthesized. */
export function decodePrestoView(text: string): PrestoViewJson {
  if (!text.startsWith(PRESTO_VIEW_PREFIX) || !text.endsWith(PRESTO_VIEW_SUFFIX)) {
    throw new Error(`not a Presto view text: "${text.slice(0, 40)}..."`);
  }
  const b64 = text.slice(PRESTO_VIEW_PREFIX.length, text.length - PRESTO_VIEW_SUFFIX.length);
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as PrestoViewJson;
}
