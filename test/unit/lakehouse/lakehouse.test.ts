import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalFolderObjectStore } from '../../../functions/adapters/embedded/local-object-store.ts';
import { writeTable } from '../../../functions/adapters/parquet/index.ts';
import type { TableSchema } from '../../../functions/core/model.ts';
import {
  Lakehouse,
  LakehouseNotFoundError,
  QueryError,
  rowObjects,
} from '../../../functions/lakehouse/index.ts';
import { SILVER_ROWS, SOURCE, T0 } from './fixture-lakehouse.ts';
import { PAYMENTS } from './fixtures.ts';

const opened: Lakehouse[] = [];
const folders: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tw-lh-'));
  folders.push(dir);
  return dir;
}

async function open(root: string, tables: readonly TableSchema[] = [PAYMENTS.silver]): Promise<Lakehouse> {
  const lakehouse = await Lakehouse.open({ root, tables, views: [], cacheDir: join(root, '.cache') });
  opened.push(lakehouse);
  return lakehouse;
}

afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  for (const d of folders.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Lakehouse (DuckDB over a lakehouse folder)', () => {
  it('refuses a folder that does not exist', async () => {
    // Prepare
    const missing = join(tempDir(), 'nope');

    // Act + Assess
    await expect(Lakehouse.open({ root: missing, views: [] })).rejects.toThrow(LakehouseNotFoundError);
    await expect(Lakehouse.open({ root: missing, views: [] })).rejects.toThrow(
      /lakehouse folder not found: .*nope/,
    );
  });

  it('exposes a table with no file yet as an empty view with the schema types and string dt/hr', async () => {
    // Prepare
    const lakehouse = await open(tempDir(), [PAYMENTS.alerts]);

    // Act
    const columns = await lakehouse.describe('alerts');
    const count = rowObjects(await lakehouse.query('SELECT count(*) AS n FROM alerts'));

    // Assess
    expect(columns).toEqual([
      { name: 'alert_id', type: 'VARCHAR' },
      { name: 'pattern', type: 'VARCHAR' },
      { name: 'severity', type: 'VARCHAR' },
      { name: 'user_id', type: 'VARCHAR' },
      { name: 'event_id', type: 'VARCHAR' },
      { name: 'ts', type: 'TIMESTAMP' },
      { name: 'details', type: 'VARCHAR' },
      { name: 'detected_at', type: 'TIMESTAMP' },
      { name: 'processed_at', type: 'TIMESTAMP' },
      { name: 'dt', type: 'VARCHAR' },
      { name: 'hr', type: 'VARCHAR' },
    ]);
    expect(count).toEqual([{ n: 0 }]);
    expect(lakehouse.relations()).toContainEqual(expect.objectContaining({ name: 'alerts', kind: 'table' }));
  });

  it('reads Parquet timestamps as UTC wall-clock TIMESTAMPs and the partition columns as strings', async () => {
    // Prepare
    const root = tempDir();
    await writeTable(new LocalFolderObjectStore(root), PAYMENTS.silver, SILVER_ROWS, SOURCE);
    const lakehouse = await open(root);

    // Act
    const [row] = rowObjects(
      await lakehouse.query(
        "SELECT ts, event_date, event_hour, dt, hr, typeof(ts) AS t, typeof(hr) AS h FROM events WHERE event_id = 'e6'",
      ),
    );

    // Assess
    expect(row).toEqual({
      ts: '2026-01-15 11:01:00',
      event_date: '2026-01-15',
      event_hour: 11,
      dt: '2026-01-15',
      hr: '11',
      t: 'TIMESTAMP',
      h: 'VARCHAR',
    });
    expect(T0).toBe(Date.UTC(2026, 0, 15, 10));
  });

  it('also exposes table folders it has no schema for, typed from their files', async () => {
    // Prepare
    const root = tempDir();
    await writeTable(new LocalFolderObjectStore(root), PAYMENTS.silver, SILVER_ROWS, SOURCE);

    // Act
    const lakehouse = await open(root, []);
    const columns = await lakehouse.describe('events');

    // Assess
    expect(columns.find((c) => c.name === 'ts')).toEqual({ name: 'ts', type: 'TIMESTAMP' });
    expect(rowObjects(await lakehouse.query('SELECT count(*) AS n FROM events'))).toEqual([
      { n: SILVER_ROWS.length },
    ]);
  });

  it("rejects bad SQL with DuckDB's message on one line", async () => {
    // Prepare
    const lakehouse = await open(tempDir());

    // Act
    const bad = lakehouse.query('SELECT nope FROM\nevents');

    // Assess
    await expect(bad).rejects.toThrow(QueryError);
    await expect(bad).rejects.toThrow(/^Binder Error: [^\n]*nope[^\n]*$/);
  });

  it('keeps DuckDB extensions in the cache folder it is given, not in the home folder', async () => {
    // Prepare
    const root = tempDir();
    mkdirSync(join(root, 'cache'));

    // Act
    const lakehouse = await Lakehouse.open({ root, views: [], cacheDir: join(root, 'cache') });
    opened.push(lakehouse);
    const [setting] = rowObjects(
      await lakehouse.query("SELECT current_setting('extension_directory') AS dir"),
    );

    // Assess
    expect(setting!.dir).toBe(join(root, 'cache', 'duckdb-extensions'));
    expect(existsSync(join(root, 'cache', 'duckdb-extensions'))).toBe(true);
  });

  it('lists a SQL view that cannot be created as broken, with the reason, and creates the rest', async () => {
    // Prepare
    const root = tempDir();
    const views = [
      {
        name: 'needs_missing',
        description: 'x',
        columns: [],
        sql: 'SELECT * FROM no_such_table',
        requires: {},
        source: 'needs_missing.sql',
        origin: 'domain' as const,
      },
      {
        name: 'on_top',
        description: 'y',
        columns: [],
        sql: 'SELECT count(*) AS n FROM base_view',
        requires: {},
        source: 'on_top.sql',
        origin: 'domain' as const,
      },
      {
        name: 'base_view',
        description: 'z',
        columns: [],
        sql: 'SELECT 1 AS one',
        requires: {},
        source: 'base_view.sql',
        origin: 'domain' as const,
      },
    ];

    // Act
    const lakehouse = await Lakehouse.open({ root, views, cacheDir: join(root, '.cache') });
    opened.push(lakehouse);

    // Assess
    const byName = new Map(lakehouse.relations().map((r) => [r.name, r]));
    expect(byName.get('needs_missing')?.error).toMatch(/no_such_table/);
    expect(byName.get('on_top')?.error).toBeUndefined();
    expect(rowObjects(await lakehouse.query('SELECT n FROM on_top'))).toEqual([{ n: 1 }]);
  });
});
