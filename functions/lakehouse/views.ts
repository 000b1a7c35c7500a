import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The SQL views of `sql/views/*.sql`: one source for Athena (Trino) and DuckDB. Each file is
 *
 *   -- view: <name>
 *   -- description: <text>
 *   -- columns: <col> <athena type>, <col> <athena type>, ...
 *   SELECT ...
 *
 * with the header lines first (other `--` comment lines may follow them) and one SELECT statement
 * (an optional trailing `;` is dropped). Tables are referenced by their SQL name. Write Trino SQL
 * that DuckDB also runs; DuckDB is given Trino's `approx_percentile(x, p)` and `to_unixtime(t)` as
 * macros (`Lakehouse.open`).
 */

export interface ViewColumn {
  readonly name: string;
  /** Athena (Trino) type name, e.g. `varchar`, `bigint`, `double`, `timestamp`, `date`. */
  readonly type: string;
}

export interface ViewDefinition {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly ViewColumn[];
  /** The SELECT statement, without header comments or trailing semicolon. */
  readonly sql: string;
  readonly file: string;
}

/** The repository's `sql/views` folder. */
export const DEFAULT_VIEWS_DIR = fileURLToPath(new URL('../../sql/views/', import.meta.url));

const NAME_RE = /^[a-z][a-z0-9_]*$/;

/** Parses one view file's text; throws with the file name and what is wrong. */
export function parseViewFile(text: string, file: string): ViewDefinition {
  const header = new Map<string, string>();
  const body: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^--\s*(view|description|columns):\s*(.*)$/.exec(line.trim());
    if (m && body.every((l) => l.trim() === '' || l.trim().startsWith('--'))) header.set(m[1]!, m[2]!.trim());
    else body.push(line);
  }
  const name = header.get('view');
  const where = basename(file);
  if (!name || !NAME_RE.test(name))
    throw new Error(`${where}: missing or bad '-- view: <name>' (lower-case snake_case)`);
  if (`${name}.sql` !== where) throw new Error(`${where}: view name '${name}' must match the file name`);
  const description = header.get('description');
  if (!description) throw new Error(`${where}: missing '-- description: <text>'`);
  const columnsText = header.get('columns');
  if (!columnsText) throw new Error(`${where}: missing '-- columns: <col> <type>, ...'`);
  const columns = columnsText.split(/,(?![^(]*\))/).map((part) => {
    const m = /^\s*([a-z][a-z0-9_]*)\s+(.+?)\s*$/.exec(part);
    if (!m)
      throw new Error(`${where}: bad column '${part.trim()}' in '-- columns:' (want '<name> <athena type>')`);
    return { name: m[1]!, type: m[2]!.toLowerCase() };
  });
  const sql = body.join('\n').trim().replace(/;\s*$/, '').trim();
  if (!/^(select|with)\b/i.test(sql.replace(/^(--.*\n\s*)*/, ''))) {
    throw new Error(`${where}: the body must be one SELECT (or WITH ... SELECT) statement`);
  }
  if (sql.includes(';')) throw new Error(`${where}: only one statement is allowed (found ';' inside)`);
  return { name, description, columns, sql, file };
}

/** All view definitions of a folder, sorted by name. */
export function loadViewDefinitions(dir: string = DEFAULT_VIEWS_DIR): ViewDefinition[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseViewFile(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}
