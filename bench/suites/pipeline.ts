/**
 * Pipeline benchmark (issue 4): 1M generated payments events end to end, embedded, Parquet
 * included: `tidewater run --input <1M events.jsonl> --out <tmp> --json` in a child process (the
 * real command, so its peak RSS is its own). The JSONL input is generated once and cached (not
 * timed: on AWS the records come from Kafka). Reports events per second on the wall clock of the
 * run (target 100k/s), the same from the CPU time of the pipeline, and the peak RSS.
 *
 *   npm run bench -- pipeline [--events 1000000] [--seed 1] [--batch-size 10000]
 */
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEvents, loadDomain } from '../../functions/core/index.ts';
import { argValue, type BenchResult, type BenchSuite } from '../suite.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function ensureInput(n: number, seed: number, log: (m: string) => void): Promise<string> {
  const file = join(tmpdir(), `tidewater-bench-pipeline-${n}-${seed}.jsonl`);
  if (existsSync(file)) return file;
  log(`generating ${n.toLocaleString('en-US')} events into ${file} (cached for later runs)`);
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  const domain = loadDomain('payments');
  let chunk: string[] = [];
  for (const r of generateEvents(domain, n, {
    seed,
    anomalies: true,
    poisonRate: 0.001,
    duplicateRate: 0.002,
  })) {
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

export const suite: BenchSuite = {
  name: 'pipeline',
  description: 'tidewater run end to end (embedded, Parquet included) over 1M generated events',
  async run(ctx) {
    const n = Number(argValue(ctx.args, 'events', '1000000'));
    const seed = Number(argValue(ctx.args, 'seed', '1'));
    const batchSize = argValue(ctx.args, 'batch-size', '10000');
    const input = await ensureInput(n, seed, ctx.log);
    const out = mkdtempSync(join(tmpdir(), 'tidewater-bench-lake-'));
    try {
      ctx.log(`tidewater run --input ${input} --out ${out} --batch-size ${batchSize} --json`);
      const r = JSON.parse(
        await runCli(['run', '--input', input, '--out', out, '--batch-size', batchSize, '--json']),
      ) as RunJson;
      const note = `${r.produced.toLocaleString('en-US')} events in ${(r.elapsedMs / 1000).toFixed(1)} s wall, ${(r.cpuMs / 1000).toFixed(1)} s CPU; ${r.objects} files, ${(r.bytes / 1_048_576).toFixed(1)} MB; conservation ${r.ok ? 'ok' : 'FAILED'}`;
      const results: BenchResult[] = [
        {
          measure: 'run end to end (wall clock)',
          value: (r.produced * 1000) / r.elapsedMs,
          unit: 'ev/s',
          target: 100_000,
          note,
        },
        {
          measure: 'run end to end (per CPU second)',
          value: (r.produced * 1000) / r.cpuMs,
          unit: 'ev/s',
          note: 'events / CPU time of the pipeline, all threads',
        },
        {
          measure: 'peak RSS of the run',
          value: r.peakRssBytes / 1_048_576,
          unit: 'MiB',
          higherIsBetter: false,
          note: 'maxRSS of the tidewater process',
        },
      ];
      return results;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
};
