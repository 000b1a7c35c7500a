import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
/**
 * The contract between `bench/run.ts` and the benchmark suites. A suite is a module in
 * `bench/suites/` that exports `suite: BenchSuite`; modules without that export (helpers,
 * candidates used by other scripts) are ignored by the runner.
 */

/** One line of the results table. */
export interface BenchResult {
  /** What was measured, e.g. `decode + validate + enrich`. */
  readonly measure: string;
  /** The figure, e.g. events per second. */
  readonly value: number;
  /** Unit of `value`, e.g. `ev/s`, `bytes`, `MB`. */
  readonly unit: string;
  /** Optional target; `higherIsBetter` decides how `value` is compared to it. @default none */
  readonly target?: number;
  /** @default true */
  readonly higherIsBetter?: boolean;
  /** Free text shown last (events processed, elapsed time...). */
  readonly note?: string;
  /**
   * The same figure computed from the CPU time the process spent in the measured section
   * (`process.cpuUsage()`, user + system, all threads) instead of wall-clock time: what one
   * dedicated core would do, and much less sensitive to other load on a shared machine. When
   * present, the runner judges `target` on it.
   */
  readonly cpuValue?: number;
  /** Heap still held after the section (forced GC before and after), MiB. */
  readonly retainedMiB?: number;
  /** Resident set size at the end of the section, MiB. */
  readonly rssMiB?: number;
  /** The same measure for a baseline implementation (e.g. `--baseline <git ref>`), same run. */
  readonly baseline?: { readonly value: number; readonly cpuValue?: number };
}

export interface BenchContext {
  /** Arguments after the filter, e.g. `npm run bench -- core --events 200000` gives `['--events', '200000']`. */
  readonly args: readonly string[];
  /** Prints a progress line on stderr (not part of the table). */
  log(message: string): void;
}

export interface BenchSuite {
  /** Short name used by the filter, e.g. `core`. */
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<BenchResult[]> | BenchResult[];
  /**
   * The figures of the last run as one flat object, for machines: with `--json` the runner
   * prints the suites' summaries as one JSON object, the last line of its output.
   */
  summary?(): Record<string, unknown> | undefined;
}

/** True when `--name` is among the args. */
export function hasFlag(args: readonly string[], name: string): boolean {
  return args.includes(`--${name}`);
}

/** Value of `--name <value>` in args, or the fallback. */
export function argValue(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

/**
 * A short digest of what generated inputs depend on (the generator's sources, the domain file)
 * and of `options`: part of the name of a cached input, so a changed generator never reuses
 * stale inputs.
 */
export function generatorFingerprint(domainFile: string, options: unknown): string {
  const core = join(dirname(fileURLToPath(import.meta.url)), '..', 'functions', 'core');
  const h = createHash('sha256');
  for (const f of ['generator.ts', 'random.ts', 'geo.ts', 'domain.ts', 'time.ts'])
    h.update(readFileSync(join(core, f)));
  h.update(readFileSync(domainFile));
  h.update(JSON.stringify(options));
  return h.digest('hex').slice(0, 16);
}
