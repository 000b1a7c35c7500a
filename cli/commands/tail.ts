import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer, type Message } from '@platformatic/kafka';
import type { Command } from 'commander';
import type { DeadLetter, Row } from '../../functions/core/index.ts';
import { loadEnvironmentConfig } from '../../lib/config/environment-config.ts';
import { countOf } from '../args.ts';
import { requireNode22, UserError } from '../errors.ts';
import { sqsFor } from '../queue.ts';
import { brokersOf, partitionCounts } from '../topics.ts';
import { resolveDeployedLocal } from './run-local.ts';

/**
 * `tidewater tail alerts | dead-letters`: records as they arrive, one readable line each (`--json`:
 * one JSON object per line), until Ctrl-C, `--count N` records or `--seconds S`.
 *
 * - alerts: the alerts topic (default: the `local` environment's, on the local broker), from its
 *   end (`--from-beginning`: from its start), every partition; nothing is committed.
 * - dead-letters: the poison queue (default: the deployed local stage's), letters sent from now on
 *   (`--all`: those already waiting too). Tail never deletes a letter: each one received is hidden
 *   from other readers for 2 s (`redrive` gets it on its next receive) and printed once.
 */

export interface TailOptions {
  readonly json?: boolean;
  /** Stop after this many records. @default no limit */
  readonly count?: number;
  /** Stop after this many seconds. @default no limit */
  readonly seconds?: number;
  /** Where each line goes. @default stdout */
  readonly write?: (line: string) => void;
  /** Stops the tail when aborted (Ctrl-C). */
  readonly signal?: AbortSignal;
}

const iso = (ms: unknown): string =>
  typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);

/**
 * One line for an alert: when it was detected, severity, pattern, key and event, the event time
 * and how long after it the alert was decided, then its details. Keys are the domain's (any
 * `*_id` columns are shown as they come).
 */
export function formatAlertLine(alert: Row): string {
  const detected = alert['detected_at'];
  const ts = alert['ts'];
  const lag =
    typeof detected === 'number' && typeof ts === 'number'
      ? ` (+${formatMs(detected - ts)} after the event)`
      : '';
  const skip = new Set(['alert_id', 'pattern', 'severity', 'ts', 'details', 'detected_at', 'processed_at']);
  const ids = Object.entries(alert)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  const details = typeof alert['details'] === 'string' ? ` ${alert['details']}` : '';
  return `${iso(detected)} ${String(alert['severity']).padEnd(8)} ${String(alert['pattern']).padEnd(18)} ${ids} event at ${iso(ts)}${lag}${details}`;
}

/** One line for a dead letter: when it was sent, reason code and message, coordinates, value head. */
export function formatDeadLetterLine(
  letter: DeadLetter & { readonly valueRef?: string },
  sentAt: number,
): string {
  const value =
    letter.valueBase64 === null || letter.valueBase64 === undefined
      ? letter.valueRef === undefined
        ? '(no value)'
        : `(value in ${letter.valueRef})`
      : JSON.stringify(preview(Buffer.from(letter.valueBase64, 'base64').toString('utf8')));
  const detail = 'message' in letter.reason && letter.reason.message ? `: ${letter.reason.message}` : '';
  return `${iso(sentAt)} ${letter.reason.code}${detail} at ${letter.topic}-${letter.partition}@${letter.offset} key=${letter.key ?? '(none)'} ${value}`;
}

