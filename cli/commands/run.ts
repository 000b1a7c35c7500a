import { constants as fsConstants } from 'node:fs';
import { access, mkdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  GeneratorSource,
  JsonlDeadLetterSink,
  JsonlFileSource,
  LocalFolderObjectStore,
  MemoryAlertSink,
  MemoryStateStore,
  MetricsCollector,
} from '../../functions/adapters/embedded/index.ts';
import { type Domain, DomainConfigError, loadDomain } from '../../functions/core/index.ts';
import { Lakehouse, QueryError, writeDomainMarker } from '../../functions/lakehouse/index.ts';
import {
  defaultParquetWorkers,
  ParquetWritePool,
  type RunResult,
  runPipeline,
} from '../../functions/pipeline/index.ts';
import type { EventSource } from '../../functions/ports/event-source.ts';
import { loadReportData, type ReportData, renderReport } from '../../functions/report/index.ts';
import { ensureStack } from '../../localstack/stack.ts';
import { countOf } from '../args.ts';
import { requireNode22, UserError } from '../errors.ts';
import { formatCount, formatRate, ProgressBar } from '../ui/progress.ts';
import { formatRunSummary, type RunSummary, runSummaryJson } from '../ui/summary.ts';
import { runLocal } from './run-local.ts';

/**
 * `tidewater run`: the whole pipeline end to end (SPEC §7). Embedded (the default): the four
 * stages in this process over a JSONL file or the generator, the lakehouse in `--out`.
 *
 * Decisions where the SPEC is silent:
 * - A run replaces the layers of an earlier run in the same folder (`bronze/`, `silver/`,
 *   `gold/`, `ops/`, `_deadletter/`), so running twice never doubles the data; anything else in
 *   the folder is left alone. Use another `--out` to keep both runs.
 * - `--generate N` makes realistic traffic with everything the pipeline handles: CEP anomaly
 *   scenarios, 0.1 % poison records and 0.2 % duplicates (all seeded by `--seed`).
 * - Exit codes: 0 done and conservation holds; 2 a user mistake (bad flags, missing input file,
 *   unwritable output folder, unknown domain); 3 the conservation check failed.
 */

export const EXIT_USER_ERROR = 2;
export const EXIT_CONSERVATION_FAILED = 3;
/** Folders a run owns under `--out`. */
export const RUN_OUTPUT_FOLDERS = ['bronze', 'silver', 'gold', 'ops', '_deadletter'] as const;

interface RunOptions {
  readonly input?: string;
  readonly generate?: string;
  readonly seed: string;
  readonly out: string;
  readonly stack: string;
  readonly domain: string;
  readonly report?: string;
  readonly json?: boolean;
  readonly batchSize: string;
  readonly checkpoint: string;
  readonly parquetWorkers?: string;
  readonly inlineParquet?: boolean;
  readonly pollers?: string;
  readonly rate?: string;
  readonly duration?: string;
}

