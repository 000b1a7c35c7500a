import type { Lakehouse, ResultCell } from '../lakehouse/index.ts';
import { rowObjects } from '../lakehouse/index.ts';

/** What the report draws, read from the lakehouse views (the same views Athena has). */
export interface ReportData {
  /** From `events_per_minute`. `minute` is 'YYYY-MM-DD HH:MM:SS' UTC. */
  readonly eventsPerMinute: readonly {
    readonly minute: string;
    readonly eventType: string;
    readonly count: number;
  }[];
  /** From `alerts_by_pattern_hourly`, summed over severities. */
  readonly alertsByHour: readonly {
    readonly hour: string;
    readonly pattern: string;
    readonly count: number;
  }[];
  /** From `merchant_revenue`, the top merchants by revenue. */
  readonly topMerchants: readonly {
    readonly merchantId: string;
    readonly revenueUsd: number;
    readonly transactions: number;
  }[];
  /** From `revenue_by_country_daily`, summed over days, by revenue. */
  readonly countries: readonly {
    readonly country: string;
    readonly revenueUsd: number;
    readonly transactions: number;
  }[];
  /** From `pipeline_quality`. */
  readonly quality: {
    readonly bronzeRows: number;
    readonly silverRows: number;
    readonly poisonRecords: number;
    readonly duplicateRecords: number;
    readonly lateEvents: number;
    readonly lateEventRows: number;
    readonly alertRows: number;
    readonly conservationOk: boolean;
  };
}

function num(cell: ResultCell | undefined): number {
  return typeof cell === 'number' ? cell : Number(cell ?? 0);
}

function str(cell: ResultCell | undefined): string {
  return cell === null || cell === undefined ? '' : String(cell);
}

/** Reads the report's data from the views of an open lakehouse. */
export async function loadReportData(
  lakehouse: Lakehouse,
  options: { topMerchants?: number } = {},
): Promise<ReportData> {
  const q = async (sql: string) => rowObjects(await lakehouse.query(sql));
  const perMinute = await q(
    'SELECT minute_start, event_type, sum(event_count) AS n FROM events_per_minute GROUP BY minute_start, event_type ORDER BY minute_start, event_type',
  );
  const alerts = await q(
    'SELECT alert_hour, pattern, sum(alert_count) AS n FROM alerts_by_pattern_hourly GROUP BY alert_hour, pattern ORDER BY alert_hour, pattern',
  );
  const merchants = await q(
    `SELECT merchant_id, revenue_usd, transactions FROM merchant_revenue ORDER BY revenue_usd DESC, merchant_id LIMIT ${Math.max(1, Math.floor(options.topMerchants ?? 10))}`,
  );
  const countries = await q(
    'SELECT country, sum(revenue_usd) AS revenue_usd, sum(transactions) AS transactions FROM revenue_by_country_daily GROUP BY country ORDER BY revenue_usd DESC, country',
  );
  const [quality] = await q('SELECT * FROM pipeline_quality');
  return {
    eventsPerMinute: perMinute.map((r) => ({
      minute: str(r.minute_start),
      eventType: str(r.event_type),
      count: num(r.n),
    })),
    alertsByHour: alerts.map((r) => ({ hour: str(r.alert_hour), pattern: str(r.pattern), count: num(r.n) })),
    topMerchants: merchants.map((r) => ({
      merchantId: str(r.merchant_id),
      revenueUsd: num(r.revenue_usd),
      transactions: num(r.transactions),
    })),
    countries: countries.map((r) => ({
      country: str(r.country),
      revenueUsd: num(r.revenue_usd),
      transactions: num(r.transactions),
    })),
    quality: {
      bronzeRows: num(quality?.bronze_rows),
      silverRows: num(quality?.silver_rows),
      poisonRecords: num(quality?.poison_records),
      duplicateRecords: num(quality?.duplicate_records),
      lateEvents: num(quality?.late_events),
      lateEventRows: num(quality?.late_event_rows),
      alertRows: num(quality?.alert_rows),
      conservationOk: quality?.conservation_ok === true,
    },
  };
}
