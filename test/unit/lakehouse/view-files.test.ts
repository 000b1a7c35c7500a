import { describe, expect, it } from 'vitest';
import { loadDomain } from '../../../functions/core/index.ts';
import {
  athenaToDuckdbType,
  athenaTypeOf,
  duckdbTypeOf,
  parseViewText,
} from '../../../functions/lakehouse/index.ts';

const GOOD = `-- view: my_view
-- description: Something useful.
-- columns: day date, n bigint, amount decimal(12, 2)
-- requires: events(event_date, amount)
-- a free comment after the header
SELECT event_date AS day, count(*) AS n, CAST(sum(amount) AS decimal(12, 2)) AS amount
FROM events
GROUP BY event_date;
`;

describe('view files (config/domains/<domain>/*.sql)', () => {
  it('parses the header and the SELECT without its semicolon', () => {
    // Act
    const view = parseViewText(GOOD, '/x/my_view.sql');

    // Assess
    expect(view.name).toBe('my_view');
    expect(view.description).toBe('Something useful.');
    expect(view.columns).toEqual([
      { name: 'day', type: 'date' },
      { name: 'n', type: 'bigint' },
      { name: 'amount', type: 'decimal(12, 2)' },
    ]);
    expect(view.requires).toEqual({ events: ['event_date', 'amount'] });
    expect(view.sql.endsWith('GROUP BY event_date')).toBe(true);
  });

  it.each([
    ['a missing view name', GOOD.replace('-- view: my_view\n', ''), /missing or bad '-- view/],
    ['a name that is not the file name', GOOD.replace('my_view', 'other_view'), /must match the file name/],
    ['a missing description', GOOD.replace(/-- description:.*\n/, ''), /missing '-- description/],
    ['missing columns', GOOD.replace(/-- columns:.*\n/, ''), /missing '-- columns/],
    ['missing requirements', GOOD.replace(/-- requires:.*\n/, ''), /missing '-- requires/],
    ['a bad requirement', GOOD.replace('events(event_date, amount)', 'events event_date'), /bad requirement/],
    ['a column without a type', GOOD.replace('n bigint', 'n'), /bad column 'n'/],
    ['two statements', `${GOOD}SELECT 1;`, /only one statement/],
    ['a body that is not a SELECT', GOOD.replace(/SELECT[\s\S]*$/, 'DROP TABLE events'), /one SELECT/],
  ])('rejects a file with %s', (_what, text, message) => {
    expect(() => parseViewText(text, '/x/my_view.sql')).toThrow(message);
  });

  it('maps Athena type names to the names DuckDB DESCRIBE shows', () => {
    expect(
      [
        'varchar',
        'varchar(10)',
        'string',
        'bigint',
        'integer',
        'int',
        'double',
        'boolean',
        'date',
        'timestamp',
      ].map(athenaToDuckdbType),
    ).toEqual([
      'VARCHAR',
      'VARCHAR',
      'VARCHAR',
      'BIGINT',
      'INTEGER',
      'INTEGER',
      'DOUBLE',
      'BOOLEAN',
      'DATE',
      'TIMESTAMP',
    ]);
    expect(athenaToDuckdbType('decimal(12, 2)')).toBe('DECIMAL(12,2)');
    expect(() => athenaToDuckdbType('map(varchar, bigint)')).toThrow(/no DuckDB mapping/);
  });

  it('maps every column type to a Glue type and a DuckDB type that name the same thing', () => {
    const types = ['string', 'int32', 'int64', 'double', 'boolean', 'timestamp_ms', 'date'] as const;
    expect(types.map((t) => athenaToDuckdbType(athenaTypeOf(t)))).toEqual(types.map(duckdbTypeOf));
  });

  // Constructs that only one of Trino (Athena) and DuckDB accepts, or that mean different things.
  const TRAPS: readonly (readonly [string, RegExp])[] = [
    ['DuckDB cast shorthand ::', /::/],
    ['GROUP BY ALL (DuckDB only)', /group\s+by\s+all/i],
    ['QUALIFY (DuckDB only)', /\bqualify\b/i],
    ['strftime/strptime (DuckDB only)', /\bstr[fp]time\s*\(/i],
    ['format_datetime/date_format (Trino only)', /\b(format_datetime|date_format)\s*\(/i],
    ['date_diff/datediff (boundaries vs whole units)', /\bdate_?diff\s*\(/i],
    ['json functions (different names)', /\bjson_\w+\s*\(/i],
    ['double-quoted string literal', /=\s*"[^"]*"/],
    ['ORDER BY or LIMIT inside a view', /\b(order\s+by|limit)\b/i],
    ['trailing comma before FROM', /,\s*from\b/i],
    ['count_if (not in older Trino)', /\bcount_if\s*\(/i],
    ['approx_count_distinct / approx_distinct (different names)', /\bapprox_\w*distinct\s*\(/i],
  ];

  it.each(
    ['payments', 'iot', 'shop'].flatMap((d) =>
      loadDomain(d).views.map((v) => [`${d}: ${v.name}`, v.sql] as const),
    ),
  )('%s avoids the Trino/DuckDB dialect traps', (_name, sql) => {
    // Prepare
    const code = sql
      .split('\n')
      .filter((l) => !l.trim().startsWith('--'))
      .join('\n');

    // Assess
    const found = TRAPS.filter(([, re]) => re.test(code)).map(([what]) => what);
    expect(found).toEqual([]);
  });
});
