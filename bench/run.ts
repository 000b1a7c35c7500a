/**
 * `npm run bench [-- <filter> [suite args]]`: runs the benchmark suites in `bench/suites/` whose
 * file or suite name contains `<filter>` (all when omitted) and prints one table. A suite is any
 * module there exporting `suite: BenchSuite` (see `bench/suite.ts`); add a file to add a suite.
 *
 *   npm run bench                      # every suite
 *   npm run bench -- core              # the core engine suite (1M generated events)
 *   npm run bench -- core --events 200000
 *
 * Benchmarks are not tests: nothing here fails a build; targets are shown as ok/MISS.
 */
import { readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult, BenchSuite } from './suite.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const [filter, ...args] = process.argv.slice(2).filter((a) => a !== '--');
const filterText = filter?.startsWith('--') ? undefined : filter;
const suiteArgs = filterText === undefined ? process.argv.slice(2).filter((a) => a !== '--') : args;

function isSuite(value: unknown): value is BenchSuite {
  const v = value as Partial<BenchSuite> | null;
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.run === 'function';
}

async function loadSuites(): Promise<BenchSuite[]> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  // Filter by file name first so unrelated (possibly heavy) modules are not even imported.
  const byFile = filterText ? files.filter((f) => f.includes(filterText)) : files;
  const candidates = byFile.length > 0 ? byFile : files;
  const suites: BenchSuite[] = [];
  for (const f of candidates) {
    const mod = (await import(join(dir, f))) as { suite?: unknown };
    if (isSuite(mod.suite) && (!filterText || byFile.length > 0 || mod.suite.name.includes(filterText)))
      suites.push(mod.suite);
  }
  return suites;
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '';
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(n < 10 ? 2 : 1);
}

type Row = { suite: string } & BenchResult;

interface Column {
  readonly title: string;
  readonly right: boolean;
  readonly cell: (r: Row) => string;
  /** Shown only when some row has a value for it. */
  readonly optional?: boolean;
}

function status(r: Row): string {
  if (r.target === undefined) return '';
  const v = r.cpuValue ?? r.value;
  const ok = (r.higherIsBetter ?? true) ? v >= r.target : v <= r.target;
  return ok ? 'ok' : 'MISS';
}

const COLUMNS: readonly Column[] = [
  { title: 'suite', right: false, cell: (r) => r.suite },
  { title: 'measure', right: false, cell: (r) => r.measure },
  { title: 'value', right: true, cell: (r) => fmt(r.value) },
  { title: 'cpu-time value', right: true, cell: (r) => fmt(r.cpuValue), optional: true },
  { title: 'unit', right: false, cell: (r) => r.unit },
  { title: 'target', right: true, cell: (r) => fmt(r.target) },
  { title: 'status', right: false, cell: status },
  { title: 'baseline', right: true, cell: (r) => fmt(r.baseline?.value), optional: true },
  { title: 'baseline cpu', right: true, cell: (r) => fmt(r.baseline?.cpuValue), optional: true },
  {
    title: 'x cpu',
    right: true,
    cell: (r) =>
      r.baseline?.cpuValue !== undefined && r.cpuValue !== undefined
        ? `${(r.cpuValue / r.baseline.cpuValue).toFixed(2)}x`
        : '',
    optional: true,
  },
  { title: 'retained MiB', right: true, cell: (r) => fmt(r.retainedMiB), optional: true },
  { title: 'rss MiB', right: true, cell: (r) => fmt(r.rssMiB), optional: true },
  { title: 'note', right: false, cell: (r) => r.note ?? '' },
];

function table(rows: readonly Row[]): string {
  const cols = COLUMNS.filter((c) => !c.optional || rows.some((r) => c.cell(r) !== ''));
  const body = rows.map((r) => cols.map((c) => c.cell(r)));
  const widths = cols.map((c, i) => Math.max(c.title.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (cols[i]!.right ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [
    line(cols.map((c) => c.title)),
    `|${widths.map((w, i) => (cols[i]!.right ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

const suites = await loadSuites();
if (suites.length === 0) {
  process.stderr.write(`bench: no suite matches "${filterText ?? ''}" in ${dir}\n`);
  process.exitCode = 2;
} else {
  const rows: Row[] = [];
  const load0 = loadavg();
  for (const s of suites) {
    process.stderr.write(`bench: ${s.name}: ${s.description}\n`);
    const results = await s.run({ args: suiteArgs, log: (m) => process.stderr.write(`  ${s.name}: ${m}\n`) });
    for (const r of results) rows.push({ suite: s.name, ...r });
  }
  const load1 = loadavg();
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const hasCpu = rows.some((r) => r.cpuValue !== undefined);
  process.stdout.write(
    `\nNode ${process.version}, ${process.arch}, ${cpus().length} CPUs, load average ${la(load0)} at start, ${la(load1)} at end\n` +
      (hasCpu
        ? 'value: wall clock; cpu-time value: from process CPU time (user + system) of the section; status judges the cpu-time value when present\n'
        : '') +
      `${table(rows)}\n`,
  );
  if (suiteArgs.includes('--json')) {
    const summary = Object.assign({}, ...suites.map((s) => s.summary?.() ?? {}));
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
}
