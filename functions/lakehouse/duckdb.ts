import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type Json } from '@duckdb/node-api';
import type { Domain, ViewDefinition } from '../core/index.ts';
import type { TableSchema } from '../core/model.ts';
import { lakehouseTables } from './tables.ts';
import { duckdbTypeOf } from './types.ts';

/**
 * The lakehouse as SQL, in process: DuckDB views over the Parquet layers of a folder, one per table
 * (named by the table path's last segment), then the domain's views on top. Offline:
 * no extension is installed or downloaded; `extension_directory` lives in a cache folder.
 */

export interface LakehouseOptions {
  /** Lakehouse root folder (the `--out` of a run). Must exist. */
  readonly root: string;
  /**
   * The domain whose tables and views to expose (`tables` and `views` default to its own).
   * @default none: only `tables` and `views`
   */
  readonly domain?: Domain;
  /**
   * Tables with a known schema: always exposed, with exactly these column types (an empty view
   * when the table has no file yet). Other `<layer>/<table>/` folders holding Parquet files are
   * exposed too, typed from their files.
   * @default the domain's tables, else []
   */
  readonly tables?: readonly TableSchema[];
  /** SQL views to create on top of the tables. @default the domain's views, else none */
  readonly views?: readonly ViewDefinition[];
  /** Cache folder for DuckDB's extension directory. @default `$TIDEWATER_CACHE_DIR`, else `~/.cache/tidewater` */
  readonly cacheDir?: string;
}

/** The lakehouse folder does not exist (or is not a folder). */
export class LakehouseNotFoundError extends Error {
  constructor(root: string) {
    super(`lakehouse folder not found: ${root} (run 'tidewater run --out ${root}' first, or pass --out DIR)`);
    this.name = 'LakehouseNotFoundError';
  }
}

/**
 * The Parquet files of a table do not have the columns its schema says: the folder was written by
 * another domain (or another version of it).
 */
export class LakehouseSchemaError extends Error {
  constructor(path: string, detail: string) {
    super(
      `the files of ${path} do not match the domain's columns (${detail}); was this folder written with another --domain?`,
    );
    this.name = 'LakehouseSchemaError';
  }
}

/**
 * The marker a run leaves in its lakehouse folder, naming the domain that wrote it, so that
 * `tidewater query` picks the same tables and views by default.
 */
export const DOMAIN_MARKER = '.tidewater-domain.json';

/** Records which domain wrote a lakehouse folder (see {@link DOMAIN_MARKER}). */
export function writeDomainMarker(root: string, domain: string): void {
  writeFileSync(join(root, DOMAIN_MARKER), `${JSON.stringify({ domain })}\n`);
}

/** The domain that wrote a lakehouse folder, when a run left its marker there. */
export function readDomainMarker(root: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(root, DOMAIN_MARKER), 'utf8')) as { domain?: unknown };
    return typeof parsed.domain === 'string' ? parsed.domain : undefined;
  } catch {
    return undefined;
  }
}

/** DuckDB rejected a statement: the message is DuckDB's, on one line. */
export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/** A cell of a query result: JSON-safe; integers as numbers when exact, timestamps as 'YYYY-MM-DD HH:MM:SS[.fff]'. */
export type ResultCell = Json;

export interface QueryResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly ResultCell[])[];
}

export interface Relation {
  readonly name: string;
  readonly kind: 'table' | 'view';
  readonly description: string;
  /** Why a SQL view could not be created (e.g. a table it needs is missing). */
  readonly error?: string;
}

/** Result rows as objects keyed by column name. */
export function rowObjects(result: QueryResult): Record<string, ResultCell>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i] ?? null])));
}

const INTEGER_TYPES = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
]);

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** SQL name of a table: the last segment of its path. */
export function sqlName(schema: TableSchema): string {
  return schema.path.split('/').at(-1)!;
}

/** Glob of a table's Parquet files under the root. */
function filesGlob(root: string, path: string): string {
  return join(root, path, 'dt=*', 'hr=*', '*.parquet');
}

