/**
 * Parquet writer comparison on 1M rows of the silver `events` shape (SPEC §2):
 * speed, peak memory, output size, Lambda bundle size and the Parquet types written.
 *
 *   npx tsx bench/parquet.ts [--rows 1000000] [--batch ROWS] [--only NAME]
 *
 * `--batch` splits the rows into files of that many rows (the pipeline writes one file per
 * partition hour and batch); by default all rows go into one file.
 *
 * Each candidate runs in its own child process so its peak RSS is its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { build } from 'esbuild';
import type { ParquetEncoder } from '../functions/adapters/parquet/encoder.ts';
import { SILVER_EVENTS, silverEventRows } from '../test/unit/lakehouse/fixtures.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

interface Candidate {
  readonly name: string;
  readonly module: string;
  readonly exportName: string;
  /** Native or wasm payload a Lambda needs beside the JavaScript bundle. */
  readonly payload: readonly string[];
}

const CANDIDATES: readonly Candidate[] = [
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
    name: 'parquet-wasm',
    module: 'functions/adapters/parquet/wasm-encoder.ts',
    exportName: 'wasmParquetEncoder',
    payload: ['node_modules/parquet-wasm/node/parquet_wasm_bg.wasm'],
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
  readonly rssBeforeMb: number;
  readonly peakRssMb: number;
  readonly bytes: number;
  readonly file: string;
}

async function child(candidate: Candidate, rows: number, batch: number, out: string): Promise<void> {
  const mod = (await import(join(root, candidate.module))) as Record<string, ParquetEncoder>;
  const encoder = mod[candidate.exportName]!;
  await encoder.encode(SILVER_EVENTS, silverEventRows(2_000, 7)); // warm-up (wasm compile, JIT)
  const data = silverEventRows(rows, 1);
  globalThis.gc?.();
  const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  let size = 0;
  let first: Uint8Array | undefined;
  for (let from = 0; from < data.length; from += batch) {
    const bytes = await encoder.encode(
      SILVER_EVENTS,
      from === 0 && batch >= data.length ? data : data.slice(from, from + batch),
    );
    size += bytes.length;
    first ??= bytes;
  }
  const encodeMs = performance.now() - t0;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  writeFileSync(out, first ?? new Uint8Array());
  const result: ChildResult = { encodeMs, rssBeforeMb, peakRssMb, bytes: size, file: out };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function bundleKb(candidate: Candidate): Promise<number> {
  const result = await build({
    stdin: {
      contents: `import { ${candidate.exportName} as e } from './${candidate.module}'; export const handler = e;`,
      resolveDir: root,
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

interface TypeCheck {
  readonly ok: boolean;
  readonly detail: string;
}

/** Reads the written file's Parquet schema with DuckDB and checks every column's physical/logical type. */
async function checkTypes(file: string): Promise<TypeCheck> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const reader = await conn.runAndReadAll(
    `SELECT name, type, logical_type, repetition_type FROM parquet_schema('${file}') WHERE type IS NOT NULL`,
  );
  const cols = new Map(reader.getRowObjectsJson().map((r) => [String(r.name), r]));
  conn.closeSync();
  instance.closeSync();
  const problems: string[] = [];
  for (const spec of SILVER_EVENTS.columns) {
    const c = cols.get(spec.name);
    if (!c) {
      problems.push(`${spec.name} missing`);
      continue;
    }
    const logical = String(c.logical_type ?? '');
    const want: Record<string, (t: string, l: string) => boolean> = {
      string: (t, l) => t === 'BYTE_ARRAY' && (l === '' || l.includes('String')),
      int32: (t) => t === 'INT32',
      int64: (t) => t === 'INT64',
      double: (t) => t === 'DOUBLE',
      boolean: (t) => t === 'BOOLEAN',
      date: (t, l) => t === 'INT32' && (l === '' || l.includes('Date')),
      timestamp_ms: (t, l) =>
        t === 'INT64' && l.includes('isAdjustedToUTC=1') && l.includes('MILLIS=MilliSeconds()'),
    };
    if (!want[spec.type]!(String(c.type), logical)) problems.push(`${spec.name}: ${c.type} ${logical}`);
    const required = spec.nullable === false;
    if ((c.repetition_type === 'REQUIRED') !== required) problems.push(`${spec.name}: ${c.repetition_type}`);
  }
  return {
    ok: problems.length === 0,
    detail: [
      ...problems.filter((p) => !p.endsWith('OPTIONAL')),
      ...problems.filter((p) => p.endsWith('OPTIONAL')),
    ]
      .slice(0, 2)
      .join('; '),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      batch: { type: 'string' },
      only: { type: 'string' },
      child: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const rows = Number(values.rows);
  const batch = Number(values.batch ?? values.rows);
  if (values.child) {
    const candidate = CANDIDATES.find((c) => c.name === values.child)!;
    await child(candidate, rows, batch, values.out!);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tw-bench-parquet-'));
  const lines: string[] = [
    `Parquet writers, ${rows.toLocaleString('en-US')} silver events rows in files of ${batch.toLocaleString('en-US')}, zstd, one process each (Node ${process.version}, load ${loadavg()[0]!.toFixed(1)})`,
    '',
    '| writer | rows/s | encode s | peak RSS MB (before encode) | file MB | JS bundle KB | native/wasm MB | types |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const candidate of CANDIDATES.filter((c) => !values.only || c.name === values.only)) {
    const out = join(dir, `${candidate.name}.parquet`);
    const stdout = execFileSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        candidate.name,
        '--rows',
        String(rows),
        '--batch',
        String(batch),
        '--out',
        out,
      ],
      { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
    const types = await checkTypes(r.file);
    const payloadMb = candidate.payload.reduce((s, p) => s + statSync(join(root, p)).size, 0) / 2 ** 20;
    const kb = await bundleKb(candidate);
    lines.push(
      `| ${candidate.name} | ${Math.round(rows / (r.encodeMs / 1000)).toLocaleString('en-US')} | ${(r.encodeMs / 1000).toFixed(2)} | ${r.peakRssMb.toFixed(0)} (${r.rssBeforeMb.toFixed(0)}) | ${(r.bytes / 2 ** 20).toFixed(1)} | ${kb.toFixed(0)} | ${payloadMb.toFixed(1)} | ${types.ok ? 'ok' : `MISMATCH ${types.detail}`} |`,
    );
    process.stderr.write(`${lines.at(-1)}\n`);
  }
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
