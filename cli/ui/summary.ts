import type { RunResult } from '../../functions/pipeline/index.ts';
import { formatCount, formatDuration, formatRate } from './progress.ts';

/** Everything the end-of-run summary shows. */
export interface RunSummary {
  readonly result: RunResult;
  /** e.g. `generator (200000 payments events, seed 1)`, `file events.jsonl`. */
  readonly source: string;
  readonly domain: string;
  readonly stack: 'embedded' | 'local';
  /** The lakehouse folder as the user gave it. */
  readonly out: string;
  readonly deadLetterDir: string;
  readonly report?: string;
  /** Blank lines skipped in a JSONL input. */
  readonly blankLines?: number;
  /** Peak resident memory of the process, bytes. */
  readonly peakRssBytes?: number;
  /** CPU time (user + system, all threads) of the pipeline, ms. */
  readonly cpuMs?: number;
}

function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

function table(rows: ReadonlyArray<readonly [string, string]>, indent = '  '): string[] {
  const w = Math.max(0, ...rows.map(([k]) => k.length));
  const v = Math.max(0, ...rows.map(([, x]) => x.length));
  return rows.map(([k, x]) => `${indent}${k.padEnd(w)}  ${x.padStart(v)}`);
}

const LAYER_ORDER = ['bronze/', 'silver/', 'gold/', 'ops/'];

/** The human-readable summary printed on stdout at the end of `tidewater run`. */
export function formatRunSummary(s: RunSummary): string {
  const r = s.result;
  const c = r.conservation;
  const lines: string[] = [];
  const rate = r.elapsedMs > 0 ? (r.produced * 1000) / r.elapsedMs : 0;
  lines.push(`Tidewater run (${s.stack}, domain ${s.domain}) from ${s.source}`);
  lines.push(
    `  ${formatCount(r.produced)} events in ${formatDuration(r.elapsedMs)}: ${formatRate(rate)}, ${formatCount(r.batches)} batches${s.peakRssBytes ? `, peak memory ${mb(s.peakRssBytes)}` : ''}`,
  );
  lines.push('', `Rows per layer (${s.out})`);
  const tables = Object.entries(r.rowsByTable).sort(([a], [b]) => {
    const la = LAYER_ORDER.findIndex((p) => a.startsWith(p));
    const lb = LAYER_ORDER.findIndex((p) => b.startsWith(p));
    return la - lb || a.localeCompare(b);
  });
  lines.push(...table(tables.map(([t, n]) => [t, formatCount(n)])));
  lines.push(`  ${formatCount(r.objects)} Parquet files, ${mb(r.bytes)}`);

  lines.push('', 'Quality');
  const poison = Object.entries(r.poisonByCode)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code, n]) => `${code} ${formatCount(n)}`)
    .join(', ');
  const quality: Array<[string, string]> = [
    ['poison (dead-lettered)', formatCount(r.deadLettered)],
    ['duplicates (event_id)', formatCount(r.duplicates)],
    ['late events', formatCount(r.lateEvents)],
  ];
  lines.push(...table(quality));
  // A run on the local stack knows the dead-lettered count, not the reasons (they are in the queue).
  if (r.deadLettered > 0 && poison !== '') lines.push(`  poison reasons: ${poison}`);
  if (r.deadLettered > 0) lines.push(`  dead letters: ${s.deadLetterDir}`);
  if (r.lateEvents > 0)
    lines.push(`  late events missed ${formatCount(r.lateRows)} windows (gold/late_events)`);
  if (s.blankLines) lines.push(`  blank input lines skipped: ${formatCount(s.blankLines)}`);

  lines.push('', `Alerts by pattern (${formatCount(r.alerts)})`);
  const alerts = Object.entries(r.alertsByPattern).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (alerts.length === 0) lines.push('  none');
  else lines.push(...table(alerts.map(([p, n]) => [p, formatCount(n)])));

  lines.push('', `Conservation (SPEC §1): ${c.ok ? 'OK' : 'FAILED'}`);
  lines.push(
    `  produced ${formatCount(c.produced)} ${c.producedEqualsBronze ? '=' : '!='} bronze ${formatCount(c.bronze)}`,
    `  bronze ${formatCount(c.bronze)} ${c.bronzeAccountedFor ? '=' : '!='} silver ${formatCount(c.silver)} + dead-lettered ${formatCount(c.deadLettered)} + duplicates ${formatCount(c.duplicates)}${c.bronzeAccountedFor ? '' : ` (${formatCount(c.unaccounted)} unaccounted)`}`,
  );

  lines.push('', 'Next');
  lines.push(`  npx tidewater query --out ${s.out} --list-views`);
  lines.push(`  npx tidewater query --out ${s.out} --view pipeline_quality`);
  if (s.report) lines.push(`  open ${s.report}`);
  return lines.join('\n');
}

/** The `--json` summary: stable keys for scripts. */
export function runSummaryJson(s: RunSummary): Record<string, unknown> {
  const r = s.result;
  return {
    ok: r.conservation.ok,
    stack: s.stack,
    domain: s.domain,
    source: s.source,
    out: s.out,
    deadLetterDir: s.deadLetterDir,
    report: s.report ?? null,
    produced: r.produced,
    batches: r.batches,
    elapsedMs: Math.round(r.elapsedMs),
    eventsPerSecond: r.elapsedMs > 0 ? Math.round((r.produced * 1000) / r.elapsedMs) : null,
    peakRssBytes: s.peakRssBytes ?? null,
    cpuMs: s.cpuMs === undefined ? null : Math.round(s.cpuMs),
    rows: r.rowsByTable,
    objects: r.objects,
    bytes: r.bytes,
    deadLettered: r.deadLettered,
    poisonByCode: r.poisonByCode,
    duplicates: r.duplicates,
    lateEvents: r.lateEvents,
    lateRows: r.lateRows,
    blankLines: s.blankLines ?? 0,
    alerts: r.alerts,
    alertsByPattern: r.alertsByPattern,
    conservation: r.conservation,
  };
}
