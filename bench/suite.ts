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
}

/** Value of `--name <value>` in args, or the fallback. */
export function argValue(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}
