import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DomainConfigError, loadDomain } from '../../functions/core/index.ts';
import {
  Lakehouse,
  LakehouseNotFoundError,
  LakehouseSchemaError,
  QueryError,
  type QueryResult,
  type Relation,
  type ResultCell,
  readDomainMarker,
  rowObjects,
} from '../../functions/lakehouse/index.ts';
import { UserError } from '../errors.ts';

/**
 * `tidewater query "<SQL>"` or `tidewater query --view NAME`: SQL over the lakehouse layers of a
 * folder with DuckDB, the same views as Athena (the domain's views: generated from its YAML, plus those it declares). Exit codes: 0 ok, 2 a user
 * mistake (missing folder, bad SQL, unknown view, bad flags).
 */

interface QueryOptions {
  readonly view?: string;
  readonly out: string;
  readonly json?: boolean;
  readonly listViews?: boolean;
  readonly domain?: string;
  readonly maxRows: string;
}

const MAX_CELL = 60;

function cellText(cell: ResultCell | undefined): string {
  if (cell === null || cell === undefined) return 'NULL';
  if (typeof cell === 'number')
    return Number.isInteger(cell) ? String(cell) : String(Number(cell.toPrecision(12)));
  const text = typeof cell === 'string' ? cell : JSON.stringify(cell);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT|FLOAT|DOUBLE|DECIMAL)/;

/** The result as an aligned text table (numbers right-aligned), with a row count line. */
export function formatTable(result: QueryResult, maxRows = Number.POSITIVE_INFINITY): string {
  const shown = result.rows.slice(0, maxRows);
  const header = result.columns.map((c) => c.name);
  const right = result.columns.map((c) => NUMERIC.test(c.type));
  const body = shown.map((row) => result.columns.map((_, i) => cellText(row[i])));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const n = result.rows.length;
  const count =
    shown.length < n
      ? `(${shown.length} of ${n} rows shown; --max-rows N or --json for more)`
      : `(${n} row${n === 1 ? '' : 's'})`;
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), count].join('\n');
}

function formatRelations(relations: readonly Relation[]): string {
  const width = Math.max(...relations.map((r) => r.name.length), 4);
  return relations
    .map(
      (r) =>
        `${r.kind.padEnd(5)}  ${r.name.padEnd(width)}  ${r.error ? `BROKEN: ${r.error}` : r.description}`,
    )
    .join('\n');
}

async function runQuery(sql: string | undefined, options: QueryOptions): Promise<void> {
  const modes = [sql !== undefined, options.view !== undefined, options.listViews === true].filter(
    Boolean,
  ).length;
  if (modes !== 1) throw new UserError('give exactly one of "<SQL>", --view NAME or --list-views');
  const maxRows = Number(options.maxRows);
  if (!Number.isInteger(maxRows) || maxRows < 1)
    throw new UserError(`--max-rows must be a positive integer, got '${options.maxRows}'`);
  let domain: ReturnType<typeof loadDomain>;
  try {
    domain = loadDomain(options.domain ?? readDomainMarker(resolve(options.out)) ?? 'payments');
  } catch (err) {
    if (err instanceof DomainConfigError) throw new UserError(err.message);
    throw err;
  }
  let lakehouse: Lakehouse;
  try {
    lakehouse = await Lakehouse.open({ root: resolve(options.out), domain });
  } catch (err) {
    if (err instanceof LakehouseNotFoundError || err instanceof LakehouseSchemaError)
      throw new UserError(err.message);
    throw err;
  }
  try {
    const relations = lakehouse.relations();
    if (options.listViews) {
      if (options.json) process.stdout.write(`${JSON.stringify(relations, null, 2)}\n`);
      else process.stdout.write(`${formatRelations(relations)}\n`);
      return;
    }
    let statement = sql ?? '';
    if (options.view !== undefined) {
      const view = relations.find((r) => r.name === options.view);
      if (!view) {
        const names = relations.filter((r) => r.kind === 'view').map((r) => r.name);
        throw new UserError(
          `unknown view '${options.view}' (views: ${names.join(', ')}; --list-views shows all)`,
        );
      }
      if (view.error) throw new UserError(`view '${view.name}' is broken: ${view.error}`);
      statement = `SELECT * FROM "${view.name}"`;
    }
    let result: QueryResult;
    try {
      result = await lakehouse.query(statement);
    } catch (err) {
      if (err instanceof QueryError) throw new UserError(`SQL error: ${err.message}`);
      throw err;
    }
    if (options.json) process.stdout.write(`${JSON.stringify(rowObjects(result))}\n`);
    else process.stdout.write(`${formatTable(result, maxRows)}\n`);
  } finally {
    lakehouse.close();
  }
}

export function register(program: Command): void {
  program
    .command('query')
    .description('run SQL or an Athena view over the lakehouse layers with DuckDB')
    .argument(
      '[sql]',
      'a SQL statement; tables and views by SQL name (events, alerts, user_risk_profile, ...)',
    )
    .option('--view <name>', 'select everything from one view of the domain')
    .option('--list-views', 'list the tables and views')
    .option('--out <dir>', 'lakehouse folder (the --out of tidewater run)', './lakehouse')
    .option('--json', 'print rows as a JSON array of objects')
    .option(
      '--domain <name>',
      'domain whose tables and views to use (default: the one that wrote the folder, else payments)',
    )
    .option('--max-rows <n>', 'rows to print in the table output', '1000')
    .addHelpText(
      'after',
      '\nExamples:\n  tidewater query --list-views\n  tidewater query --view alerts_by_pattern_hourly\n  tidewater query "SELECT pattern, count(*) FROM alerts GROUP BY pattern" --json',
    )
    .action(async (sql: string | undefined, options: QueryOptions) => {
      await runQuery(sql, options);
    });
}
