/**
 * Small inline-SVG charts for the HTML report: no script, no external resource. Every data mark
 * carries `class="mark"` and a `<title>` tooltip, so a browser test can count what was drawn.
 */

export const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#d97706',
  '#7c3aed',
  '#0891b2',
  '#db2777',
  '#4b5563',
];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A rounded, human number: 1234567 -> "1.23M", 0.5 -> "0.5". */
export function formatNumber(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toPrecision(3)}B`;
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(3)));
}

/** About `count` round tick values from 0 to at least `max`. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

const W = 720;
const H = 260;
const M = { top: 12, right: 16, bottom: 36, left: 56 };

function frame(id: string, label: string, body: string, width = W, height = H): string {
  return `<svg class="chart-svg" data-chart="${escapeHtml(id)}" role="img" aria-label="${escapeHtml(label)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" preserveAspectRatio="xMidYMid meet">${body}</svg>`;
}

function empty(id: string, label: string): string {
  return frame(
    id,
    label,
    `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">no data</text>`,
    W,
    80,
  );
}

function yAxis(ticks: readonly number[], y: (v: number) => number, x0: number, x1: number): string {
  return ticks
    .map(
      (t) =>
        `<line class="grid" x1="${x0}" x2="${x1}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/><text class="tick" x="${x0 - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${formatNumber(t)}</text>`,
    )
    .join('');
}

function legend(names: readonly string[], colors: (name: string) => string): string {
  return `<div class="legend">${names.map((n) => `<span><i style="background:${colors(n)}"></i>${escapeHtml(n)}</span>`).join('')}</div>`;
}

/** Evenly spaced time labels along the x axis. */
function timeLabels(min: number, max: number, x: (t: number) => number, fmt: (t: number) => string): string {
  const n = max > min ? 5 : 1;
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const t = n === 1 ? min : min + ((max - min) * k) / (n - 1);
    const anchor = n === 1 ? 'middle' : k === 0 ? 'start' : k === n - 1 ? 'end' : 'middle';
    out.push(
      `<text class="tick" x="${x(t).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="${anchor}">${escapeHtml(fmt(t))}</text>`,
    );
  }
  return out.join('');
}

export interface TimePoint {
  readonly t: number;
  readonly series: string;
  readonly value: number;
}

export function colorMap(names: readonly string[]): (name: string) => string {
  const index = new Map(names.map((n, i) => [n, PALETTE[i % PALETTE.length]!]));
  return (name) => index.get(name) ?? PALETTE[0]!;
}

