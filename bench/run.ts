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

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(n < 10 ? 2 : 1);
}

function table(rows: Array<{ suite: string } & BenchResult>): string {
  const header = ['suite', 'measure', 'value', 'unit', 'target', 'status', 'note'];
  const body = rows.map((r) => {
    const ok =
      r.target === undefined ? '' : (r.higherIsBetter ?? true) ? r.value >= r.target : r.value <= r.target;
    return [
      r.suite,
      r.measure,
      fmt(r.value),
      r.unit,
      r.target === undefined ? '' : fmt(r.target),
      ok === '' ? '' : ok ? 'ok' : 'MISS',
      r.note ?? '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 2 || i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const suites = await loadSuites();
if (suites.length === 0) {
  process.stderr.write(`bench: no suite matches "${filterText ?? ''}" in ${dir}\n`);
  process.exitCode = 2;
} else {
  const rows: Array<{ suite: string } & BenchResult> = [];
  for (const s of suites) {
    process.stderr.write(`bench: ${s.name}: ${s.description}\n`);
    const results = await s.run({ args: suiteArgs, log: (m) => process.stderr.write(`  ${s.name}: ${m}\n`) });
    for (const r of results) rows.push({ suite: s.name, ...r });
  }
  process.stdout.write(`\nNode ${process.version}, ${process.arch}, one core\n${table(rows)}\n`);
}
