import { type ChartSpec, type Domain, QUALITY_CHART_ID } from '../core/index.ts';
import type { ChartData, ReportData } from './data.ts';
import { escapeHtml, formatNumber, horizontalBarChart, lineChart, PALETTE, stackedBarChart } from './svg.ts';

/** Run-level facts shown at the top of the report. */
export interface ReportSummary {
  /** @default 'Tidewater run report' */
  readonly title?: string;
  /** When the report was made (ISO 8601). */
  readonly generatedAt: string;
  /** Headline figures as tiles, in order, e.g. `{ label: 'events/s', value: 123456 }`. */
  readonly headline?: readonly { readonly label: string; readonly value: string | number }[];
}

/** The chart ids a report of `domain` contains, in page order (each an `<svg data-chart=ID>`). */
export function reportChartIds(domain: Pick<Domain, 'charts'>): string[] {
  return [...domain.charts.map((c) => c.id), QUALITY_CHART_ID];
}

/** 'YYYY-MM-DD HH:MM:SS' (UTC, as the lakehouse prints timestamps) to epoch ms. */
function parseUtc(text: string): number {
  return Date.parse(text.length === 10 ? `${text}T00:00:00Z` : `${text.replace(' ', 'T')}Z`);
}

function day(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function hhmm(t: number): string {
  return new Date(t).toISOString().slice(11, 16);
}

function dayHour(t: number): string {
  const iso = new Date(t).toISOString();
  return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
}

function money(n: number): string {
  return `$${formatNumber(n)}`;
}

function section(id: string, title: string, subtitle: string, content: string): string {
  return `<section class="card" id="${id}"><h2>${escapeHtml(title)}</h2><p class="sub">${escapeHtml(subtitle)}</p>${content}</section>`;
}

function formatValue(spec: ChartSpec, n: number): string {
  return spec.unit === 'usd' ? money(n) : formatNumber(n);
}

/** A time axis format that fits the points: days, hours, or minutes. */
function timeFormat(ts: readonly number[]): (t: number) => string {
  if (ts.every((t) => t % 86_400_000 === 0) && ts.length > 1) return day;
  if (ts.every((t) => t % 3_600_000 === 0)) return dayHour;
  return hhmm;
}

function chartSvg(chart: ChartData, index: number): string {
  const { spec, points } = chart;
  if (spec.type === 'bar') {
    return horizontalBarChart(
      spec.id,
      spec.title,
      points.map((p) => ({ label: p.label, value: p.value, note: formatValue(spec, p.value) })),
      PALETTE[(index + 2) % PALETTE.length],
    );
  }
  const timed = points.map((p) => ({ t: parseUtc(p.x), series: p.series, value: p.value }));
  const fmt = timeFormat(timed.map((p) => p.t));
  return spec.type === 'line'
    ? lineChart(spec.id, spec.title, timed, fmt)
    : stackedBarChart(spec.id, spec.title, timed, fmt);
}

const STYLE = `
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f9fafb}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 28px;background:#0f172a;color:#f8fafc}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#cbd5e1}
main{max-width:1180px;margin:0 auto;padding:20px;display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
.tiles{grid-column:1/-1;display:flex;flex-wrap:wrap;gap:12px}
.tile{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:130px}
.tile b{display:block;font-size:20px}.tile span{color:var(--muted);font-size:12px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0}
.card h2{margin:0;font-size:16px}.sub{margin:2px 0 8px;color:var(--muted);font-size:12px}
.chart-svg{width:100%;height:auto;display:block}
.grid{stroke:var(--line)}.tick{fill:var(--muted);font-size:11px}.value{fill:var(--fg);font-size:11px}.empty{fill:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px;color:var(--muted);margin-top:4px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
table{width:100%;border-collapse:collapse;margin-top:10px;font-size:13px}th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#15803d}.bad{color:#b91c1c}
`;

/**
 * One self-contained HTML page (inline CSS and SVG; no script, font or image from elsewhere): the
 * domain's charts (one per window definition, alerts by pattern, its enrichment outputs, then the
 * charts it declares) and the pipeline's poison / duplicate / late counts.
 */
export function renderReport(summary: ReportSummary, data: ReportData): string {
  const title = summary.title ?? 'Tidewater run report';
  const q = data.quality;
  // The run's own headline may already carry the layer counts: each label once.
  const given = summary.headline ?? [];
  const labels = new Set(given.map((t) => t.label));
  const tiles = [
    ...given,
    ...[
      { label: 'bronze rows', value: q.bronzeRows },
      { label: 'silver rows', value: q.silverRows },
      { label: 'alerts', value: q.alertRows },
    ].filter((t) => !labels.has(t.label)),
  ]
    .map(
      (t) =>
        `<div class="tile"><b>${escapeHtml(typeof t.value === 'number' ? formatNumber(t.value) : t.value)}</b><span>${escapeHtml(t.label)}</span></div>`,
    )
    .join('');
  const charts = data.charts
    .map((c, i) => section(c.spec.id, c.spec.title, c.spec.subtitle, chartSvg(c, i)))
    .join('\n');
  const quality = horizontalBarChart(
    QUALITY_CHART_ID,
    'Poison, duplicate and late counts',
    [
      { label: 'poison (dead-lettered)', value: q.poisonRecords },
      { label: 'duplicates', value: q.duplicateRecords },
      { label: 'late events', value: q.lateEvents },
      { label: 'late rows (per window)', value: q.lateEventRows },
    ],
    PALETTE[1],
  );
  const check = q.conservationOk
    ? `<p class="ok">bronze ${formatNumber(q.bronzeRows)} = silver ${formatNumber(q.silverRows)} + poison ${formatNumber(q.poisonRecords)} + duplicates ${formatNumber(q.duplicateRecords)} ✓</p>`
    : `<p class="bad">bronze ${formatNumber(q.bronzeRows)} ≠ silver ${formatNumber(q.silverRows)} + poison ${formatNumber(q.poisonRecords)} + duplicates ${formatNumber(q.duplicateRecords)}</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><p>generated ${escapeHtml(summary.generatedAt)} · all times UTC</p></header>
<main>
<div class="tiles">${tiles}</div>
${charts}
${section(QUALITY_CHART_ID, 'Data quality', 'Poison records go to the dead-letter sink; late events miss a window but still feed CEP.', quality + check)}
</main></body></html>
`;
}
