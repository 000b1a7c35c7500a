/**
 * Pipeline benchmark (issue 4): 1M generated payments events end to end, embedded, Parquet
 * included: `tidewater run --input <1M events.jsonl> --out <tmp> --json` in a child process (the
 * real command, so its peak RSS is its own). The JSONL input is generated once and cached (not
 * timed: on AWS the records come from Kafka). Reports events per second on the wall clock of the
 * run (target 100k/s), the same from the CPU time of the pipeline, and the peak RSS.
 *
 * Runs twice by default, side by side: `--inline-parquet` (Parquet encoded on the main thread) and
 * `--parquet-workers N` (the worker pool, N spare cores), and prints a table of both (wall and CPU ev/s, peak RSS, load average).
 *
 *   npm run bench -- pipeline [--events 1000000] [--seed 1] [--batch-size 10000] [--mode both|inline|workers]
 */
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { domainsDir, generateEvents, loadDomain } from '../../functions/core/index.ts';
import { defaultParquetWorkers } from '../../functions/pipeline/index.ts';
import { argValue, type BenchResult, type BenchSuite, generatorFingerprint } from '../suite.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const GENERATOR_OPTIONS = { anomalies: true, poisonRate: 0.001, duplicateRate: 0.002 } as const;

async function ensureInput(n: number, seed: number, log: (m: string) => void): Promise<string> {
  const domain = loadDomain('payments');
  const digest = generatorFingerprint(join(domainsDir(), 'payments.yaml'), { n, seed, GENERATOR_OPTIONS });
  const file = join(tmpdir(), `tidewater-bench-pipeline-${n}-${seed}-${digest}.jsonl`);
  if (existsSync(file)) return file;
  log(`generating ${n.toLocaleString('en-US')} events into ${file} (cached for later runs)`);
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  let chunk: string[] = [];
  for (const r of generateEvents(domain, n, { seed, ...GENERATOR_OPTIONS })) {
    chunk.push(r.value);
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join('\n')}\n`))
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = [];
    }
  }
  if (chunk.length > 0) out.write(`${chunk.join('\n')}\n`);
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  renameSync(tmp, file);
  return file;
}

function runCli(args: readonly string[]): Promise<string> {
  const env = {
    ...process.env,
    PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
  };
  return new Promise((resolve, reject) => {
    execFile(
      'node',
      [join(ROOT, 'bin', 'tidewater.js'), ...args],
      { cwd: ROOT, env, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`tidewater ${args.join(' ')} failed: ${stderr || err.message}`))
          : resolve(stdout),
    );
  });
}

interface RunJson {
  readonly ok: boolean;
  readonly produced: number;
  readonly elapsedMs: number;
  readonly cpuMs: number;
  readonly peakRssBytes: number;
  readonly bytes: number;
  readonly objects: number;
}

interface Mode {
  readonly name: string;
  readonly flags: readonly string[];
}

interface ModeRun {
  readonly mode: Mode;
  readonly r: RunJson;
  /** 1-minute load average before / after the run (`os.loadavg()`, as `uptime` prints it). */
  readonly loadBefore: number;
  readonly loadAfter: number;
}

function modesOf(args: readonly string[]): Mode[] {
  const all: Mode[] = [
    { name: 'inline Parquet', flags: ['--inline-parquet'] },
    {
      name: `Parquet workers (${defaultParquetWorkers()})`,
      flags: ['--parquet-workers', String(defaultParquetWorkers())],
    },
  ];
  const only = argValue(args, 'mode', 'both');
  if (only === 'inline') return [all[0]!];
  if (only === 'workers') return [all[1]!];
  return all;
}

function table(runs: readonly ModeRun[]): string {
  const head = ['mode', 'events', 'wall s', 'wall ev/s', 'CPU s', 'CPU ev/s', 'peak RSS MiB', 'load avg 1m'];
  const rows = runs.map(({ mode, r, loadBefore, loadAfter }) => [
    mode.name,
    r.produced.toLocaleString('en-US'),
    (r.elapsedMs / 1000).toFixed(1),
    Math.round((r.produced * 1000) / r.elapsedMs).toLocaleString('en-US'),
    (r.cpuMs / 1000).toFixed(1),
    Math.round((r.produced * 1000) / r.cpuMs).toLocaleString('en-US'),
    (r.peakRssBytes / 1_048_576).toFixed(0),
    `${loadBefore.toFixed(2)} -> ${loadAfter.toFixed(2)}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export const suite: BenchSuite = {
  name: 'pipeline',
  description: 'tidewater run end to end (embedded, Parquet included) over 1M generated events',
  async run(ctx) {
    const n = Number(argValue(ctx.args, 'events', '1000000'));
    const seed = Number(argValue(ctx.args, 'seed', '1'));
    const batchSize = argValue(ctx.args, 'batch-size', '10000');
    const input = await ensureInput(n, seed, ctx.log);
    const runs: ModeRun[] = [];
    for (const mode of modesOf(ctx.args)) {
      const out = mkdtempSync(join(tmpdir(), 'tidewater-bench-lake-'));
      try {
        const args = [
          'run',
          '--input',
          input,
          '--out',
          out,
          '--batch-size',
          batchSize,
          '--json',
          ...mode.flags,
        ];
        ctx.log(`[${mode.name}] tidewater ${args.join(' ')}`);
        const loadBefore = loadavg()[0]!;
        const r = JSON.parse(await runCli(args)) as RunJson;
        runs.push({ mode, r, loadBefore, loadAfter: loadavg()[0]! });
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
    ctx.log(`pipeline, ${cpus().length} cores (CPU time: process.cpuUsage(), all threads)\n${table(runs)}`);
    const results: BenchResult[] = [];
    for (const { mode, r, loadBefore, loadAfter } of runs) {
      const note = `${r.produced.toLocaleString('en-US')} events in ${(r.elapsedMs / 1000).toFixed(1)} s wall, ${(r.cpuMs / 1000).toFixed(1)} s CPU; ${r.objects} files, ${(r.bytes / 1_048_576).toFixed(1)} MB; load ${loadBefore.toFixed(1)}->${loadAfter.toFixed(1)}; conservation ${r.ok ? 'ok' : 'FAILED'}`;
      results.push(
        {
          measure: `run end to end, ${mode.name} (wall clock)`,
          value: (r.produced * 1000) / r.elapsedMs,
          unit: 'ev/s',
          target: 100_000,
          note,
        },
        {
          measure: `run end to end, ${mode.name} (per CPU second)`,
          value: (r.produced * 1000) / r.cpuMs,
          unit: 'ev/s',
          note: 'events / CPU time of the run, all threads (workers included)',
        },
        {
          measure: `peak RSS of the run, ${mode.name}`,
          value: r.peakRssBytes / 1_048_576,
          unit: 'MiB',
          higherIsBetter: false,
          note: 'maxRSS of the tidewater process (worker threads included)',
        },
      );
    }
    return results;
  },
};