/** One line per series over time; a dot per point when there are few points. */
export function lineChart(
  id: string,
  label: string,
  points: readonly TimePoint[],
  fmt: (t: number) => string,
): string {
  if (points.length === 0) return empty(id, label);
  const names = [...new Set(points.map((p) => p.series))].sort();
  const color = colorMap(names);
  const tMin = Math.min(...points.map((p) => p.t));
  const tMax = Math.max(...points.map((p) => p.t));
  const ticks = niceTicks(Math.max(...points.map((p) => p.value)));
  const top = ticks.at(-1)!;
  const x = (t: number) =>
    tMax === tMin
      ? (M.left + W - M.right) / 2
      : M.left + ((t - tMin) / (tMax - tMin)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / top) * (H - M.top - M.bottom);
  const marks = names
    .map((name) => {
      const pts = points.filter((p) => p.series === name).sort((a, b) => a.t - b.t);
      const d = pts
        .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`)
        .join('');
      const total = pts.reduce((s, p) => s + p.value, 0);
      const tip = `<title>${escapeHtml(name)}: ${formatNumber(total)} in ${pts.length} points</title>`;
      const path =
        pts.length > 1
          ? `<path class="mark" d="${d}" fill="none" stroke="${color(name)}" stroke-width="1.8" stroke-linejoin="round">${tip}</path>`
          : '';
      const dots =
        pts.length <= 60 || pts.length === 1
          ? pts
              .map(
                (p) =>
                  `<circle class="${pts.length > 1 ? 'dot' : 'mark'}" cx="${x(p.t).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5" fill="${color(name)}"><title>${escapeHtml(`${name} ${fmt(p.t)}: ${formatNumber(p.value)}`)}</title></circle>`,
              )
              .join('')
          : '';
      return path + dots;
    })
    .join('');
  const body = yAxis(ticks, y, M.left, W - M.right) + timeLabels(tMin, tMax, x, fmt) + marks;
  return frame(id, label, body) + legend(names, color);
}

/** Stacked bars over time buckets (one bar per distinct `t`), one color per series. */
export function stackedBarChart(
  id: string,
  label: string,
  points: readonly TimePoint[],
  fmt: (t: number) => string,
): string {
  if (points.length === 0) return empty(id, label);
  const names = [...new Set(points.map((p) => p.series))].sort();
  const color = colorMap(names);
  const buckets = [...new Set(points.map((p) => p.t))].sort((a, b) => a - b);
  const totals = buckets.map((t) => points.filter((p) => p.t === t).reduce((s, p) => s + p.value, 0));
  const ticks = niceTicks(Math.max(...totals));
  const top = ticks.at(-1)!;
  const plotW = W - M.left - M.right;
  const band = plotW / buckets.length;
  const barW = Math.max(1, Math.min(48, band * 0.8));
  const y = (v: number) => H - M.bottom - (v / top) * (H - M.top - M.bottom);
  const marks: string[] = [];
  buckets.forEach((t, i) => {
    let acc = 0;
    const x0 = M.left + i * band + (band - barW) / 2;
    for (const name of names) {
      const v = points.filter((p) => p.t === t && p.series === name).reduce((s, p) => s + p.value, 0);
      if (v <= 0) continue;
      const y1 = y(acc + v);
      const h = Math.max(1, y(acc) - y1);
      marks.push(
        `<rect class="mark" x="${x0.toFixed(1)}" y="${y1.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${color(name)}"><title>${escapeHtml(`${fmt(t)} ${name}: ${formatNumber(v)}`)}</title></rect>`,
      );
      acc += v;
    }
  });
  // A label under each bar, or under five evenly spaced bars when there are many.
  const step = buckets.length <= 8 ? 1 : Math.ceil(buckets.length / 5);
  const labels = buckets
    .map((t, i) =>
      i % step === 0
        ? `<text class="tick" x="${(M.left + i * band + band / 2).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${escapeHtml(fmt(t))}</text>`
        : '',
    )
    .join('');
  const body = yAxis(ticks, y, M.left, W - M.right) + labels + marks.join('');
  return frame(id, label, body) + legend(names, color);
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Text after the bar; defaults to the formatted value. */
  readonly note?: string;
}

/** Horizontal bars, one per item, in the given order. */
export function horizontalBarChart(
  id: string,
  label: string,
  bars: readonly Bar[],
  color = PALETTE[0]!,
): string {
  if (bars.length === 0) return empty(id, label);
  const row = 24;
  const left = 150;
  const right = 110;
  const height = bars.length * row + 8;
  const max = Math.max(...bars.map((b) => b.value), 0) || 1;
  const marks = bars
    .map((b, i) => {
      const w = b.value > 0 ? Math.max(2, (b.value / max) * (W - left - right)) : 0;
      const y = 4 + i * row;
      const text = b.note ?? formatNumber(b.value);
      return (
        `<text class="tick" x="${left - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(b.label.length > 22 ? `${b.label.slice(0, 21)}…` : b.label)}</text>` +
        (w > 0
          ? `<rect class="mark" x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 8}" rx="2" fill="${color}"><title>${escapeHtml(`${b.label}: ${text}`)}</title></rect>`
          : '') +
        `<text class="value" x="${(left + w + 6).toFixed(1)}" y="${y + 16}">${escapeHtml(text)}</text>`
      );
    })
    .join('');
  return frame(id, label, marks, W, height);
}