/** True when `<root>/<path>/dt=*\/hr=*\/` holds at least one Parquet file. */
function hasFiles(root: string, path: string): boolean {
  const dir = join(root, path);
  if (!existsSync(dir)) return false;
  for (const dt of readdirSync(dir)) {
    if (!dt.startsWith('dt=')) continue;
    const dtDir = join(dir, dt);
    if (!statSync(dtDir).isDirectory()) continue;
    for (const hr of readdirSync(dtDir)) {
      if (!hr.startsWith('hr=')) continue;
      const hrDir = join(dtDir, hr);
      if (statSync(hrDir).isDirectory() && readdirSync(hrDir).some((f) => f.endsWith('.parquet')))
        return true;
    }
  }
  return false;
}

/** `<layer>/<table>` folders of the root that hold Parquet files. */
function discoverTablePaths(root: string): string[] {
  const paths: string[] = [];
  for (const layer of readdirSync(root).sort()) {
    const layerDir = join(root, layer);
    if (layer.startsWith('.') || !statSync(layerDir).isDirectory()) continue;
    for (const table of readdirSync(layerDir).sort()) {
      if (statSync(join(layerDir, table)).isDirectory() && hasFiles(root, `${layer}/${table}`))
        paths.push(`${layer}/${table}`);
    }
  }
  return paths;
}

function readParquet(root: string, path: string): string {
  return `read_parquet(${quoteString(filesGlob(root, path))}, hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hr': VARCHAR}, union_by_name = true)`;
}

function defaultCacheDir(): string {
  return (
    process.env.TIDEWATER_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tidewater')
  );
}

export class Lakehouse {
  readonly root: string;
  private readonly instance: DuckDBInstance;
  private readonly conn: DuckDBConnection;
  private readonly relationList: Relation[] = [];

  private constructor(root: string, instance: DuckDBInstance, conn: DuckDBConnection) {
    this.root = root;
    this.instance = instance;
    this.conn = conn;
  }

