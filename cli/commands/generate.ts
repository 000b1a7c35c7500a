import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { type Domain, DomainConfigError, generateEvents, loadDomain } from '../../functions/core/index.ts';
import { parseCount, parseRate, parseSeed } from '../args.ts';
import { UserError } from '../errors.ts';

/**
 * `tidewater generate N [--seed S] [--anomalies] [--poison-rate r] [--duplicate-rate r] [--out file]`:
 * synthetic events of a domain as JSONL, one Kafka record value per line (stdout by default),
 * with a progress bar on stderr when it is a terminal. Labels of injected records (anomaly
 * scenarios, poison, duplicates) go to `--labels file` as `{"line":n,"key":...,"label":{...}}`.
 */

interface GenerateOptions {
  readonly seed: number;
  readonly domain: string;
  readonly anomalies?: boolean;
  readonly poisonRate: number;
  readonly duplicateRate: number;
  readonly out?: string;
  readonly labels?: string;
}

/** A one-line progress bar on stderr, redrawn at most ten times a second. */
function progressBar(total: number): { tick(done: number): void; end(): void } {
  const enabled = process.stderr.isTTY === true && total >= 10_000;
  const start = performance.now();
  let last = 0;
  const draw = (done: number) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const secs = (performance.now() - start) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.floor((done / total) * 100)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${rate.toLocaleString('en-US')} ev/s`,
    );
  };
  return {
    tick(done) {
      if (!enabled) return;
      const now = performance.now();
      if (now - last >= 100) {
        last = now;
        draw(done);
      }
    },
    end() {
      if (!enabled) return;
      draw(total);
      process.stderr.write('\n');
    },
  };
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

async function close(stream: Writable): Promise<void> {
  if (stream === process.stdout) return;
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(resolve);
  });
}

function openOut(file: string, what: string): Writable {
  const stream = createWriteStream(file);
  stream.on('error', (err) => {
    process.stderr.write(`tidewater: cannot write ${what} ${file}: ${err.message}\n`);
    process.exit(2);
  });
  return stream;
}

async function generate(count: number, opts: GenerateOptions): Promise<void> {
  let domain: Domain;
  try {
    domain = loadDomain(opts.domain);
  } catch (err) {
    if (err instanceof DomainConfigError) throw new UserError(err.message);
    throw err;
  }
  const out: Writable = opts.out ? openOut(opts.out, 'events to') : process.stdout;
  const labels: Writable | undefined = opts.labels ? openOut(opts.labels, 'labels to') : undefined;
  // A closed pipe (`| head`) ends the run quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const bar = progressBar(count);
  let chunk = '';
  let labelChunk = '';
  let line = 0;
  for (const r of generateEvents(domain, count, {
    seed: opts.seed,
    anomalies: opts.anomalies === true,
    poisonRate: opts.poisonRate,
    duplicateRate: opts.duplicateRate,
  })) {
    line++;
    chunk += `${r.value}\n`;
    if (r.label && labels) labelChunk += `${JSON.stringify({ line, key: r.key, label: r.label })}\n`;
    if (chunk.length > 1 << 16) {
      await write(out, chunk);
      chunk = '';
      if (labels && labelChunk) {
        await write(labels, labelChunk);
        labelChunk = '';
      }
      bar.tick(line);
    }
  }
  await write(out, chunk);
  if (labels) await write(labels, labelChunk);
  bar.end();
  await close(out);
  if (labels) await close(labels);
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('write N synthetic events of a domain as JSONL (one Kafka record value per line)')
    .argument('<n>', 'number of records (poison and duplicates included)', parseCount)
    .option('--seed <s>', 'random seed: the same seed gives the same events', parseSeed, 1)
    .option('--domain <name|path>', 'domain config: a name under config/domains/ or a .yaml path', 'payments')
    .option('--anomalies', 'inject labelled anomaly scenarios for every CEP pattern of the domain')
    .option('--poison-rate <r>', 'share of records replaced by poison records', parseRate, 0)
    .option('--duplicate-rate <r>', 'share of records that repeat an earlier record', parseRate, 0)
    .option('--out <file>', 'write the events to a file instead of stdout')
    .option('--labels <file>', 'write the labels of injected records as JSONL {"line","key","label"}')
    .addHelpText(
      'after',
      '\nExample:\n  tidewater generate 100000 --seed 7 --anomalies --poison-rate 0.01 --out events.jsonl',
    )
    .action(async (count: number, opts: GenerateOptions) => {
      await generate(count, opts);
    });
}
