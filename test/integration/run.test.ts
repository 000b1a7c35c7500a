/**
 * End to end: `tidewater run` as a child process (Node 22 from node_modules/.bin, like `npm start`)
 * over a JSONL fixture, then the lakehouse checked with DuckDB: every SPEC §2 table with exactly
 * its columns and Parquet types, conservation of row counts, dead letters, and every view through
 * `tidewater query --view`. Also the CLI's error paths and exit codes. Needs no service.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnType, generateEvents, loadDomain } from '../../functions/core/index.ts';
import { Lakehouse, lakehouseTables, rowObjects } from '../../functions/lakehouse/index.ts';
import { type Cli, tidewater } from '../support/cli.ts';

const domain = loadDomain('payments');
/** Anomaly scenarios often enough that 3000 events raise alerts of every pattern. */
const SCENARIOS = {
  velocity_spike: 0.05,
  amount_anomaly: 0.05,
  impossible_travel: 0.05,
  rapid_fire_burst: 0.05,
  merchant_diversity: 0.05,
};

/** Parquet physical type and logical-type marker DuckDB's parquet_schema() shows for each column type. */
const PARQUET_TYPE: Record<ColumnType, readonly [string, RegExp]> = {
  string: ['BYTE_ARRAY', /String/],
  int32: ['INT32', /^$|Integer|NULL/],
  int64: ['INT64', /^$|Integer|NULL/],
  double: ['DOUBLE', /^$|NULL/],
  boolean: ['BOOLEAN', /^$|NULL/],
  timestamp_ms: ['INT64', /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS/],
  date: ['INT32', /Date/],
};