/** A positive number of a flag (rates and seconds may be fractional), or a UserError. */
function positiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${flag} must be a positive number, got '${text}'`);
  return n;
}

/** `200000`, `200_000`, `200k`, `1M` -> a non-negative integer, or undefined. */

function positive(flag: string, text: string): number {
  const n = countOf(text);
  if (n === undefined || n < 1) throw new UserError(`${flag} must be a positive integer, got '${text}'`);
  return n;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function checkInput(path: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR')
      throw new UserError(`input file not found: ${path}`);
    throw new UserError(`cannot read input file ${path}: ${(err as Error).message}`);
  }
  if (!info.isFile())
    throw new UserError(`input is not a file: ${path} (give a JSONL file, one event per line)`);
  try {
    await access(path, fsConstants.R_OK);
  } catch {
    throw new UserError(`cannot read input file ${path}: permission denied`);
  }
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir spins forever on some special file
 * systems (e.g. under /proc), this fails with the first level's error instead.
 */
async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  let cur = resolve(dir);
  for (;;) {
    try {
      const info = await stat(cur);
      if (!info.isDirectory()) throw Object.assign(new Error(`${cur} is not a folder`), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      const parent = dirname(cur);
      if (parent === cur) break;
      missing.push(cur);
      cur = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  }
}

/** Creates the output folder and proves it is writable, or throws a one-line UserError. */
async function prepareOut(out: string): Promise<void> {
  const why = (err: unknown): string => {
    const code = errnoCode(err);
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EROFS') return 'read-only file system';
    if (code === 'ENOTDIR' || code === 'EEXIST') return 'a file is in the way (not a folder)';
    if (code === 'ENOSPC') return 'no space left on device';
    if (code === 'ENOENT') return 'it cannot be created there';
    return (err as Error).message;
  };
  try {
    await makeDirs(out);
    const probe = join(out, `.tidewater-write-test-${process.pid}`);
    await writeFile(probe, '');
    await unlink(probe);
  } catch (err) {
    throw new UserError(`cannot write to output folder ${out}: ${why(err)} (choose another --out)`);
  }
  for (const folder of RUN_OUTPUT_FOLDERS) await rm(join(out, folder), { recursive: true, force: true });
}

async function prepareReport(report: string): Promise<void> {
  const existing = await stat(report).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new UserError(
      `cannot write the report to ${report}: it is a folder (give a file, e.g. ${join(report, 'report.html')})`,
    );
  }
  try {
    await makeDirs(dirname(report));
    await access(dirname(report), fsConstants.W_OK);
  } catch {
    throw new UserError(`cannot write the report to ${report}: its folder is not writable`);
  }
}

function domainOrUserError(name: string): Domain {
  try {
    return loadDomain(name);
  } catch (err) {
    if (err instanceof DomainConfigError) throw new UserError(err.message);
    throw err;
  }
}

async function writeReport(
  file: string,
  out: string,
  domain: Domain,
  result: RunResult,
  source: string,
): Promise<void> {
  const lakehouse = await Lakehouse.open({ root: out, domain });
  try {
    let data: ReportData;
    try {
      data = await loadReportData(lakehouse, domain);
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      // The views and charts are checked against the domain's columns when it loads: a failure
      // here is a view whose SQL does not do what its header says.
      const broken = lakehouse.relations().filter((r) => r.error !== undefined);
      throw new UserError(
        `cannot build the report for domain ${domain.name}: ${err.message}${broken.length > 0 ? ` (broken views: ${broken.map((r) => `${r.name}: ${r.error}`).join('; ')})` : ''}; the layers are in ${out}`,
      );
    }
    const rate = result.elapsedMs > 0 ? (result.produced * 1000) / result.elapsedMs : 0;
    const html = renderReport(
      {
        title: `Tidewater run report: ${source}`,
        generatedAt: new Date().toISOString(),
        headline: [
          { label: 'events', value: formatCount(result.produced) },
          { label: 'events/s', value: formatRate(rate).replace('/s', '') },
          { label: 'silver rows', value: formatCount(result.silverRows) },
          { label: 'alerts', value: formatCount(result.alerts) },
          { label: 'poison', value: formatCount(result.deadLettered) },
          { label: 'duplicates', value: formatCount(result.duplicates) },
          { label: 'late events', value: formatCount(result.lateEvents) },
          { label: 'conservation', value: result.conservation.ok ? 'OK' : 'FAILED' },
        ],
      },
      data,
    );
    await writeFile(file, html).catch((err: unknown) => {
      throw new UserError(`cannot write the report to ${file}: ${(err as Error).message}`);
    });
  } finally {
    lakehouse.close();
  }
}

/** Parquet workers of a run without `--parquet-workers`: the spare cores, none on one core. */
function defaultRunWorkers(): number {
  return availableParallelism() > 1 ? defaultParquetWorkers() : 0;
}

export async function runCommand(options: RunOptions): Promise<void> {
  if (options.stack !== 'embedded' && options.stack !== 'local')
    throw new UserError(`--stack must be 'embedded' or 'local', got '${options.stack}'`);
  // Live mode (--stack local --rate R [--duration S]): a steady producer instead of a burst.
  if (options.rate !== undefined && options.stack !== 'local')
    throw new UserError('--rate applies to --stack local (a steady producer into the local broker)');
  if (options.duration !== undefined && options.rate === undefined)
    throw new UserError('--duration applies with --rate (give --rate R too)');
  const rate = options.rate === undefined ? undefined : positiveNumber('--rate', options.rate);
  const duration =
    options.duration === undefined ? undefined : positiveNumber('--duration', options.duration);
  let generate = options.generate;
  if (rate !== undefined && duration !== undefined && options.input === undefined && generate === undefined)
    generate = String(Math.max(1, Math.round(rate * duration)));
  if (rate !== undefined && duration === undefined && options.input === undefined && generate === undefined)
    throw new UserError('with --rate, give --duration S (or --generate N, or --input FILE)');
  if ((options.input === undefined) === (generate === undefined))
    throw new UserError('give exactly one of --input FILE or --generate N');
  const batchSize = positive('--batch-size', options.batchSize);
  const checkpointRecords = positive('--checkpoint', options.checkpoint);
  if (options.pollers !== undefined && options.stack !== 'local')
    throw new UserError('--pollers applies to --stack local (the event source mappings)');
  const pollers = options.pollers === undefined ? undefined : positive('--pollers', options.pollers);
  // With a spare core, Parquet is encoded and written by worker threads: the main thread converts
  // rows to columns and transfers the typed arrays (no copy). 1M events on 2 cores measured about
  // 15 s with one worker vs 20 s inline (bench/suites/pipeline.ts). One core: inline.
  let parquetWorkers = defaultRunWorkers();
  if (options.parquetWorkers !== undefined) {
    const n = countOf(options.parquetWorkers);
    if (n === undefined)
      throw new UserError(
        `--parquet-workers must be a non-negative integer, got '${options.parquetWorkers}'`,
      );
    parquetWorkers = n;
  }
  if (options.inlineParquet === true) parquetWorkers = 0;
  const seed = countOf(options.seed);
  if (seed === undefined) throw new UserError(`--seed must be a non-negative integer, got '${options.seed}'`);
  const domain = domainOrUserError(options.domain);
  const out = resolve(options.out);
  const report = options.report === undefined ? undefined : resolve(options.report);

  let source: EventSource;
  let fileSource: JsonlFileSource | undefined;
  if (options.input !== undefined) {
    await checkInput(options.input);
    fileSource = new JsonlFileSource(options.input);
    source = fileSource;
  } else {
    const n = countOf(generate!);
    if (n === undefined) throw new UserError(`--generate must be a number of events, got '${generate}'`);
    source = new GeneratorSource(domain, n, {
      seed,
      anomalies: true,
      poisonRate: 0.001,
      duplicateRate: 0.002,
    });
  }
  if (options.stack === 'local') {
    requireNode22('run --stack local', "'npx tidewater run ...' or an npm script");
    await ensureStack((line) => process.stderr.write(`[local stack] ${line}\n`));
  }
  await prepareOut(out);
  // `tidewater query --out DIR` then uses this domain's tables and views without --domain.
  writeDomainMarker(out, /[\\/]|\.ya?ml$/i.test(options.domain) ? resolve(options.domain) : options.domain);
  if (report !== undefined) await prepareReport(report);

  const deadLetterDir = join(out, '_deadletter');
  const bar = new ProgressBar({ quiet: options.json === true });
  let result: RunResult;
  // Parquet encoding and file writes in worker threads (embedded) with --parquet-workers N.
  const pool =
    options.stack !== 'local' && parquetWorkers > 0
      ? new ParquetWritePool({ root: out, workers: parquetWorkers })
      : undefined;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  try {
    // --stack local (issue 6): the same input through Kafka, the local event source mapping and
    // the emulator; the layers are copied into `out` and summarized like an embedded run.
    result =
      options.stack === 'local'
        ? await runLocal({
            domain,
            source,
            out,
            ...(pollers === undefined ? {} : { pollers }),
            ...(rate === undefined ? {} : { ratePerSecond: rate }),
            ...(duration === undefined ? {} : { maxSeconds: duration }),
            // Live mode over the generator: event time is the time of the send (lags kept).
            ...(rate !== undefined && options.input === undefined
              ? { stampEventTime: domain.eventTimeField }
              : {}),
            onProgress: (_stage, count, fraction) =>
              bar.update({ fraction, count, elapsedMs: performance.now() - started }),
          })
        : await runPipeline({
            context: {
              domain,
              objects: new LocalFolderObjectStore(out),
              // Snapshots are fresh objects and never reloaded in one run: no JSON copy at each checkpoint.
              state: new MemoryStateStore({ keep: 'reference' }),
              metrics: new MetricsCollector(),
              deadLetters: new JsonlDeadLetterSink(deadLetterDir),
              alerts: new MemoryAlertSink(),
              ...(pool === undefined ? {} : { writes: pool }),
            },
            source,
            batchSize,
            checkpointRecords,
            onBatch: (p) => bar.update({ fraction: p.fraction, count: p.produced, elapsedMs: p.elapsedMs }),
          });
  } finally {
    bar.done();
    await pool?.close();
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  // A report that cannot be made is said after the summary: the run itself is done and kept.
  let reportError: UserError | undefined;
  if (report !== undefined) {
    try {
      await writeReport(report, out, domain, result, source.description);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      reportError = err;
    }
  }
  const summary: RunSummary = {
    result,
    source: source.description,
    domain: domain.name,
    stack: options.stack === 'local' ? 'local' : 'embedded',
    out: options.out,
    deadLetterDir:
      options.stack === 'local'
        ? 'the poison queue (SQS) of the local stack'
        : join(options.out, '_deadletter'),
    report: reportError === undefined ? options.report : undefined,
    blankLines: fileSource?.blankLines,
    peakRssBytes,
    cpuMs,
  };
  if (options.json) process.stdout.write(`${JSON.stringify(runSummaryJson(summary))}\n`);
  else process.stdout.write(`${formatRunSummary(summary)}\n`);
  if (!result.conservation.ok) {
    process.stderr.write(
      `tidewater: conservation check failed: ${result.conservation.unaccounted} records unaccounted for, produced ${result.conservation.produced} vs bronze ${result.conservation.bronze}\n`,
    );
    process.exitCode = EXIT_CONSERVATION_FAILED;
  }
  if (reportError !== undefined) {
    // Exit code 3 (conservation) says more than 2; the report's reason is still printed.
    if (result.conservation.ok) throw reportError;
    process.stderr.write(`tidewater: ${reportError.message}\n`);
  }
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the pipeline end to end (bronze, silver, gold) and print a summary')
    .option('--input <file>', 'JSONL file, one event (Kafka record value) per line, in order')
    .option('--generate <n>', 'generate N synthetic events instead (e.g. 200000, 200k, 1M)')
    .option('--seed <s>', 'seed of --generate', '1')
    .option(
      '--out <dir>',
      'lakehouse folder to write (its layers from an earlier run are replaced)',
      './lakehouse',
    )
    .option('--stack <name>', 'embedded (in this process) or local (Kafka + AWS emulator)', 'embedded')
    .option('--domain <name>', 'domain config (config/domains/<name>.yaml)', 'payments')
    .option('--report <file>', 'also write a self-contained HTML report with charts')
    .option('--json', 'print the summary as JSON on stdout (no progress bar)')
    .option(
      '--batch-size <n>',
      'records per batch (one bronze and one silver file per batch and hour)',
      '10000',
    )
    .option(
      '--checkpoint <n>',
      'records between state commits (one gold file per table, hour and checkpoint)',
      '500000',
    )
    .option(
      '--parquet-workers <n>',
      `worker threads encoding and writing Parquet (default ${defaultRunWorkers()} here: the spare cores; 0 encodes in the main thread)`,
    )
    .option('--inline-parquet', 'encode and write Parquet in the main thread (same as --parquet-workers 0)')
    .option(
      '--pollers <n>',
      "with --stack local: event pollers per event source mapping, each running up to 5 invocations at once over partitions of its own, as on AWS (default: the local environment's, 1)",
    )
    .option(
      '--rate <events/s>',
      'with --stack local: produce at this steady rate instead of as fast as possible (live mode; watch with `tidewater tail alerts`)',
    )
    .option(
      '--duration <seconds>',
      'with --rate: produce for this long (rate x duration generated events unless --generate or --input says otherwise)',
    )
    .addHelpText(
      'after',
      `
--generate adds CEP anomaly scenarios, 0.1% poison records and 0.2% duplicates.
Poison records go to <out>/_deadletter/*.jsonl (reason, Kafka coordinates, raw bytes in base64).

Exit codes: 0 ok; 2 a usage or input/output problem; 3 the conservation check failed
(produced = bronze, bronze = silver + dead-lettered + duplicates).

Examples:
  tidewater run --generate 200000 --out ./lakehouse --report ./lakehouse/report.html
  tidewater run --input events.jsonl --out /tmp/lake --json
  tidewater run --stack local --rate 200 --duration 300      # live: then 'tidewater tail alerts' elsewhere`,
    )
    .action(async (options: RunOptions) => {
      await runCommand(options);
    });
}
