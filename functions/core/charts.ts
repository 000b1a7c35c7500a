/**
 * The charts of a domain's report (SPEC §8): generated from its window definitions, CEP patterns
 * and enrichment outputs, plus the charts the domain declares (`report.charts` in its YAML, e.g.
 * payments' revenue by country). Every chart reads one view of the domain; its columns are checked
 * when the domain loads. The report's data-quality section is not a chart spec: every domain has it.
 */
import type { Domain } from './domain.ts';
import { type ViewDefinition, windowViewName } from './views.ts';

export type ChartType = 'line' | 'stacked' | 'bar';

export interface ChartSpec {
  /** Unique in the report; the `data-chart` attribute of its SVG. */
  readonly id: string;
  readonly title: string;
  readonly subtitle: string;
  /** `line`: a line per series over `x`; `stacked`: stacked bars per `x`; `bar`: top `label`s by value. */
  readonly type: ChartType;
  readonly view: string;
  /** line/stacked: a timestamp (or date) column. */
  readonly x: string | null;
  /** line/stacked: the series column; null draws one series named after the value. */
  readonly series: string | null;
  /** bar: the label column. */
  readonly label: string | null;
  readonly value: string;
  /** How rows with the same x/series (or label) combine. @default sum */
  readonly aggregate: 'sum' | 'max';
  /** bar: how many labels (largest first); line/stacked: how many series (the rest are "other"). */
  readonly limit: number;
  readonly unit: 'count' | 'usd' | 'number';
  readonly origin: 'generated' | 'domain';
}

/** The id of the data-quality section's chart, last in every report. */
export const QUALITY_CHART_ID = 'quality';

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** The charts every domain gets, in page order: one per window definition, alerts, the geo enrichment. */
export function generatedCharts(domain: Domain): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const base = { aggregate: 'sum' as const, origin: 'generated' as const, unit: 'count' as const };
  for (const w of domain.windows) {
    const view = windowViewName(w);
    const counted = w.aggregates.includes('count');
    const value = counted ? 'event_count' : `${w.measure?.as}_${w.aggregates[0]}`;
    const what = counted ? 'events' : value;
    if (w.type === 'tumbling') {
      charts.push({
        ...base,
        id: `window-${w.name}`,
        title: `${what[0]!.toUpperCase()}${what.slice(1)} per ${durationText(w.sizeMs)} by ${w.groupBy}`,
        subtitle: `Window "${w.name}": ${durationText(w.sizeMs)} tumbling windows (${w.table}), the ${8} largest ${w.groupBy} values.`,
        type: 'line',
        view,
        x: 'window_start',
        series: w.groupBy,
        label: null,
        value,
        limit: 8,
        unit: counted ? 'count' : 'number',
      });
    } else if (w.type === 'sliding') {
      charts.push({
        ...base,
        id: `window-${w.name}`,
        title: `Busiest ${w.groupBy} in any ${durationText(w.sizeMs)} window`,
        subtitle: `Window "${w.name}": the most ${what} of a ${w.groupBy} in one ${durationText(w.sizeMs)} window sliding by ${durationText(w.slideMs)} (${w.table}).`,
        type: 'bar',
        view,
        x: null,
        series: null,
        label: w.groupBy,
        value,
        aggregate: 'max',
        limit: 10,
        unit: counted ? 'count' : 'number',
      });
    } else {
      charts.push({
        ...base,
        id: `window-${w.name}`,
        title: `Sessions started per minute (${w.name}, by ${w.groupBy})`,
        subtitle: `Window "${w.name}": sessions per ${w.groupBy} with a ${durationText(w.gapMs)} gap (${w.table}), by the minute they started.`,
        type: 'line',
        view,
        x: 'session_minute',
        series: null,
        label: null,
        value: 'sessions',
        limit: 1,
      });
    }
  }
  if (domain.cep) {
    charts.push({
      ...base,
      id: 'alerts-by-pattern',
      title: 'Alerts by pattern',
      subtitle: 'Alerts per UTC hour, stacked by CEP pattern (gold/alerts).',
      type: 'stacked',
      view: 'alerts_by_pattern_hourly',
      x: 'alert_hour',
      series: 'pattern',
      label: null,
      value: 'alert_count',
      limit: 8,
    });
  }
  const geo = domain.enrichment.geo;
  if (geo) {
    charts.push({
      ...base,
      id: `events-by-${geo.output}`,
      title: `Events by ${geo.output}`,
      subtitle: `${geo.output} from ${geo.latField}/${geo.lonField} (enrichment); unknown when the event has no location.`,
      type: 'bar',
      view: `events_by_${geo.output}`,
      x: null,
      series: null,
      label: geo.output,
      value: 'event_count',
      limit: 12,
    });
  }
  return charts;
}

/** What is wrong with a chart against the domain's views: one message per problem. */
export function chartProblems(chart: ChartSpec, views: readonly ViewDefinition[]): string[] {
  const view = views.find((v) => v.name === chart.view);
  if (!view)
    return [
      `chart "${chart.id}" reads view "${chart.view}", which this domain does not have (views: ${views.map((v) => v.name).join(', ')})`,
    ];
  const problems: string[] = [];
  const cols = view.columns.map((c) => c.name);
  const need: [string, string | null][] =
    chart.type === 'bar'
      ? [
          ['label', chart.label],
          ['value', chart.value],
        ]
      : [
          ['x', chart.x],
          ['series', chart.series],
          ['value', chart.value],
        ];
  for (const [key, col] of need) {
    if (col === null) {
      if (key === 'label' || key === 'x')
        problems.push(`chart "${chart.id}": a ${chart.type} chart needs "${key}" (a column of ${view.name})`);
      continue;
    }
    if (!cols.includes(col))
      problems.push(
        `chart "${chart.id}": ${key} "${col}" is not a column of view "${view.name}" (${cols.join(', ')})`,
      );
  }
  return problems;
}
