import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { GeneratorSource, JsonlFileSource } from '../../functions/adapters/embedded/index.ts';
import {
  type Domain,
  DomainConfigError,
  type GeneratorOptions,
  loadDomain,
} from '../../functions/core/index.ts';
import { partitionOfKey } from '../../functions/handlers/lib/partitioner.ts';
import type { EventSource } from '../../functions/ports/event-source.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { parseCount, parseRate, parseSeed } from '../args.ts';
import { UserError } from '../errors.ts';
import { brokersOf, kafkaProducer, partitionCounts } from '../topics.ts';
import { formatCount, formatRate, ProgressBar } from '../ui/progress.ts';

/**
 * `tidewater produce [--generate N --seed S --poison-rate r --duplicate-rate r --anomalies | --input FILE]
 * [--topic T] [--brokers host:port,...]`: events into the raw topic of a Kafka cluster (the local
 * stack by default), with a progress bar. Each record is keyed by the domain's key field (user_id)
 * and goes to the partition Kafka's default (Java) partitioner gives that key, so a user's events
 * stay together and in order; values are sent as their exact bytes (a poison record's invalid
 * UTF-8 included). The producer is idempotent (acks=all): its own retries never duplicate a record.
 */

export const DEFAULT_RAW_TOPIC = 'tidewater.raw-events';

export interface ProduceOptions {
  readonly source: EventSource;
  readonly domain: Domain;
  readonly topic?: string;
  readonly brokers?: readonly string[];
  /** Records per produce request. @default 2_000 */
  readonly batchSize?: number;
  /**
   * Events per second to produce at, steadily: small sends every 20 ms, each when the last of its
   * events is due (a send that falls behind is followed by the next at once, to catch up). The
   * broker stamps each record with the producer's clock at its send (CreateTime): what the
   * latency measures start from. @default as fast as possible
   */
  readonly ratePerSecond?: number;
  /** Stops producing after this many seconds (at a steady rate: rate × seconds events). @default no limit */
  readonly maxSeconds?: number;
  /**
   * Live runs: the event-time field (`ts` in payments) of every JSON record is rewritten to the
   * time of its send, minus its lag behind the stream (the newest event time seen before it), so
   * event time is now and the generator's out-of-order and late events stay so. @default as given
   */
  readonly stampEventTime?: string;
  readonly onProgress?: (produced: number, fraction: number | undefined) => void;
}

export interface ProduceResult {
  readonly topic: string;
  readonly produced: number;
  /** Records per partition. */
  readonly byPartition: Readonly<Record<number, number>>;
  readonly elapsedMs: number;
}

function keyOf(domain: Domain, value: string | null): string | null {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const k = (parsed as Record<string, unknown>)[domain.keyField];
      if (typeof k === 'string' && k !== '') return k;
    }
  } catch {
    // not JSON: a poison record, produced without a key
  }
  return null;
}

