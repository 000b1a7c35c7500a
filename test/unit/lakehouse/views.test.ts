import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDomain } from '../../../functions/core/index.ts';
import { athenaToDuckdbType, Lakehouse, rowObjects } from '../../../functions/lakehouse/index.ts';
import { SILVER_ROWS, SOURCE, writeFixtureLakehouse } from './fixture-lakehouse.ts';

const domain = loadDomain('payments');
const views = domain.views;

describe('SQL views on DuckDB over a fixture lakehouse', () => {
  let root: string;
  let lakehouse: Lakehouse;

  beforeAll(async () => {
    root = await writeFixtureLakehouse();
    lakehouse = await Lakehouse.open({ root, domain });
  });

  afterAll(() => {
    lakehouse?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('has the generated views and the ones payments declares', () => {
    // Assess
    expect(views.map((v) => v.name)).toEqual(
      expect.arrayContaining([
        'alerts_by_pattern_hourly',
        'revenue_by_country_daily',
        'user_risk_profile',
        'pipeline_quality',
        'merchant_revenue',
        'tumbling_1m_over_time',
        'sliding_5m_over_time',
        'sessions_over_time',
        'events_by_country',
      ]),
    );
  });

  it.each(
    views.map((v) => [v.name, v] as const),
  )('%s has exactly the columns its header declares (the Glue view is built from them)', async (name, view) => {
    // Act
    const described = await lakehouse.describe(name);

    // Assess
    expect(described.map((c) => c.name)).toEqual(view.columns.map((c) => c.name));
    expect(described.map((c) => c.type)).toEqual(view.columns.map((c) => athenaToDuckdbType(c.type)));
  });

  it('pipeline_quality reports the layers and holds the conservation check of the fixture', async () => {
    // Act
    const [row] = rowObjects(await lakehouse.query('SELECT * FROM pipeline_quality'));

    // Assess
    const bronze = SOURCE.lastOffset - SOURCE.firstOffset + 1;
    expect(row).toMatchObject({
      bronze_rows: bronze,
      silver_rows: SILVER_ROWS.length,
      poison_records: 1,
      duplicate_records: 1,
      unaccounted_records: bronze - SILVER_ROWS.length - 2,
      conservation_ok: bronze === SILVER_ROWS.length + 2,
    });
  });

  it('alerts_by_pattern_hourly counts each alert once, by pattern and severity', async () => {
    // Act
    const rows = rowObjects(
      await lakehouse.query(
        'SELECT pattern, severity, sum(alert_count) AS n FROM alerts_by_pattern_hourly GROUP BY 1, 2 ORDER BY 1',
      ),
    );

    // Assess
    expect(rows).toEqual([
      { pattern: 'amount_anomaly', severity: 'MEDIUM', n: 1 },
      { pattern: 'impossible_travel', severity: 'CRITICAL', n: 1 },
      { pattern: 'velocity_spike', severity: 'HIGH', n: 1 },
    ]);
  });

  it('user_risk_profile scores 10 per CRITICAL, 5 per HIGH and 2 per MEDIUM alert', async () => {
    // Act
    const rows = rowObjects(
      await lakehouse.query(
        "SELECT user_id, risk_score FROM user_risk_profile WHERE user_id IN ('u1', 'u2') ORDER BY user_id",
      ),
    );

    // Assess
    expect(rows).toEqual([
      { user_id: 'u1', risk_score: 15 },
      { user_id: 'u2', risk_score: 2 },
    ]);
  });

  it('revenue_by_country_daily adds up to the silver amount in USD', async () => {
    // Prepare
    const silverUsd = SILVER_ROWS.reduce(
      (sum, r) => sum + (typeof r.amount_usd === 'number' ? r.amount_usd : 0),
      0,
    );
    const [col] = views
      .find((v) => v.name === 'revenue_by_country_daily')!
      .columns.filter((c) => /revenue|amount/.test(c.name));

    // Act
    const [row] = rowObjects(
      await lakehouse.query(`SELECT sum(${col!.name}) AS total FROM revenue_by_country_daily`),
    );

    // Assess
    expect(Number(row?.total)).toBeCloseTo(silverUsd, 6);
  });

  it('freshness gives event-to-silver and event-to-alert latency per processing hour', async () => {
    // Act
    const rows = rowObjects(
      await lakehouse.query(
        `SELECT strftime(processing_hour, '%H') AS hour, silver_rows, p50_event_to_silver_ms,
                max_event_to_silver_ms, alert_rows, p50_event_to_alert_ms, max_event_to_alert_ms
         FROM freshness ORDER BY processing_hour`,
      ),
    );

    // Assess: hour 10 holds 5 silver rows at 1.5 s and the alerts at 2 and 4 s; hour 11 three
    // silver rows, one of them 2 minutes late, and the alert at 3 s.
    expect(rows).toEqual([
      {
        hour: '10',
        silver_rows: 5,
        p50_event_to_silver_ms: 1_500,
        max_event_to_silver_ms: 1_500,
        alert_rows: 2,
        p50_event_to_alert_ms: 3_000,
        max_event_to_alert_ms: 4_000,
      },
      {
        hour: '11',
        silver_rows: 3,
        p50_event_to_silver_ms: 1_500,
        max_event_to_silver_ms: 120_000,
        alert_rows: 1,
        p50_event_to_alert_ms: 3_000,
        max_event_to_alert_ms: 3_000,
      },
    ]);
  });
});
