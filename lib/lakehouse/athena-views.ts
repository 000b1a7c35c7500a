/**
 * A domain's views (`Domain.views`: generated from its YAML, plus the view files it declares),
 * encoded the way Athena stores them in the Glue Data Catalog: a `VIRTUAL_VIEW` table whose
 * `ViewOriginalText` is `/* Presto View: <base64 of JSON> *\/`, the JSON holding `originalSql`,
 * `catalog`, `schema` and `columns` (Presto/Trino types).
 */
import type { ViewDefinition } from '../../functions/core/index.ts';

export type { ViewDefinition } from '../../functions/core/index.ts';

/** A view column with its type in each catalog. */
export interface ViewColumn {
  readonly name: string;
  /** Type as written in the view file, lower-cased (e.g. `varchar`, `bigint`, `timestamp(3)`). */
  readonly athenaType: string;
  /** Type in the Presto view JSON (`varchar`, `bigint`, `timestamp(3)`, ...). */
  readonly prestoType: string;
  /** Type in the Glue table's storage descriptor (Hive DDL: `string`, `bigint`, `timestamp`, ...). */
  readonly glueType: string;
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

/** A view's columns with their Presto and Glue types. @throws Error naming the view and the bad type */
export function viewColumns(view: ViewDefinition): ViewColumn[] {
  return view.columns.map((c) => {
    const mapped = mapViewColumnType(c.type, `${view.source}: view ${view.name}, column ${c.name}`);
    return { name: c.name, athenaType: c.type, prestoType: mapped.presto, glueType: mapped.glue };
  });
}

/** The `ViewOriginalText` Athena expects for a view in `catalog`.`schema`. */
export function encodePrestoView(view: ViewDefinition, schema: string, catalog = 'awsdatacatalog'): string {
  const json: PrestoViewJson = {
    originalSql: view.sql,
    catalog,
    schema,
    columns: viewColumns(view).map((c) => ({ name: c.name, type: c.prestoType })),
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
