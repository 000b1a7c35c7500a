import type { ChartSpec, Domain } from '../core/index.ts';
import type { Lakehouse, ResultCell } from '../lakehouse/index.ts';
import { rowObjects } from '../lakehouse/index.ts';

/** One point of a chart: `x` ('YYYY-MM-DD[ HH:MM:SS]' UTC) and `series` for time charts, `label` for bars. */
export interface ChartPoint {
  readonly x: string;
  readonly series: string;
  readonly label: string;
  readonly value: number;
}

export interface ChartData {
  readonly spec: ChartSpec;
  readonly points: readonly ChartPoint[];
}

/** What the report draws, read from the domain's views (the same views Athena has). */
export interface ReportData {
  /** The domain's name. */
  readonly domain: string;
  /** One per chart of the domain (`Domain.charts`), in page order. */
  readonly charts: readonly ChartData[];
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

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The SQL behind one chart: DuckDB only (the report runs there); the view is the shared part. */
export function chartSql(spec: ChartSpec): string {
  const view = ident(spec.view);
  const value = `${spec.aggregate}(${ident(spec.value)})`;
  if (spec.type === 'bar') {
    const label = `COALESCE(CAST(${ident(spec.label ?? spec.value)} AS VARCHAR), 'unknown')`;
    return `SELECT ${label} AS label, ${value} AS v FROM ${view} GROUP BY 1 HAVING ${value} IS NOT NULL ORDER BY v DESC, label LIMIT ${spec.limit}`;
  }
  const x = `CAST(${ident(spec.x ?? spec.value)} AS VARCHAR)`;
  if (spec.series === null)
    return `SELECT ${x} AS x, '${spec.value}' AS series, ${value} AS v FROM ${view} WHERE ${ident(spec.x ?? spec.value)} IS NOT NULL GROUP BY 1 ORDER BY 1`;
  const series = `COALESCE(CAST(${ident(spec.series)} AS VARCHAR), 'unknown')`;
  return `WITH top AS (SELECT ${series} AS s FROM ${view} GROUP BY 1 ORDER BY sum(${ident(spec.value)}) DESC NULLS LAST, 1 LIMIT ${spec.limit})
SELECT ${x} AS x, CASE WHEN ${series} IN (SELECT s FROM top) THEN ${series} ELSE 'other' END AS series, ${value} AS v
FROM ${view} WHERE ${ident(spec.x ?? spec.value)} IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`;
}

/** Reads the report's data from the views of an open lakehouse of `domain`. */
export async function loadReportData(lakehouse: Lakehouse, domain: Domain): Promise<ReportData> {
  const q = async (sql: string) => rowObjects(await lakehouse.query(sql));
  const charts: ChartData[] = [];
  for (const spec of domain.charts) {
    const rows = await q(chartSql(spec));
    charts.push({
      spec,
      points: rows.map((r) => ({
        x: str(r.x),
        series: str(r.series),
        label: str(r.label),
        value: num(r.v),
      })),
    });
  }
  const [quality] = await q('SELECT * FROM pipeline_quality');
  return {
    domain: domain.name,
    charts,
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
