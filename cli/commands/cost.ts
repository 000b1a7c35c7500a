import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { readWorkProfile, WorkProfileError } from '../../bench/work-profile.ts';
import { DomainConfigError, loadDomain } from '../../functions/core/index.ts';
import {
  ConfigError,
  ENVIRONMENTS_DIR,
  listEnvironments,
  loadEnvironmentConfig,
} from '../../lib/config/environment-config.ts';
import { DEFAULT_PATTERNS, LAYERS, type METRICS } from '../../lib/observability/metric-contract.ts';
import {
  ASSUMPTIONS,
  type CostEstimate,
  CostModelError,
  estimateCost,
  type LineItem,
} from '../cost/model.ts';
import { PRICES_FILE, PriceFileError, readPrices } from '../cost/prices.ts';
import { UserError } from '../errors.ts';

/**
 * `tidewater cost --env <name> --rate <events/s> [--bytes-per-event N] [--json]`: the monthly cost
 * of a deployment by line item at a sustained rate, beside Managed Service for Apache Flink and
 * Firehose (bronze only). The model is in `cli/cost/model.ts`; work per event comes from the
 * committed work profile (`bench/work-profile.json`, written by the local-stack bench), prices
 * from `bench/prices.json`.
 */

export const WORK_PROFILE_FILE = join(import.meta.dirname, '..', '..', 'bench', 'work-profile.json');

interface CostOptions {
  readonly env?: string;
  readonly rate?: string;
  readonly bytesPerEvent?: string;
  readonly flinkEventsPerKpu?: string;
  readonly profile: string;
  readonly prices: string;
  readonly json?: boolean;
}

/** A positive number of events per second; `10_000` and `10k`, `1.5M` are accepted. */
export function parseEventsPerSecond(text: string, what = '--rate'): number {
  const m = /^([0-9][0-9_]*(?:\.[0-9]+)?)([kKmM]?)$/.exec(text.trim());
  const n = m
    ? Number(m[1]!.replace(/_/g, '')) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1e3 : 1e6)
    : Number.NaN;
  if (!Number.isFinite(n) || n <= 0)
    throw new UserError(
      `${what} expects a number of events per second above 0, e.g. 10000 or 10k, got "${text}"`,
    );
  return n;
}

/**
 * Dimension values per custom metric (lib/observability/metric-contract.ts): a metric added to the
 * contract without an entry here fails to compile.
 */
const METRIC_SERIES: Readonly<Record<keyof typeof METRICS, (windows: number) => number>> = {
  RecordsIn: () => LAYERS.length,
  RecordsOut: () => LAYERS.length,
  Alerts: () => DEFAULT_PATTERNS.length,
  LateEvents: (windows) => windows,
  DeadLettered: () => 1,
  Duplicates: () => 1,
  StateConflicts: () => 4,
  StateColdLoads: () => 3,
  StateSnapshots: () => 3,
};

/** Custom metrics (series) the consumers publish, for a domain with `windows` windows. */
export function customMetricCount(windows: number): number {
  return Object.values(METRIC_SERIES).reduce((n, series) => n + series(windows), 0);
}

function money(n: number): string {
  return n >= 100 ? `$${Math.round(n).toLocaleString('en-US')}` : `$${n.toFixed(2)}`;
}

