import { describe, expect, it } from 'vitest';
import {
  DomainConfigError,
  type DomainFileReader,
  loadDomain,
  parseDomainObject,
} from '../../../functions/core/index.ts';
import { testDomainConfig } from './helpers.ts';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a DomainConfigError');
}

const VIEW = `-- view: spend
-- description: Spend per user.
-- columns: user varchar, spend double
-- requires: events(user, amount)
SELECT user, sum(amount) AS spend FROM events GROUP BY user
`;

function files(map: Record<string, string>): DomainFileReader {
  return {
    read: (path) => {
      const text = map[path];
      if (text === undefined) throw new Error(`cannot read view file ${path}`);
      return { text, path: `unit/${path}` };
    },
  };
}

describe('views of a domain', () => {
  it('generates a view per window, alerts by pattern, pipeline quality, freshness, and no geo view without geo enrichment', () => {
    // Act
    const domain = parseDomainObject(testDomainConfig(), 'unit.yaml');

    // Assess
    expect(domain.views.map((v) => [v.name, v.origin])).toEqual([
      ['tumbling_10s_over_time', 'generated'],
      ['sliding_10s_over_time', 'generated'],
      ['sessions_over_time', 'generated'],
      ['alerts_by_pattern_hourly', 'generated'],
      ['pipeline_quality', 'generated'],
      ['freshness', 'generated'],
    ]);
    // Freshness reads the domain's own event-time field and the processing-time columns.
    expect(domain.views.find((v) => v.name === 'freshness')?.requires).toEqual({
      events: [domain.eventTimeField, 'processed_at'],
      alerts: ['ts', 'detected_at'],
    });
    expect(domain.views.find((v) => v.name === 'alerts_by_pattern_hourly')?.sql).toContain(
      'count(DISTINCT user) AS user_count',
    );
    expect(domain.views.find((v) => v.name === 'pipeline_quality')?.columns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['window_tumbling_10s_rows', 'window_sliding_10s_rows', 'sessions_rows']),
    );
  });

  it('names the view and the missing column when a view needs a column the domain lacks', () => {
    // Prepare: the view reads `amount`, which this domain calls `x`
    const config = { ...testDomainConfig(), views: ['spend.sql'] };

    // Act
    const problems = problemsOf(() => parseDomainObject(config, 'unit.yaml', files({ 'spend.sql': VIEW })));

    // Assess
    expect(problems).toEqual([
      expect.stringMatching(
        /^views\[0\]: view "spend" needs column "amount" of "events", which this domain does not have \(events: id, type, user, ts, g, x, /,
      ),
    ]);
  });

  it('accepts the same view once the domain has the column', () => {
    // Prepare
    const config = { ...testDomainConfig(), views: ['spend.sql'] };
    const fixed = VIEW.replace('events(user, amount)', 'events(user, x)').replace('sum(amount)', 'sum(x)');

    // Act
    const domain = parseDomainObject(config, 'unit.yaml', files({ 'spend.sql': fixed }));

    // Assess
    expect(domain.views.at(-1)).toMatchObject({
      name: 'spend',
      origin: 'domain',
      requires: { events: ['user', 'x'] },
    });
  });

  it('checks inline views and the tables they read, with the key path of each', () => {
    // Prepare
    const config = {
      ...testDomainConfig(),
      views: [
        {
          name: 'ok_view',
          description: 'fine',
          columns: { n: 'bigint' },
          requires: { alerts: ['pattern'] },
          sql: 'SELECT count(*) AS n FROM alerts',
        },
        {
          name: 'bad_table',
          description: 'reads a table this domain does not have',
          columns: { n: 'bigint' },
          requires: { window_tumbling_1m: ['event_count'] },
          sql: 'SELECT sum(event_count) AS n FROM window_tumbling_1m',
        },
        {
          name: 'pipeline_quality',
          description: 'clashes with a generated view',
          columns: { n: 'bigint' },
          sql: 'SELECT 1 AS n',
        },
      ],
    };

    // Act
    const problems = problemsOf(() => parseDomainObject(config, 'unit.yaml'));

    // Assess
    expect(problems).toEqual([
      expect.stringMatching(
        /^views\[1\]: view "bad_table" reads table "window_tumbling_1m", which this domain does not have/,
      ),
      'views[2]: view "pipeline_quality" is generated for every domain; give yours another name',
    ]);
  });

  it('refuses a chart whose column is not in its view, naming the chart and the column', () => {
    // Prepare
    const config = {
      ...testDomainConfig(),
      report: {
        charts: [
          {
            id: 'by-g',
            title: 'by g',
            type: 'bar',
            view: 'tumbling_10s_over_time',
            label: 'g',
            value: 'revenue',
          },
          {
            id: 'nowhere',
            title: 'x',
            type: 'line',
            view: 'no_view',
            x: 'window_start',
            value: 'event_count',
          },
        ],
      },
    };

    // Act
    const problems = problemsOf(() => parseDomainObject(config, 'unit.yaml'));

    // Assess
    expect(problems).toEqual([
      expect.stringMatching(
        /^report\.charts\[0\]: chart "by-g": value "revenue" is not a column of view "tumbling_10s_over_time"/,
      ),
      expect.stringMatching(
        /^report\.charts\[1\]: chart "nowhere" reads view "no_view", which this domain does not have/,
      ),
    ]);
  });

  it('gives payments its own views and charts, and none of them to iot or shop', () => {
    // Act
    const [payments, iot, shop] = ['payments', 'iot', 'shop'].map((d) => loadDomain(d));

    // Assess
    const declared = (d: typeof payments) => d!.views.filter((v) => v.origin === 'domain').map((v) => v.name);
    expect(declared(payments)).toEqual([
      'events_per_minute',
      'merchant_revenue',
      'revenue_by_country_daily',
      'user_risk_profile',
    ]);
    expect(declared(iot)).toEqual(['device_status']);
    expect(declared(shop)).toEqual(['funnel_conversion', 'top_products', 'funnel_steps']);
    expect(payments!.charts.map((c) => c.id)).toEqual(expect.arrayContaining(['top-merchants', 'countries']));
    expect(iot!.charts.map((c) => c.id)).not.toContain('top-merchants');
    expect(shop!.charts.map((c) => c.id)).not.toContain('events-by-country');
  });
});
