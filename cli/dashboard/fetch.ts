import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { type DeployedState, resolveValue } from '../../localstack/esm/deploy.ts';
import type { CfnValue } from '../../localstack/esm/template.ts';
import type { AlarmState, DashboardBody, DashboardWidget, Series, WidgetData } from './render.ts';

/**
 * The data of a synthesized dashboard body from a CloudWatch (the local stack's emulator): each
 * metric row of a widget becomes a `GetMetricData` query with the row's statistic and period; the
 * two kinds of expression the app's dashboard uses are evaluated here, because the emulator has no
 * metric math: `SEARCH('{Namespace,Dim,...} MetricName="X" k="v"', 'Stat', period)` through
 * `ListMetrics` (one series per metric found), and arithmetic over the widget's hidden metrics
 * (`r + w`, `c / 300`).
 */

interface Manifest {
  readonly artifacts?: Record<
    string,
    { type?: string; properties?: { templateFile?: string; stackName?: string } }
  >;
}

/** The dashboard body of a stage's observability stack in a cloud assembly, tokens unresolved. */
export function synthesizedDashboard(assemblyDir: string): { stackName: string; body: CfnValue } {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as Manifest;
  for (const a of Object.values(manifest.artifacts ?? {})) {
    const file = a.properties?.templateFile;
    if (a.type !== 'aws:cloudformation:stack' || file === undefined) continue;
    const template = JSON.parse(readFileSync(join(assemblyDir, file), 'utf8')) as {
      Resources?: Record<string, { Type: string; Properties?: { DashboardBody?: CfnValue } }>;
    };
    for (const r of Object.values(template.Resources ?? {})) {
      if (r.Type === 'AWS::CloudWatch::Dashboard' && r.Properties?.DashboardBody !== undefined)
        return { stackName: a.properties?.stackName ?? file, body: r.Properties.DashboardBody };
    }
  }
  throw new Error(`no AWS::CloudWatch::Dashboard in the assembly ${assemblyDir}`);
}

/** The body with its tokens (function names, queue names, region...) resolved against the deployed stacks. */
export function resolveDashboard(body: CfnValue, stackName: string, state: DeployedState): DashboardBody {
  return JSON.parse(resolveValue(body, stackName, state)) as DashboardBody;
}

type Row = readonly unknown[];
interface RowOptions {
  readonly label?: string;
  readonly stat?: string;
  readonly id?: string;
  readonly visible?: boolean;
  readonly period?: number;
  readonly expression?: string;
}

function optionsOf(row: Row): RowOptions {
  const last = row.at(-1);
  return typeof last === 'object' && last !== null ? (last as RowOptions) : {};
}

/** Evaluates `a + b`, `c / 300`... over series aligned by timestamp (+ - * / and numbers, left to right, * and / first). */
export function evaluateArithmetic(
  expression: string,
  byId: ReadonlyMap<string, Series>,
): Series | undefined {
  const tokens = expression.match(/[A-Za-z_]\w*|\d+(?:\.\d+)?|[-+*/]/g) ?? [];
  if (tokens.length === 0 || tokens.join('') !== expression.replace(/\s+/g, '')) return undefined;
  const stamps = new Set<number>();
  for (const t of tokens) for (const ts of byId.get(t)?.timestamps ?? []) stamps.add(ts);
  const timestamps = [...stamps].sort((a, b) => a - b);
  const at = (t: string, ts: number): number => {
    if (/^\d/.test(t)) return Number(t);
    const s = byId.get(t);
    if (s === undefined) return Number.NaN;
    const k = s.timestamps.indexOf(ts);
    return k < 0 ? 0 : s.values[k]!;
  };
  const values = timestamps.map((ts) => {
    // terms separated by + and -, each a product/quotient of factors
    let total = 0;
    let sign = 1;
    let term = at(tokens[0]!, ts);
    for (let i = 1; i < tokens.length; i += 2) {
      const op = tokens[i]!;
      const v = at(tokens[i + 1] ?? '', ts);
      if (op === '*') term *= v;
      else if (op === '/') term /= v;
      else {
        total += sign * term;
        sign = op === '-' ? -1 : 1;
        term = v;
      }
    }
    return total + sign * term;
  });
  return { label: '', timestamps, values };
}

const SEARCH_RE = /^SEARCH\('\{([^}]*)\}\s*(.*?)',\s*'(\w+)',\s*(\d+)\)$/;