function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function formatMs(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Resolves when `seconds` pass or `signal` aborts (never, with neither). */
function stopWhen(o: TailOptions): Promise<void> {
  return new Promise((resolve) => {
    if (o.seconds !== undefined) setTimeout(resolve, o.seconds * 1000).unref();
    if (o.signal?.aborted) resolve();
    o.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Prints the alerts of `topic` as they arrive; resolves with how many were printed. */
export async function tailAlerts(
  o: TailOptions & {
    readonly topic: string;
    readonly brokers: readonly string[];
    readonly fromBeginning?: boolean;
  },
): Promise<number> {
  const write = o.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const partitions = (
    await partitionCounts(o.brokers, [o.topic], 'deploy the local stack, or pass --topic')
  ).get(o.topic)!;
  const consumer = new Consumer({
    clientId: 'tidewater-tail',
    groupId: `tidewater-tail-${process.pid}-${Date.now()}`,
    bootstrapBrokers: [...o.brokers],
    maxWaitTime: 200,
    autocommit: false,
  });
  let printed = 0;
  try {
    const at = await consumer.listOffsets({ topics: [o.topic], timestamp: o.fromBeginning ? -2n : -1n });
    const offsets = Array.from({ length: partitions }, (_, partition) => ({
      topic: o.topic,
      partition,
      offset: at.get(o.topic)?.[partition] ?? 0n,
    }));
    const stream = await consumer.consume({ topics: [o.topic], mode: 'manual', offsets, autocommit: false });
    const done = new AbortController();
    stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      if (done.signal.aborted) return;
      const text = m.value?.toString('utf8') ?? '';
      let alert: Row;
      try {
        alert = JSON.parse(text) as Row;
      } catch {
        write(o.json ? JSON.stringify({ unreadable: text }) : `(not an alert: ${preview(text)})`);
        return;
      }
      write(o.json ? JSON.stringify(alert) : formatAlertLine(alert));
      printed++;
      if (o.count !== undefined && printed >= o.count) done.abort();
    });
    await Promise.race([
      stopWhen(o),
      new Promise<void>((resolve) => done.signal.addEventListener('abort', () => resolve())),
      new Promise<void>((_, reject) => stream.on('error', reject)),
    ]);
    done.abort();
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return printed;
}

/** Prints the letters of the poison queue as they arrive; resolves with how many were printed. */
export async function tailDeadLetters(
  o: TailOptions & { readonly queueUrl: string; readonly sqs?: SQSClient; readonly all?: boolean },
): Promise<number> {
  const write = o.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const sqs = o.sqs ?? sqsFor(o.queueUrl);
  const since = o.all ? 0 : Date.now();
  const seen = new Set<string>();
  let printed = 0;
  let stopped = false;
  const stop = stopWhen(o).then(() => {
    stopped = true;
  });
  while (!stopped && (o.count === undefined || printed < o.count)) {
    const received: SqsMessage[] = await Promise.race([
      sqs
        .send(
          new ReceiveMessageCommand({
            QueueUrl: o.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            // Hidden briefly so that successive receives walk the queue; never deleted.
            VisibilityTimeout: 2,
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
        )
        .then((r) => r.Messages ?? [])
        .catch((err: unknown) => {
          throw new UserError(`cannot read the queue ${o.queueUrl}: ${(err as Error).message}`);
        }),
      stop.then(() => []),
    ]);
    const fresh = received
      .filter((m) => m.MessageId !== undefined && !seen.has(m.MessageId))
      .map((m) => ({ m, sentAt: Number(m.Attributes?.SentTimestamp ?? 0) }))
      .sort((a, b) => a.sentAt - b.sentAt);
    for (const { m, sentAt } of fresh) {
      seen.add(m.MessageId!);
      if (sentAt < since) continue;
      let letter: DeadLetter;
      try {
        letter = JSON.parse(m.Body ?? '') as DeadLetter;
      } catch {
        write(
          o.json ? JSON.stringify({ unreadable: m.Body }) : `(not a dead letter: ${preview(m.Body ?? '')})`,
        );
        continue;
      }
      write(o.json ? JSON.stringify({ ...letter, sent_at: sentAt }) : formatDeadLetterLine(letter, sentAt));
      printed++;
      if (o.count !== undefined && printed >= o.count) break;
    }
  }
  return printed;
}

interface TailCliOptions {
  readonly json?: boolean;
  readonly count?: string;
  readonly seconds?: string;
  readonly topic?: string;
  readonly brokers?: string;
  readonly fromBeginning?: boolean;
  readonly queue?: string;
  readonly all?: boolean;
}

const WHAT = ['alerts', 'dead-letters'] as const;

export async function tailCommand(what: string, options: TailCliOptions): Promise<void> {
  if (!(WHAT as readonly string[]).includes(what))
    throw new UserError(`tail what? '${what}' is not one of: ${WHAT.join(', ')}`);
  const count = options.count === undefined ? undefined : countOf(options.count);
  if (options.count !== undefined && (count === undefined || count < 1))
    throw new UserError(`--count must be a positive integer, got '${options.count}'`);
  const seconds = options.seconds === undefined ? undefined : Number(options.seconds);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0))
    throw new UserError(`--seconds must be a positive number, got '${options.seconds}'`);
  if (what === 'alerts' && (options.queue !== undefined || options.all))
    throw new UserError('--queue and --all apply to tail dead-letters');
  if (what === 'dead-letters' && (options.topic !== undefined || options.fromBeginning))
    throw new UserError('--topic and --from-beginning apply to tail alerts');
  requireNode22('tail', "'npx tidewater tail ...'");
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const common = {
    ...(options.json ? { json: true } : {}),
    ...(count === undefined ? {} : { count }),
    ...(seconds === undefined ? {} : { seconds }),
    signal: abort.signal,
  };
  if (what === 'alerts') {
    const topic = options.topic ?? loadEnvironmentConfig('local').kafka.topics.alerts.name;
    await tailAlerts({
      ...common,
      topic,
      brokers: brokersOf(options.brokers),
      ...(options.fromBeginning ? { fromBeginning: true } : {}),
    });
    return;
  }
  let queueUrl = options.queue;
  if (queueUrl === undefined) {
    try {
      queueUrl = (await resolveDeployedLocal()).resources.queueUrl;
    } catch (err) {
      throw new UserError(
        `no poison queue found in the deployed local stack (${(err as Error).message}): run 'tidewater run --stack local' first, or pass --queue URL`,
      );
    }
  }
  await tailDeadLetters({ ...common, queueUrl, ...(options.all ? { all: true } : {}) });
}

export function register(program: Command): void {
  program
    .command('tail')
    .description('print alerts or dead letters as they arrive, one line each (Ctrl-C stops)')
    .argument('<what>', `what to follow: ${WHAT.join(' | ')}`)
    .option('--json', 'one JSON object per line (the alert as on its topic; the letter with sent_at)')
    .option('--count <n>', 'stop after N records')
    .option('--seconds <s>', 'stop after S seconds')
    .option('--topic <name>', "alerts: the topic (default: the local environment's alerts topic)")
    .option('--brokers <list>', 'alerts: bootstrap brokers host:port[,...] (default: the local stack)')
    .option('--from-beginning', 'alerts: start at the start of the topic instead of its end')
    .option('--queue <url>', "dead-letters: the poison queue URL (default: the deployed local stage's)")
    .option('--all', 'dead-letters: also the letters already waiting, not only new ones')
    .addHelpText(
      'after',
      `
Tail only reads: it commits no Kafka offset and deletes no letter (a letter it reads is hidden
from other readers for 2 s).

Examples:
  tidewater run --stack local --rate 200 --duration 300     # in one terminal
  tidewater tail alerts                                      # in another
  tidewater tail dead-letters --json | jq .reason.code`,
    )
    .action(async (what: string, options: TailCliOptions) => {
      await tailCommand(what, options);
    });
}
