/**
 * Parquet writer comparison (issue 4) on rows of the silver `events` shape (SPEC §2): encode speed
 * (wall clock and CPU time), peak RSS, output size, Lambda bundle size (esbuild, minified) plus the
 * native/wasm payload, and whether the file has the contract's Parquet types. Each candidate runs in
 * its own child process, so its peak RSS is its own.
 *
 *   npm run bench -- parquet [--rows 1000000] [--batch ROWS] [--only NAME]
 *   npx tsx bench/suites/parquet.ts [same flags]      # prints a markdown table
 *
 * `--batch` splits the rows into files of that many rows (the pipeline writes one file per
 * partition hour and source batch); by default all rows go into one file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { build } from 'esbuild';
import type { ParquetEncoder } from '../../functions/adapters/parquet/encoder.ts';
import { SILVER_EVENTS, silverEventRows } from '../../test/unit/lakehouse/fixtures.ts';
import { argValue, type BenchResult, type BenchSuite } from '../suite.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

interface Candidate {
  readonly name: string;
  readonly module: string;
  readonly exportName: string;
  /** Native or wasm files a Lambda needs beside the JavaScript bundle. */
  readonly payload: readonly string[];
}

const CANDIDATES: readonly Candidate[] = [
  {
    name: 'parquet-wasm',
    module: 'functions/adapters/parquet/wasm-encoder.ts',
    exportName: 'wasmParquetEncoder',
    payload: ['node_modules/parquet-wasm/node/parquet_wasm_bg.wasm'],
  },
  {
    name: 'duckdb',
    module: 'bench/suites/parquet-duckdb-candidate.ts',
    exportName: 'duckdbEncoder',
    payload: [
      'node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so',
      'node_modules/@duckdb/node-bindings-linux-x64/duckdb.node',
    ],
  },
  {
    name: 'hyparquet-writer',
    module: 'bench/suites/parquet-hyparquet-candidate.ts',
    exportName: 'hyparquetEncoder',
    payload: [],
  },
];

interface ChildResult {
  readonly encodeMs: number;
  readonly cpuMs: number;
  readonly peakRssMiB: number;
  readonly rssBeforeMiB: number;
  readonly bytes: number;
}

