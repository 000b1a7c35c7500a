/**
 * The CloudWatch dashboard body the CDK app synthesizes, drawn as one self-contained HTML page:
 * every widget of the body in its place on the 24-column grid, each metric widget a line chart of
 * its series (inline SVG, no script, no network), text widgets as text, alarm widgets with each
 * alarm's state. Pure: the series and alarm states come in (see `cli/dashboard/fetch.ts`).
 */

/** A widget of a dashboard body (the fields this renderer reads). */
export interface DashboardWidget {
  readonly type: string;
  readonly x?: number;
  readonly y?: number;
  readonly width?: number;
  readonly height?: number;
  readonly properties: {
    readonly title?: string;
    readonly markdown?: string;
    readonly metrics?: readonly (readonly unknown[])[];
    readonly annotations?: { readonly horizontal?: ReadonlyArray<{ value: number; label?: string }> };
    readonly alarms?: readonly string[];
    readonly period?: number;
    readonly stat?: string;
  };
}

export interface DashboardBody {
  readonly start?: string;
  readonly widgets: readonly DashboardWidget[];
}

export interface Series {
  readonly label: string;
  /** Epoch ms, ascending, one per value. */
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
}

export interface WidgetData {
  readonly series: readonly Series[];
  /** Why a series could not be read (an expression the emulator lacks, ...). */
  readonly notes?: readonly string[];
}

export interface AlarmState {
  readonly name: string;
  readonly state: string;
  readonly reason?: string;
}

export interface DashboardPage {
  readonly title: string;
  readonly body: DashboardBody;
  /** By widget index. */
  readonly data: ReadonlyMap<number, WidgetData>;
  /** By alarm ARN or name. */
  readonly alarms: ReadonlyMap<string, AlarmState>;
  readonly from: number;
  readonly to: number;
  readonly generatedAt: number;
}

const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(a < 10 ? 2 : 1);
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** One line chart: every series, the horizontal annotations, min/max and time labels. */
function chart(data: WidgetData, w: DashboardWidget, from: number, to: number): string {
  const W = 560;
  const H = 200;
  const pad = { l: 48, r: 8, t: 8, b: 22 };
  const lines = w.properties.annotations?.horizontal ?? [];
  const all = [...data.series.flatMap((s) => s.values), ...lines.map((a) => a.value)];
  const lo = Math.min(0, ...all);
  const hi = Math.max(1, ...all);
  const x = (t: number) => pad.l + ((t - from) / Math.max(1, to - from)) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - ((v - lo) / (hi - lo || 1)) * (H - pad.t - pad.b);
  const parts: string[] = [
    `<line class="axis" x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}"/>`,
    `<line class="axis" x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}"/>`,
    `<text x="${pad.l - 4}" y="${pad.t + 8}" text-anchor="end">${fmt(hi)}</text>`,
    `<text x="${pad.l - 4}" y="${H - pad.b}" text-anchor="end">${fmt(lo)}</text>`,
    `<text x="${pad.l}" y="${H - 6}">${time(from)}</text>`,
    `<text x="${W - pad.r}" y="${H - 6}" text-anchor="end">${time(to)} UTC</text>`,
  ];
  for (const a of lines) {
    parts.push(
      `<line class="annotation" x1="${pad.l}" x2="${W - pad.r}" y1="${y(a.value)}" y2="${y(a.value)}"/>`,
      `<text class="annotation" x="${W - pad.r - 2}" y="${y(a.value) - 3}" text-anchor="end">${escapeHtml(a.label ?? fmt(a.value))}</text>`,
    );
  }
  data.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.timestamps.map((t, k) => `${x(t).toFixed(1)},${y(s.values[k]!).toFixed(1)}`);
    if (pts.length > 1)
      parts.push(`<polyline class="series" fill="none" stroke="${color}" points="${pts.join(' ')}"/>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle class="point" cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
    }
  });
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(w.properties.title ?? 'chart')}">${parts.join('')}</svg>`;
}

function legend(data: WidgetData): string {
  if (data.series.length === 0) return '<p class="empty">no data points in this period</p>';
  return `<ul class="legend">${data.series
    .map((s, i) => {
      const last = s.values.at(-1);
      return `<li><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${escapeHtml(s.label)}: ${s.values.length} points${last === undefined ? '' : `, last ${fmt(last)}`}</li>`;
    })
    .join('')}</ul>`;
}

function markdown(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const h = /^(#{1,3})\s+(.*)$/.exec(line);
      return h ? `<h${h[1]!.length}>${escapeHtml(h[2]!)}</h${h[1]!.length}>` : `<p>${escapeHtml(line)}</p>`;
    })
    .join('');
}

