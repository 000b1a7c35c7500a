import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable } from '../../../cli/commands/query.ts';
import { tidewaterWith } from '../../support/cli.ts';
import { writeFixtureLakehouse } from './fixture-lakehouse.ts';

describe('formatTable', () => {
  it('aligns columns, right-aligns numbers, shows NULL and counts the rows', () => {
    // Prepare
    const result = {
      columns: [
        { name: 'pattern', type: 'VARCHAR' },
        { name: 'n', type: 'BIGINT' },
        { name: 'avg', type: 'DOUBLE' },
      ],
      rows: [
        ['velocity_spike', 12, 0.30000000000000004],
        ['x', 3, null],
      ],
    };

    // Act
    const text = formatTable(result);

    // Assess
    expect(text.split('\n')).toEqual([
      'pattern          n   avg',
      '--------------  --  ----',
      'velocity_spike  12   0.3',
      'x                3  NULL',
      '(2 rows)',
    ]);
  });

  it('says how many rows it left out', () => {
    const result = { columns: [{ name: 'i', type: 'INTEGER' }], rows: [[1], [2], [3]] };
    expect(formatTable(result, 2).split('\n').at(-1)).toBe(
      '(2 of 3 rows shown; --max-rows N or --json for more)',
    );
  });
});

describe('tidewater query', () => {
  let root: string;

  beforeAll(async () => {
    root = await writeFixtureLakehouse();
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('prints a view as a table and as JSON', async () => {
    // Act
    const [table, json] = await Promise.all([
      tidewater('query', '--out', root, '--view', 'alerts_by_pattern_hourly'),
      tidewater('query', '--out', root, 'SELECT pattern, severity FROM alerts ORDER BY ts', '--json'),
    ]);

    // Assess
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^alert_hour +pattern +severity +alert_count +user_count\n/);
    expect(table.stdout).toContain('(3 rows)');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { pattern: 'velocity_spike', severity: 'HIGH' },
      { pattern: 'amount_anomaly', severity: 'MEDIUM' },
      { pattern: 'impossible_travel', severity: 'CRITICAL' },
    ]);
  });

  it('exits 2 with a one-line message and no stack trace for each user mistake', async () => {
    // Prepare
    const missing = join(mkdtempSync(join(tmpdir(), 'tw-q-')), 'nothing-here');

    // Act
    const outcomes = await Promise.all([
      tidewater('query', '--out', missing, '--view', 'pipeline_quality'),
      tidewater('query', '--out', root, 'SELEC 1'),
      tidewater('query', '--out', root, '--view', 'no_such_view'),
      tidewater('query', '--out', root),
      tidewater('query', '--out', root, '--domain', 'iot', '--list-views'),
    ]);

    // Assess
    const expected = [
      /^tidewater: lakehouse folder not found: .*nothing-here/,
      /^tidewater: SQL error: Parser Error: syntax error at or near "SELEC"/,
      /^tidewater: unknown view 'no_such_view' \(views: tumbling_1m_over_time, .*user_risk_profile;/,
      /^tidewater: give exactly one of "<SQL>", --view NAME or --list-views/,
      /^tidewater: the files of silver\/events do not match the domain's columns \(.*\); was this folder written with another --domain\?/,
    ];
    outcomes.forEach((o, i) => {
      expect(o.code).toBe(2);
      expect(o.stderr).toMatch(expected[i]!);
      expect(o.stderr.trim().split('\n')).toHaveLength(1);
      expect(o.stderr).not.toMatch(/\n\s+at /);
    });
  });
});

/** The CLI with a cache dir of this test's own. */
function tidewater(...args: string[]) {
  return tidewaterWith({ TIDEWATER_CACHE_DIR: join(tmpdir(), 'tw-query-cli-cache') }, ...args);
}