  /** Opens the lakehouse folder; throws `LakehouseNotFoundError` when it is missing. */
  static async open(options: LakehouseOptions): Promise<Lakehouse> {
    const root = resolve(options.root);
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new LakehouseNotFoundError(options.root);
    const extensionDir = join(options.cacheDir ?? defaultCacheDir(), 'duckdb-extensions');
    mkdirSync(extensionDir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', {
      extension_directory: extensionDir,
      autoinstall_known_extensions: 'false',
    });
    const conn = await instance.connect();
    const lakehouse = new Lakehouse(root, instance, conn);
    try {
      await conn.run("SET TimeZone = 'UTC'");
      // Two Trino functions under their Athena names, so one view SQL runs on both engines:
      // percentiles (exact here, approximate on Athena) and epoch seconds as a double.
      await conn.run('CREATE MACRO approx_percentile(x, p) AS quantile_cont(x, p)');
      await conn.run('CREATE MACRO to_unixtime(t) AS epoch(t)');
      await lakehouse.createTableViews(
        options.tables ?? (options.domain ? lakehouseTables(options.domain) : []),
      );
      await lakehouse.createSqlViews(options.views ?? options.domain?.views ?? []);
    } catch (err) {
      lakehouse.close();
      throw err;
    }
    return lakehouse;
  }

  private async createTableViews(tables: readonly TableSchema[]): Promise<void> {
    const known = new Map<string, TableSchema>();
    for (const schema of tables) {
      const name = sqlName(schema);
      const other = known.get(name);
      if (other) throw new Error(`tables ${other.path} and ${schema.path} have the same SQL name '${name}'`);
      known.set(name, schema);
    }
    for (const [name, schema] of known) {
      const files = hasFiles(this.root, schema.path);
      const cols = schema.columns.map((c) => {
        const type = duckdbTypeOf(c.type);
        return files
          ? `CAST(${quoteIdent(c.name)} AS ${type}) AS ${quoteIdent(c.name)}`
          : `CAST(NULL AS ${type}) AS ${quoteIdent(c.name)}`;
      });
      const select = files
        ? `SELECT ${[...cols, 'dt', 'hr'].join(', ')} FROM ${readParquet(this.root, schema.path)}`
        : `SELECT ${[...cols, 'CAST(NULL AS VARCHAR) AS dt', 'CAST(NULL AS VARCHAR) AS hr'].join(', ')} WHERE false`;
      try {
        await this.conn.run(`CREATE VIEW ${quoteIdent(name)} AS ${select}`);
      } catch (err) {
        throw new LakehouseSchemaError(schema.path, oneLine((err as Error).message));
      }
      this.relationList.push({
        name,
        kind: 'table',
        description: `${schema.path}${files ? '' : ' (no files yet)'}`,
      });
    }
    for (const path of discoverTablePaths(this.root)) {
      const name = path.split('/').at(-1)!;
      if (known.has(name)) continue;
      // Typed from the files; UTC timestamps shown as TIMESTAMP (UTC wall clock), as Athena does.
      const described = await this.conn.runAndReadAll(
        `DESCRIBE SELECT * FROM ${readParquet(this.root, path)}`,
      );
      const replaces = described
        .getRowObjectsJson()
        .filter((r) => r.column_type === 'TIMESTAMP WITH TIME ZONE')
        .map(
          (r) =>
            `CAST(${quoteIdent(String(r.column_name))} AS TIMESTAMP) AS ${quoteIdent(String(r.column_name))}`,
        );
      const star = replaces.length > 0 ? `* REPLACE (${replaces.join(', ')})` : '*';
      await this.conn.run(
        `CREATE VIEW ${quoteIdent(name)} AS SELECT ${star} FROM ${readParquet(this.root, path)}`,
      );
      this.relationList.push({ name, kind: 'table', description: `${path} (typed from its files)` });
    }
  }

  /** Creates the SQL views, retrying those that depend on views not created yet. */
  private async createSqlViews(views: readonly ViewDefinition[]): Promise<void> {
    let pending = [...views];
    const errors = new Map<string, string>();
    while (pending.length > 0) {
      const failed: ViewDefinition[] = [];
      for (const view of pending) {
        try {
          await this.conn.run(`CREATE VIEW ${quoteIdent(view.name)} AS ${view.sql}`);
          errors.delete(view.name);
          this.relationList.push({ name: view.name, kind: 'view', description: view.description });
        } catch (err) {
          errors.set(view.name, oneLine((err as Error).message));
          failed.push(view);
        }
      }
      if (failed.length === pending.length) break;
      pending = failed;
    }
    for (const view of views) {
      const error = errors.get(view.name);
      if (error)
        this.relationList.push({ name: view.name, kind: 'view', description: view.description, error });
    }
  }

  /** Tables and views, tables first. */
  relations(): readonly Relation[] {
    return this.relationList;
  }

  /** Runs SQL; throws `QueryError` with DuckDB's message on one line when DuckDB rejects it. */
  async query(sql: string): Promise<QueryResult> {
    let reader: Awaited<ReturnType<DuckDBConnection['runAndReadAll']>>;
    try {
      reader = await this.conn.runAndReadAll(sql);
    } catch (err) {
      throw new QueryError(oneLine((err as Error).message));
    }
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const integer = types.map((t) => INTEGER_TYPES.has(t));
    const rows = reader.getRowsJson().map((row) =>
      row.map((cell, i) => {
        if (integer[i] && typeof cell === 'string') {
          const n = Number(cell);
          return Number.isSafeInteger(n) ? n : cell;
        }
        return cell;
      }),
    );
    return { columns: names.map((name, i) => ({ name, type: types[i]! })), rows };
  }

  /** Column names and DuckDB types of a table or view. */
  async describe(name: string): Promise<{ name: string; type: string }[]> {
    const result = await this.query(`DESCRIBE ${quoteIdent(name)}`);
    return rowObjects(result).map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