/** The page. Each widget is a `section.widget` with `data-type` and, for metric widgets, `data-points`. */
export function renderDashboard(page: DashboardPage): string {
  const widgets = page.body.widgets.map((w, i) => {
    const style = `grid-column:${(w.x ?? 0) + 1} / span ${w.width ?? 6};grid-row:${(w.y ?? 0) + 1} / span ${w.height ?? 6}`;
    const title = w.properties.title === undefined ? '' : `<h2>${escapeHtml(w.properties.title)}</h2>`;
    if (w.type === 'text')
      return `<section class="widget text" data-type="text" style="${style}">${markdown(w.properties.markdown ?? '')}</section>`;
    if (w.type === 'alarm') {
      const rows = (w.properties.alarms ?? []).map((arn) => {
        const a = page.alarms.get(arn);
        const name = a?.name ?? arn.split(':').at(-1) ?? arn;
        const state = a?.state ?? 'UNKNOWN';
        return `<li class="alarm state-${escapeHtml(state.toLowerCase())}" data-state="${escapeHtml(state)}"><b>${escapeHtml(state)}</b> ${escapeHtml(name)}${a?.reason ? `<br><small>${escapeHtml(a.reason)}</small>` : ''}</li>`;
      });
      return `<section class="widget alarms" data-type="alarm" data-alarms="${rows.length}" style="${style}">${title}<ul>${rows.join('')}</ul></section>`;
    }
    const data = page.data.get(i) ?? { series: [] };
    const points = data.series.reduce((n, s) => n + s.values.length, 0);
    const notes = (data.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('');
    return `<section class="widget metric" data-type="${escapeHtml(w.type)}" data-points="${points}" data-series="${data.series.length}" style="${style}">${title}${chart(data, w, page.from, page.to)}${legend(data)}${notes}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{font:13px system-ui,sans-serif;margin:16px;background:#f4f6f8;color:#16191f}
header{margin-bottom:12px}
main{display:grid;grid-template-columns:repeat(24,1fr);grid-auto-rows:44px;gap:8px}
.widget{background:#fff;border:1px solid #d5dbdb;border-radius:4px;padding:8px;overflow:hidden}
.widget h2{font-size:14px;margin:0 0 4px}
svg{width:100%;height:auto;max-height:62%}
svg text{font-size:10px;fill:#545b64}
.axis{stroke:#aab7b8}
.annotation{stroke:#d13212;stroke-dasharray:4 3;fill:#d13212}
.series{stroke-width:1.5}
.legend{list-style:none;margin:4px 0 0;padding:0;font-size:11px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.empty,.note{color:#687078;font-size:11px;margin:2px 0}
.widget.alarms{overflow:auto}
.alarms ul{list-style:none;padding:0;margin:0;columns:2}
.alarm{padding:3px 6px;margin:2px 0;border-left:4px solid #aab7b8;break-inside:avoid}
.state-ok{border-color:#1d8102}.state-alarm{border-color:#d13212;background:#fdf3f1}
</style></head>
<body><header><h1>${escapeHtml(page.title)}</h1><p>The dashboard body the CDK app synthesizes, with data from the local stack's CloudWatch, ${new Date(page.from).toISOString()} to ${new Date(page.to).toISOString()} (generated ${new Date(page.generatedAt).toISOString()}).</p></header>
<main>${widgets.join('\n')}</main></body></html>
`;
}