export async function produceEvents(options: ProduceOptions): Promise<ProduceResult> {
  const topic = options.topic ?? DEFAULT_RAW_TOPIC;
  const brokers = options.brokers ?? endpoints().kafkaBrokers;
  const started = performance.now();
  const partitions =
    (await partitionCounts(brokers, [topic], 'deploy the stack or pass --topic')).get(topic) ?? 0;
  const producer = kafkaProducer('tidewater-produce', brokers);
  const byPartition: Record<number, number> = {};
  let produced = 0;
  const rate = options.ratePerSecond;
  const sendSize = rate === undefined ? (options.batchSize ?? 2_000) : Math.max(1, Math.round(rate / 50));
  const deadline =
    options.maxSeconds === undefined ? Number.POSITIVE_INFINITY : started + options.maxSeconds * 1000;
  try {
    const stamp = options.stampEventTime;
    let newestTs = Number.NEGATIVE_INFINITY;
    for await (const batch of options.source.batches(sendSize)) {
      if (rate !== undefined) {
        const due = started + ((produced + batch.records.length) * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      if (performance.now() >= deadline) break;
      const now = Date.now();
      const messages = batch.records.map((r) => {
        const key = r.key ?? keyOf(options.domain, r.value);
        const partition = key === null ? 0 : partitionOfKey(key, partitions);
        byPartition[partition] = (byPartition[partition] ?? 0) + 1;
        const text =
          stamp === undefined || r.value === null
            ? r.value
            : restamp(r.value, stamp, now, (ts) => {
                newestTs = Math.max(newestTs, ts);
                return newestTs - ts;
              });
        const value =
          r.valueBase64 != null
            ? Buffer.from(r.valueBase64, 'base64')
            : text === null
              ? undefined
              : Buffer.from(text, 'utf8');
        return {
          topic,
          partition,
          ...(key === null ? {} : { key: Buffer.from(key, 'utf8') }),
          ...(value === undefined ? {} : { value }),
        };
      });
      await producer.send({ messages });
      produced += messages.length;
      options.onProgress?.(produced, options.source.progress());
    }
  } finally {
    await producer.close();
  }
  return { topic, produced, byPartition, elapsedMs: performance.now() - started };
}

/**
 * `value` with its `field` set to `now` minus the event's lag (`lagOf(its time)`), in the format it
 * had (ISO string or epoch ms); unchanged when it is not a JSON object with a readable time there
 * (poison records stay poison).
 */
export function restamp(value: string, field: string, now: number, lagOf: (ts: number) => number): string {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(value) as Record<string, unknown>;
  } catch {
    return value;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return value;
  const t = obj[field];
  const ts = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : Number.NaN;
  if (!Number.isFinite(ts)) return value;
  const at = now - lagOf(ts);
  obj[field] = typeof t === 'number' ? at : new Date(at).toISOString();
  return JSON.stringify(obj);
}

interface ProduceCliOptions {
  readonly generate?: number;
  readonly input?: string;
  readonly seed: number;
  readonly poisonRate: number;
  readonly duplicateRate: number;
  readonly anomalies?: boolean;
  readonly topic: string;
  readonly brokers?: string;
  readonly domain: string;
}

/** The event source of `produce`/`run --stack local` flags (generator or JSONL file). */
export function sourceFor(
  domain: Domain,
  o: { generate?: number; input?: string } & GeneratorOptions,
  topic: string,
): EventSource {
  if ((o.generate === undefined) === (o.input === undefined))
    throw new UserError('pass exactly one of --generate N or --input FILE');
  if (o.input !== undefined) {
    if (!existsSync(o.input)) throw new UserError(`input file not found: ${o.input}`);
    return new JsonlFileSource(o.input, { topic });
  }
  return new GeneratorSource(domain, o.generate ?? 0, {
    topic,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.poisonRate === undefined ? {} : { poisonRate: o.poisonRate }),
    ...(o.duplicateRate === undefined ? {} : { duplicateRate: o.duplicateRate }),
    ...(o.anomalies === undefined ? {} : { anomalies: o.anomalies }),
  });
}

export function register(program: Command): void {
  program
    .command('produce')
    .description('produce generated or JSONL events into the raw Kafka topic (the local stack by default)')
    .option('--generate <n>', 'generate N synthetic events', parseCount)
    .option('--input <file>', 'JSONL file, one record value per line')
    .option('--seed <s>', 'generator seed', parseSeed, 1)
    .option('--poison-rate <r>', 'share of poison records (generator)', parseRate, 0)
    .option('--duplicate-rate <r>', 'share of duplicate records (generator)', parseRate, 0)
    .option('--anomalies', 'inject CEP anomaly scenarios (generator)')
    .option('--topic <topic>', 'raw topic', process.env['TIDEWATER_TOPIC_RAW_EVENTS'] ?? DEFAULT_RAW_TOPIC)
    .option(
      '--brokers <list>',
      'bootstrap brokers, host:port[,...] (default: KAFKA_BROKERS or 127.0.0.1:9092)',
    )
    .option('--domain <name>', 'event domain (config/domains/<name>.yaml)', 'payments')
    .action(async (o: ProduceCliOptions) => {
      let domain: Domain;
      try {
        domain = loadDomain(o.domain);
      } catch (err) {
        if (err instanceof DomainConfigError) throw new UserError(err.message);
        throw err;
      }
      const source = sourceFor(
        domain,
        {
          ...(o.generate === undefined ? {} : { generate: o.generate }),
          ...(o.input === undefined ? {} : { input: o.input }),
          seed: o.seed,
          poisonRate: o.poisonRate,
          duplicateRate: o.duplicateRate,
          ...(o.anomalies ? { anomalies: true } : {}),
        },
        o.topic,
      );
      const bar = new ProgressBar();
      const t0 = performance.now();
      const result = await produceEvents({
        source,
        domain,
        topic: o.topic,
        brokers: brokersOf(o.brokers),
        onProgress: (count, fraction) => bar.update({ fraction, count, elapsedMs: performance.now() - t0 }),
      }).finally(() => bar.done());
      const parts = Object.entries(result.byPartition)
        .map(([p, n]) => `${p}: ${formatCount(n)}`)
        .join(', ');
      process.stdout.write(
        `produced ${formatCount(result.produced)} events to ${result.topic} in ${(result.elapsedMs / 1000).toFixed(1)} s (${formatRate((result.produced * 1000) / Math.max(1, result.elapsedMs))}) — partitions ${parts}\n`,
      );
    });
}