/** In the child: generate the rows, warm up, then encode them (timed) and write the first file. */
async function child(candidate: Candidate, rows: number, batch: number, out: string): Promise<void> {
  const mod = (await import(pathToFileURL(join(ROOT, candidate.module)).href)) as Record<
    string,
    ParquetEncoder
  >;
  const encoder = mod[candidate.exportName]!;
  await encoder.encode(SILVER_EVENTS, silverEventRows(2_000, 7)); // wasm compile, JIT
  const data = silverEventRows(rows, 1);
  globalThis.gc?.();
  const rssBeforeMiB = process.memoryUsage().rss / 2 ** 20;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  let first: Uint8Array | undefined;
  for (let from = 0; from < data.length; from += batch) {
    const part = batch >= data.length ? data : data.slice(from, from + batch);
    const encoded = await encoder.encode(SILVER_EVENTS, part);
    bytes += encoded.length;
    first ??= encoded;
  }
  const encodeMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result: ChildResult = {
    encodeMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    rssBeforeMiB,
    bytes,
  };
  writeFileSync(out, first ?? new Uint8Array());
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function bundleKiB(candidate: Candidate): Promise<number> {
  const result = await build({
    stdin: {
      contents: `export { ${candidate.exportName} } from './${candidate.module}';`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    write: false,
    logLevel: 'silent',
    external: ['@duckdb/node-bindings-*'],
  });
  return result.outputFiles.reduce((sum, f) => sum + f.contents.length, 0) / 1024;
}

/** Checks every column's physical/logical type and repetition in the written file; '' when all match. */
async function typeProblems(file: string): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const reader = await conn.runAndReadAll(
    `SELECT name, type, logical_type, converted_type, repetition_type FROM parquet_schema('${file}') WHERE type IS NOT NULL`,
  );
  const cols = new Map(reader.getRowObjectsJson().map((r) => [String(r.name), r]));
  conn.closeSync();
  instance.closeSync();
  const typeIssues: string[] = [];
  const nullability: string[] = [];
  for (const spec of SILVER_EVENTS.columns) {
    const c = cols.get(spec.name);
    if (!c) {
      typeIssues.push(`${spec.name} missing`);
      continue;
    }
    const t = String(c.type);
    const l = String(c.logical_type ?? '');
    const ok: Record<string, boolean> = {
      string: t === 'BYTE_ARRAY' && c.converted_type === 'UTF8',
      int32: t === 'INT32' && c.converted_type !== 'DATE',
      int64: t === 'INT64',
      double: t === 'DOUBLE',
      boolean: t === 'BOOLEAN',
      date: t === 'INT32' && c.converted_type === 'DATE',
      timestamp_ms: t === 'INT64' && l.includes('isAdjustedToUTC=1') && l.includes('MILLIS=MilliSeconds()'),
    };
    if (!ok[spec.type])
      typeIssues.push(`${spec.name}: ${t} ${l.replace(/TimeUnit\(.*?(\w+)=\w+\(\).*\)/, '$1')}`);
    if ((c.repetition_type === 'REQUIRED') !== (spec.nullable === false)) nullability.push(spec.name);
  }
  if (nullability.length > 0) typeIssues.push(`nullability of ${nullability.length} columns lost`);
  return typeIssues.join('; ');
}

interface Measured {
  readonly candidate: Candidate;
  readonly child: ChildResult;
  readonly problems: string;
  readonly bundleKiB: number;
  readonly payloadMiB: number;
}

async function measure(
  rows: number,
  batch: number,
  only: string | undefined,
  log: (m: string) => void,
): Promise<Measured[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tw-bench-parquet-'));
  const out: Measured[] = [];
  try {
    for (const candidate of CANDIDATES.filter((c) => !only || c.name === only)) {
      log(
        `${candidate.name}: ${rows.toLocaleString('en-US')} rows in files of ${batch.toLocaleString('en-US')}`,
      );
      const file = join(dir, `${candidate.name}.parquet`);
      const stdout = execFileSync(
        process.execPath,
        [
          '--expose-gc',
          '--import',
          'tsx',
          SELF,
          '--child',
          candidate.name,
          '--rows',
          String(rows),
          '--batch',
          String(batch),
          '--out',
          file,
        ],
        { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
      out.push({
        candidate,
        child: result,
        problems: await typeProblems(file),
        bundleKiB: await bundleKiB(candidate),
        payloadMiB: candidate.payload.reduce((s, p) => s + statSync(join(ROOT, p)).size, 0) / 2 ** 20,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function options(args: readonly string[]): { rows: number; batch: number; only: string | undefined } {
  const rows = Number(argValue(args, 'rows', '1000000'));
  const batch = Number(argValue(args, 'batch', String(rows)));
  const only = argValue(args, 'only', '') || undefined;
  return { rows, batch, only };
}

export const suite: BenchSuite = {
  name: 'parquet',
  description: 'Parquet writers on the silver events shape: parquet-wasm (chosen), DuckDB, hyparquet-writer',
  async run(ctx): Promise<BenchResult[]> {
    const { rows, batch, only } = options(ctx.args);
    const measured = await measure(rows, batch, only, ctx.log);
    return measured.map((m) => ({
      measure: `${m.candidate.name}: encode ${rows.toLocaleString('en-US')} rows`,
      value: rows / (m.child.encodeMs / 1000),
      cpuValue: rows / (m.child.cpuMs / 1000),
      unit: 'rows/s',
      rssMiB: m.child.peakRssMiB,
      note: `${(m.child.bytes / 2 ** 20).toFixed(1)} MiB zstd; bundle ${m.bundleKiB.toFixed(0)} KiB + ${m.payloadMiB.toFixed(1)} MiB native/wasm; types ${m.problems ? `WRONG (${m.problems})` : 'ok'}`,
    }));
  },
};

async function main(args: readonly string[]): Promise<void> {
  const { rows, batch, only } = options(args);
  const childName = argValue(args, 'child', '');
  if (childName) {
    await child(CANDIDATES.find((c) => c.name === childName)!, rows, batch, argValue(args, 'out', ''));
    return;
  }
  const load0 = loadavg()[0]!;
  const measured = await measure(rows, batch, only, (m) => process.stderr.write(`${m}\n`));
  const lines = [
    `Parquet writers: ${rows.toLocaleString('en-US')} silver events rows in files of ${batch.toLocaleString('en-US')} rows, zstd, one child process each (Node ${process.version}, load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)} on ${2} cores)`,
    '',
    '| writer | rows/s (wall) | rows/s (CPU time) | peak RSS MiB (before encode) | output MiB | JS bundle KiB | native/wasm MiB | Parquet types |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...measured.map(
      (m) =>
        `| ${m.candidate.name} | ${Math.round(rows / (m.child.encodeMs / 1000)).toLocaleString('en-US')} | ${Math.round(rows / (m.child.cpuMs / 1000)).toLocaleString('en-US')} | ${m.child.peakRssMiB.toFixed(0)} (${m.child.rssBeforeMiB.toFixed(0)}) | ${(m.child.bytes / 2 ** 20).toFixed(1)} | ${m.bundleKiB.toFixed(0)} | ${m.payloadMiB.toFixed(1)} | ${m.problems ? `WRONG: ${m.problems}` : 'ok'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url)
  await main(process.argv.slice(2));