let dir: string;
let input: string;
let out: string;
let run: Cli;
let summary: Record<string, unknown>;
let records: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-run-e2e-'));
  input = join(dir, 'events.jsonl');
  out = join(dir, 'lake');
  const lines = [
    ...generateEvents(domain, 3000, {
      seed: 11,
      anomalies: SCENARIOS,
      poisonRate: 0.01,
      duplicateRate: 0.01,
    }),
  ].map((r) => r.value);
  // Hand-made edge cases: epoch-ms time, a non-object, a blank line (not a record), invalid UTF-8.
  lines.push(
    JSON.stringify({
      event_id: 'edge-1',
      event_type: 'login',
      user_id: 'u-edge',
      ts: Date.UTC(2026, 10, 2, 9),
    }),
    '[1,2,3]',
    '',
  );
  const text = Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.from([0x7b, 0xff, 0x7d, 0x0a])]);
  writeFileSync(input, text);
  records = lines.filter((l) => l !== '').length + 1;
  run = await tidewater(
    'run',
    '--input',
    input,
    '--out',
    out,
    '--json',
    '--report',
    join(out, 'report.html'),
  );
  summary = JSON.parse(run.stdout) as Record<string, unknown>;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('tidewater run --input FILE --out DIR', () => {
  it('exits 0 with a JSON summary whose conservation check holds', () => {
    // Prepare, Act: in beforeAll
    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(summary).toMatchObject({ ok: true, produced: records, blankLines: 1 });
    expect(summary['conservation']).toMatchObject({ ok: true, bronze: records, unaccounted: 0 });
  });

  it('writes every SPEC §2 table with exactly its columns and Parquet types', async () => {
    // Prepare
    const lake = await Lakehouse.open({ root: out, tables: lakehouseTables(domain) });
    try {
      for (const table of lakehouseTables(domain)) {
        const files = readdirSync(join(out, table.path), { recursive: true }).map(String);
        const file = files.find((f) => f.endsWith('.parquet'));
        expect(file, `${table.path} has a Parquet file`).toBeDefined();
        expect(file).toMatch(/^dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/raw-events-0-\d+-\d+\.parquet$/);
        // Act
        const cols = rowObjects(
          await lake.query(
            `SELECT name, type, coalesce(logical_type, '') AS logical FROM parquet_schema('${join(out, table.path, file!)}') WHERE name <> 'arrow_schema'`,
          ),
        );
        // Assess
        expect(
          cols.map((c) => c['name']),
          table.path,
        ).toEqual(table.columns.map((c) => c.name));
        for (const [i, spec] of table.columns.entries()) {
          const [physical, logical] = PARQUET_TYPE[spec.type];
          expect(cols[i]!['type'], `${table.path}.${spec.name}`).toBe(physical);
          expect(String(cols[i]!['logical']), `${table.path}.${spec.name}`).toMatch(logical);
        }
      }
    } finally {
      lake.close();
    }
  });

  it('conserves rows across layers: bronze = silver + dead-lettered + duplicates', async () => {
    // Prepare
    const lake = await Lakehouse.open({ root: out, tables: lakehouseTables(domain) });
    try {
      // Act
      const [counts] = rowObjects(
        await lake.query(
          'SELECT (SELECT count(*) FROM raw_events) AS bronze, (SELECT count(*) FROM events) AS silver, (SELECT sum(poison) FROM batch_quality) AS poison, (SELECT sum(duplicates) FROM batch_quality) AS dups, (SELECT count(DISTINCT event_id) FROM events) AS ids',
        ),
      );
      const letters = readdirSync(join(out, '_deadletter')).flatMap((f) =>
        readFileSync(join(out, '_deadletter', f), 'utf8')
          .trim()
          .split('\n'),
      );
      // Assess
      expect(counts!['bronze']).toBe(records);
      expect(Number(counts!['silver']) + Number(counts!['poison']) + Number(counts!['dups'])).toBe(records);
      expect(counts!['ids']).toBe(counts!['silver']);
      expect(letters).toHaveLength(Number(counts!['poison']));
      expect(letters.map((l) => JSON.parse(l).reason.code)).toEqual(
        expect.arrayContaining(['not_an_object', 'invalid_utf8']),
      );
    } finally {
      lake.close();
    }
  });

  it('answers every view with tidewater query --view', async () => {
    // Prepare
    const views = loadDomain('payments').views.map((v) => v.name);
    // Act
    const answers = await Promise.all(
      views.map((v) => tidewater('query', '--out', out, '--view', v, '--json')),
    );
    // Assess
    for (const [i, a] of answers.entries()) {
      expect(a.code, `${views[i]}: ${a.stderr}`).toBe(0);
      expect(JSON.parse(a.stdout), views[i]).toBeInstanceOf(Array);
    }
    const quality = JSON.parse(answers[views.indexOf('pipeline_quality')]!.stdout)[0];
    expect(quality).toMatchObject({ bronze_rows: records, conservation_ok: true, unaccounted_records: 0 });
  });

  it('writes the HTML report', () => {
    // Prepare
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    // Act
    const charts = html.match(/data-chart="/g) ?? [];
    // Assess
    expect(html).toMatch(/^<!doctype html>/i);
    expect(charts.length).toBeGreaterThanOrEqual(5);
  });

  it('replaces the layers of an earlier run in the same folder instead of adding to them', async () => {
    // Prepare: the first run is in beforeAll
    // Act
    const again = await tidewater('run', '--input', input, '--out', out, '--json');
    // Assess
    expect(again.code, again.stderr).toBe(0);
    const lake = await Lakehouse.open({ root: out, tables: lakehouseTables(domain) });
    try {
      const [row] = rowObjects(await lake.query('SELECT count(*) AS n FROM raw_events'));
      expect(row!['n']).toBe(records);
    } finally {
      lake.close();
    }
  });
});

describe('tidewater run errors', () => {
  it('fails with exit code 2 and one line, no stack trace, for a missing input file', async () => {
    // Prepare
    const missing = join(dir, 'nope.jsonl');
    // Act
    const r = await tidewater('run', '--input', missing, '--out', join(dir, 'x'));
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tidewater: input file not found: ${missing}\n`);
  });

  it('fails with exit code 2 for an output folder that cannot be written', async () => {
    // Prepare: a file where the folder should be
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, 'not a folder');
    // Act
    const r = await tidewater('run', '--generate', '10', '--out', join(blocked, 'lake'));
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^tidewater: cannot write to output folder .*blocked\/lake: a file is in the way/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a report path that is a folder before running, in one line', async () => {
    // Prepare
    const folder = mkdtempSync(join(dir, 'report-'));
    // Act
    const r = await tidewater('run', '--generate', '10', '--out', join(dir, 'r'), '--report', folder);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `tidewater: cannot write the report to ${folder}: it is a folder (give a file, e.g. ${join(folder, 'report.html')})\n`,
    );
  });

  it('writes the report of another domain than payments (its charts follow the domain)', async () => {
    // Prepare: the iot domain has no merchant or amount columns; its report has charts of its own.
    const out = join(dir, 'iot');
    const report = join(dir, 'iot.html');
    // Act
    const r = await tidewater(
      'run',
      '--generate',
      '300',
      '--domain',
      'iot',
      '--out',
      out,
      '--report',
      report,
      '--json',
    );
    // Assess
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, domain: 'iot', report });
    expect(readFileSync(report, 'utf8')).toContain('<svg');
    expect(readdirSync(join(out, 'silver', 'events')).length).toBeGreaterThan(0);
  });

  it('names the stacks it knows when --stack is something else', async () => {
    // Prepare, Act
    const r = await tidewater('run', '--generate', '10', '--stack', 'aws');
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--stack must be 'embedded' or 'local', got 'aws'");
  });

  it('says --pollers is for --stack local, and wants a positive count there', async () => {
    // Prepare, Act
    const embedded = await tidewater('run', '--generate', '10', '--out', join(dir, 'p'), '--pollers', '3');
    const zero = await tidewater('run', '--generate', '10', '--stack', 'local', '--pollers', '0');
    // Assess
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toBe(
      'tidewater: --pollers applies to --stack local (the event source mappings)\n',
    );
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe("tidewater: --pollers must be a positive integer, got '0'\n");
  });

  it('asks for exactly one of --input and --generate', async () => {
    // Prepare, Act
    const r = await tidewater('run', '--out', join(dir, 'y'));
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tidewater: give exactly one of --input FILE or --generate N\n');
  });

  it('documents the options and exit codes in --help', async () => {
    // Prepare, Act
    const r = await tidewater('run', '--help');
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--input <file>');
    expect(r.stdout).toContain('Exit codes: 0 ok; 2');
  });
});