function num(n: number): string {
  if (n === 0) return '0';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function unitPrice(n: number): string {
  return n >= 0.01 ? `$${n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '')}` : `$${n.toPrecision(3)}`;
}

/** The plain table: one section per stack, each line item with quantity, unit price, $/month, $/M events. */
export function formatCostTable(est: CostEstimate, heading: string): string {
  const titles: Record<LineItem['stack'], string> = {
    tidewater: 'Tidewater',
    flink: 'Managed Service for Apache Flink, same job (and the MSK cluster it reads)',
    firehose: 'Amazon Data Firehose, bronze only (reads the same MSK cluster)',
  };
  const header = ['line item', 'kind', 'quantity/month', 'unit price', '$/month', '$/M events'];
  const lines: string[] = [heading];
  for (const stack of ['tidewater', 'flink', 'firehose'] as const) {
    const rows = est.lineItems
      .filter((i) => i.stack === stack)
      .map((i) => [
        `${i.service}: ${i.item}`,
        i.kind,
        `${num(i.quantity)} ${i.unit}`,
        `${unitPrice(i.unitPriceUsd)}${i.priceVerified ? '' : '*'}`,
        money(i.usdPerMonth),
        num(i.usdPerMillionEvents),
      ]);
    const total = est.totals[stack];
    rows.push(['total', '', '', '', money(total), num((total * 1e6) / est.eventsPerMonth)]);
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    const fmt = (r: readonly string[]) =>
      r
        .map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd();
    lines.push('', titles[stack], fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt));
  }
  lines.push('', '* unverified price: the best-known list price, not seen on its page (bench/prices.json)');
  for (const w of est.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function snake(item: LineItem) {
  return {
    stack: item.stack,
    service: item.service,
    item: item.item,
    kind: item.kind,
    quantity: item.quantity,
    unit: item.unit,
    unit_price_usd: item.unitPriceUsd,
    usd_per_month: item.usdPerMonth,
    usd_per_million_events: item.usdPerMillionEvents,
    price_section: item.priceSection,
    price_verified: item.priceVerified,
  };
}

function cost(opts: CostOptions): void {
  if (opts.env === undefined) throw new UserError('cost needs --env <name>, e.g. --env prod');
  if (opts.rate === undefined) throw new UserError('cost needs --rate <events/s>, e.g. --rate 10000');
  const rate = parseEventsPerSecond(opts.rate);
  const bytes =
    opts.bytesPerEvent === undefined
      ? undefined
      : parseEventsPerSecond(opts.bytesPerEvent, '--bytes-per-event');
  const perKpu =
    opts.flinkEventsPerKpu === undefined
      ? undefined
      : parseEventsPerSecond(opts.flinkEventsPerKpu, '--flink-events-per-kpu');
  const known = listEnvironments();
  if (!known.includes(opts.env))
    throw new UserError(
      `unknown environment "${opts.env}": no ${join(ENVIRONMENTS_DIR, `${opts.env}.yaml`)} (known: ${known.join(', ')})`,
    );
  try {
    const config = loadEnvironmentConfig(opts.env);
    const profile = readWorkProfile(opts.profile);
    const prices = readPrices(opts.prices);
    const domain = loadDomain(config.domain);
    const est = estimateCost({
      config,
      profile,
      prices,
      ratePerSecond: rate,
      ...(bytes === undefined ? {} : { bytesPerEvent: bytes }),
      ...(perKpu === undefined ? {} : { flinkEventsPerKpu: perKpu }),
      customMetrics: customMetricCount(domain.windows.length),
      dedup: domain.dedup,
    });
    if (opts.json) {
      const perM = (usd: number) => (usd * 1e6) / est.eventsPerMonth;
      process.stdout.write(
        `${JSON.stringify({
          tidewater_usd_per_month: est.totals.tidewater,
          flink_usd_per_month: est.totals.flink,
          firehose_bronze_usd_per_month: est.totals.firehose,
          tidewater_usd_per_million_events: perM(est.totals.tidewater),
          flink_usd_per_million_events: perM(est.totals.flink),
          firehose_bronze_usd_per_million_events: perM(est.totals.firehose),
          env: config.name,
          rate_events_per_second: rate,
          bytes_per_event: est.bytesPerEvent,
          events_per_month: est.eventsPerMonth,
          line_items: est.lineItems.map(snake),
          consumers: est.consumers,
          warnings: est.warnings,
          assumptions: { ...ASSUMPTIONS, ...(perKpu === undefined ? {} : { flinkEventsPerKpu: perKpu }) },
          profile: {
            path: opts.profile,
            command: profile.command,
            measured_at: profile.measuredAt,
            not_metered: profile.notMetered,
          },
          prices: { path: opts.prices, region: prices.region, as_of: prices.asOf },
        })}\n`,
      );
      return;
    }
    const heading =
      `${config.name} (kafka ${config.kafka.mode}, state table ${config.stateTable.billing}) at ` +
      `${rate.toLocaleString('en-US')} events/s, ${num(est.bytesPerEvent)} bytes/event: ` +
      `${num(est.eventsPerMonth / 1e6)}M events per month of 730 h\n` +
      `work per event: ${opts.profile} (${profile.command}, ${profile.measuredAt})` +
      (profile.notMetered.length > 0 ? `; not metered: ${profile.notMetered.join(', ')}` : '') +
      `\nprices: ${opts.prices} (${prices.region}, ${prices.asOf})`;
    process.stdout.write(`${formatCostTable(est, heading)}\n`);
  } catch (err) {
    if (
      err instanceof ConfigError ||
      err instanceof WorkProfileError ||
      err instanceof PriceFileError ||
      err instanceof CostModelError ||
      err instanceof DomainConfigError
    )
      throw new UserError(err.message.replace(/\s*\n\s*/g, '; '));
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('cost')
    .description(
      'monthly cost of a deployment by line item at a sustained rate, beside Managed Flink and Firehose',
    )
    .option('--env <name>', 'environment: config/environments/<name>.yaml')
    .option('--rate <events/s>', 'sustained events per second, e.g. 10000 or 10k')
    .option('--bytes-per-event <n>', "raw record bytes (key + value) per event (default: the work profile's)")
    .option(
      '--flink-events-per-kpu <n>',
      `events/s one Managed Flink KPU handles for this job (default: ${ASSUMPTIONS.flinkEventsPerKpu})`,
    )
    .option('--profile <path>', 'work profile written by the local-stack bench', WORK_PROFILE_FILE)
    .option('--prices <path>', 'price file', PRICES_FILE)
    .option('--json', 'print one JSON object instead of the table')
    .showHelpAfterError(false)
    .exitOverride((err) => {
      // Help and version exit 0; every other commander error is a user mistake: exit 2, one line.
      if (err.exitCode === 0) throw err;
      throw new CommanderError(2, err.code, err.message);
    })
    .addHelpText(
      'after',
      '\nThe model, its assumptions and the price sources: README.md (Command line) and cli/cost/model.ts.\n' +
        'Examples:\n  tidewater cost --env prod --rate 10000\n  tidewater cost --env dev --rate 1k --bytes-per-event 400 --json',
    )
    .action((opts: CostOptions) => {
      cost(opts);
    });
}