async function metricSeries(
  cw: CloudWatchClient,
  queries: ReadonlyArray<{ query: MetricDataQuery; label: string }>,
  from: number,
  to: number,
): Promise<Series[]> {
  if (queries.length === 0) return [];
  const r = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(from),
      EndTime: new Date(to),
      MetricDataQueries: queries.map((q) => q.query),
    }),
  );
  return queries.map((q) => {
    const res = r.MetricDataResults?.find((m) => m.Id === q.query.Id);
    const pairs = (res?.Timestamps ?? [])
      .map((t, k) => [new Date(t).getTime(), res?.Values?.[k] ?? Number.NaN] as const)
      .filter(([, v]) => Number.isFinite(v))
      .sort((a, b) => a[0] - b[0]);
    return { label: q.label, timestamps: pairs.map(([t]) => t), values: pairs.map(([, v]) => v) };
  });
}

/** The series of one metric widget between `from` and `to`. */
export async function widgetData(
  cw: CloudWatchClient,
  w: DashboardWidget,
  from: number,
  to: number,
): Promise<WidgetData> {
  const rows = w.properties.metrics ?? [];
  const notes: string[] = [];
  const plain: Array<{ query: MetricDataQuery; label: string; id: string; visible: boolean }> = [];
  rows.forEach((row, i) => {
    const o = optionsOf(row);
    if (o.expression !== undefined) return;
    const names = row.filter((c) => typeof c === 'string') as string[];
    const [namespace, metricName, ...dims] = names;
    const dimensions: Array<{ Name: string; Value: string }> = [];
    for (let k = 0; k + 1 < dims.length; k += 2) dimensions.push({ Name: dims[k]!, Value: dims[k + 1]! });
    const id = o.id ?? `m${i}`;
    plain.push({
      id,
      visible: o.visible !== false,
      label: o.label ?? `${metricName} ${dimensions.map((d) => d.Value).join(' ')}`.trim(),
      query: {
        Id: `q${i}`,
        MetricStat: {
          Metric: { Namespace: namespace, MetricName: metricName, Dimensions: dimensions },
          Period: o.period ?? w.properties.period ?? 300,
          Stat: o.stat ?? w.properties.stat ?? 'Average',
        },
      },
    });
  });
  const got = await metricSeries(cw, plain, from, to);
  const byId = new Map(plain.map((p, k) => [p.id, got[k]!]));
  const series: Series[] = plain.filter((p) => p.visible).map((p) => byId.get(p.id)!);
  for (const row of rows) {
    const o = optionsOf(row);
    if (o.expression === undefined) continue;
    const search = SEARCH_RE.exec(o.expression);
    if (search !== null) {
      const [namespace, ...dimNames] = search[1]!.split(',').map((s) => s.trim());
      const filters = [...search[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const);
      const metricName = filters.find(([k]) => k === 'MetricName')?.[1];
      const fixed = filters.filter(([k]) => k !== 'MetricName');
      const listed = await cw.send(
        new ListMetricsCommand({
          Namespace: namespace,
          ...(metricName === undefined ? {} : { MetricName: metricName }),
          Dimensions: fixed.map(([Name, Value]) => ({ Name, Value })),
        }),
      );
      const found = (listed.Metrics ?? []).filter(
        (m) =>
          (m.Dimensions ?? []).length === dimNames.length &&
          (m.Dimensions ?? []).every((d) => dimNames.includes(d.Name ?? '')),
      );
      const free = dimNames.filter((d) => !fixed.some(([k]) => k === d));
      series.push(
        ...(await metricSeries(
          cw,
          found.map((m, k) => ({
            label: free.map((d) => m.Dimensions?.find((x) => x.Name === d)?.Value ?? '').join(' '),
            query: {
              Id: `s${k}`,
              MetricStat: { Metric: m, Period: Number(search[4]), Stat: search[3]! },
            },
          })),
          from,
          to,
        )),
      );
      continue;
    }
    const math = evaluateArithmetic(o.expression, byId);
    if (math !== undefined) series.push({ ...math, label: o.label ?? o.expression });
    else notes.push(`expression not drawn here (no metric math locally): ${o.expression}`);
  }
  return { series, ...(notes.length > 0 ? { notes } : {}) };
}

/** The state of each alarm named by ARN (or name) in the body's alarm widgets. */
export async function alarmStates(
  cw: CloudWatchClient,
  arns: readonly string[],
): Promise<Map<string, AlarmState>> {
  const out = new Map<string, AlarmState>();
  if (arns.length === 0) return out;
  const r = await cw.send(new DescribeAlarmsCommand({}));
  for (const a of r.MetricAlarms ?? []) {
    const state: AlarmState = {
      name: a.AlarmName ?? '',
      state: a.StateValue ?? 'UNKNOWN',
      ...(a.StateReason ? { reason: a.StateReason } : {}),
    };
    for (const key of arns) if (key === a.AlarmArn || key.endsWith(`:${a.AlarmName}`)) out.set(key, state);
  }
  return out;
}
