import type { Message } from '@aws-sdk/client-sqs';
import type { Producer } from '@platformatic/kafka';
import type { Command } from 'commander';
import type { DeadLetter } from '../../functions/core/index.ts';
import { partitionOfKey } from '../../functions/handlers/lib/partitioner.ts';
import { parseCount } from '../args.ts';
import { UserError } from '../errors.ts';
import { deleteMessages, receive, releaseMessages, sqsFor } from '../queue.ts';
import { brokersOf, kafkaProducer, partitionCounts } from '../topics.ts';
import { formatCount } from '../ui/progress.ts';

/**
 * `tidewater redrive --queue URL [--reason CODE,...] [--topic T] [--brokers ...] [--max N]
 * [--dry-run] [--json]`: poison records from the dead-letter queue back into Kafka, after the cause
 * is fixed (a currency added to the rate table, a contract relaxed, a producer repaired).
 *
 * Each letter's raw bytes (`valueBase64`) and key go to its own topic (or `--topic`), on the
 * partition the key gives (as `tidewater produce` does; the record's old partition without a
 * key), and the message is deleted only once Kafka has acknowledged the record. The sink delivers
 * at least once, so letters repeating coordinates (topic, partition, offset) are produced once per
 * run (a later copy is caught downstream by event_id de-duplication).
 * Letters of other reasons (`--reason`) go back to the queue untouched, as do letters whose value
 * the sink kept in the ops bucket (`valueRef`: over the SQS size limit), which this command does
 * not fetch. The queue and Kafka are the local stack's unless the URL is another endpoint's.
 */

interface RedriveOptions {
  readonly queue?: string;
  readonly reason?: string;
  readonly topic?: string;
  readonly brokers?: string;
  readonly max?: number;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

export interface RedriveResult {
  readonly queue: string;
  readonly dryRun: boolean;
  /** Letters produced (or, in a dry run, that would be) and deleted, by reason code. */
  readonly redriven: Readonly<Record<string, number>>;
  /** Repeated coordinates: deleted without producing again. */
  readonly repeats: number;
  /** Left in the queue: other reasons, values in the ops bucket. */
  readonly left: { readonly otherReason: number; readonly valueInOpsBucket: number };
  /** Records per topic. */
  readonly topics: Readonly<Record<string, number>>;
}

function parseLetter(m: Message): DeadLetter & { readonly valueRef?: string } {
  let letter: unknown;
  try {
    letter = JSON.parse(m.Body ?? '');
  } catch {
    letter = undefined;
  }
  const l = letter as Partial<DeadLetter> | undefined;
  if (
    l === undefined ||
    typeof l.topic !== 'string' ||
    typeof l.partition !== 'number' ||
    typeof l.offset !== 'number' ||
    typeof l.reason?.code !== 'string'
  ) {
    throw new UserError(
      `message ${m.MessageId ?? '?'} is not a Tidewater dead letter (topic, partition, offset, reason): is --queue the poison queue?`,
    );
  }
  return l as DeadLetter;
}

export async function redrive(o: RedriveOptions): Promise<RedriveResult> {
  const queue = o.queue ?? process.env['TIDEWATER_DLQ_URL'];
  if (queue === undefined || queue === '')
    throw new UserError('give the poison queue: --queue URL (or TIDEWATER_DLQ_URL)');
  const reasons = o.reason === undefined ? null : new Set(o.reason.split(',').map((r) => r.trim()));
  const brokers = brokersOf(o.brokers);
  const max = o.max ?? Number.POSITIVE_INFINITY;
  const sqs = sqsFor(queue);
  const redriven: Record<string, number> = {};
  const topics: Record<string, number> = {};
  const seen = new Set<string>();
  const left = { otherReason: 0, valueInOpsBucket: 0 };
  let repeats = 0;
  let producer: Producer | undefined;
  const partitionsOf = new Map<string, number>();
  // Held messages stay invisible until the end, so one pass never receives them twice; then,
  // whatever happened, they are visible again for the queue's other readers.
  const hold: Message[] = [];
  try {
    for (let done = 0; done < max; ) {
      const messages = await receive(sqs, queue, max - done);
      if (messages.length === 0) break;
      const take: Array<{ message: Message; letter: DeadLetter }> = [];
      const drop: Message[] = [];
      for (const m of messages) {
        const letter = parseLetter(m);
        const at = `${letter.topic}\u0000${letter.partition}\u0000${letter.offset}`;
        if (reasons !== null && !reasons.has(letter.reason.code)) {
          left.otherReason++;
          hold.push(m);
        } else if (typeof letter.valueBase64 !== 'string' && letter.valueRef !== undefined) {
          left.valueInOpsBucket++;
          hold.push(m);
        } else if (seen.has(at)) {
          repeats++;
          drop.push(m);
        } else {
          seen.add(at);
          take.push({ message: m, letter });
        }
      }
      if (take.length > 0 && !o.dryRun) {
        const wanted = [...new Set(take.map((t) => o.topic ?? t.letter.topic))].filter(
          (t) => !partitionsOf.has(t),
        );
        if (wanted.length > 0)
          for (const [t, n] of await partitionCounts(brokers, wanted, 'pass --topic')) partitionsOf.set(t, n);
        producer ??= kafkaProducer('tidewater-redrive', brokers);
        await producer.send({
          messages: take.map(({ letter }) => {
            const topic = o.topic ?? letter.topic;
            const n = partitionsOf.get(topic) ?? 1;
            const key = letter.key;
            return {
              topic,
              partition: key === null || key === '' ? letter.partition % n : partitionOfKey(key, n),
              ...(key === null ? {} : { key: Buffer.from(key, 'utf8') }),
              ...(letter.valueBase64 === null ? {} : { value: Buffer.from(letter.valueBase64, 'base64') }),
            };
          }),
        });
      }
      for (const { letter } of take) {
        redriven[letter.reason.code] = (redriven[letter.reason.code] ?? 0) + 1;
        const topic = o.topic ?? letter.topic;
        topics[topic] = (topics[topic] ?? 0) + 1;
      }
      done += take.length;
      if (o.dryRun) hold.push(...take.map((t) => t.message), ...drop);
      else await deleteMessages(sqs, queue, [...take.map((t) => t.message), ...drop]);
    }
  } finally {
    await releaseMessages(sqs, queue, hold).finally(async () => {
      await producer?.close();
      sqs.destroy();
    });
  }
  return { queue, dryRun: o.dryRun === true, redriven, repeats, left, topics };
}

function formatResult(r: RedriveResult): string {
  const total = Object.values(r.redriven).reduce((a, b) => a + b, 0);
  const byReason = Object.entries(r.redriven)
    .map(([code, n]) => `${code} ${formatCount(n)}`)
    .join(', ');
  const into = Object.entries(r.topics)
    .map(([t, n]) => `${t} ${formatCount(n)}`)
    .join(', ');
  return [
    `${r.dryRun ? 'would redrive' : 'redrove'} ${formatCount(total)} dead letters${total > 0 ? ` (${byReason}) into ${into}` : ''}`,
    ...(r.repeats > 0
      ? [`  ${formatCount(r.repeats)} repeated letters (same coordinates) deleted, not produced again`]
      : []),
    ...(r.left.otherReason > 0
      ? [`  ${formatCount(r.left.otherReason)} letters of other reasons left in the queue`]
      : []),
    ...(r.left.valueInOpsBucket > 0
      ? [
          `  ${formatCount(r.left.valueInOpsBucket)} letters left in the queue: their values are in the ops bucket (valueRef)`,
        ]
      : []),
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('redrive')
    .description('poison records from the dead-letter queue back into Kafka, once their cause is fixed')
    .option('--queue <url>', 'the poison queue (default: TIDEWATER_DLQ_URL)')
    .option(
      '--reason <codes>',
      'only letters with these reason codes, comma-separated (e.g. unknown_currency)',
    )
    .option('--topic <topic>', "produce into this topic instead of each letter's own")
    .option(
      '--brokers <list>',
      'bootstrap brokers, host:port[,...] (default: KAFKA_BROKERS or 127.0.0.1:9092)',
    )
    .option('--max <n>', 'redrive at most N letters', parseCount)
    .option('--dry-run', 'count what would be redriven; produce and delete nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
A letter is deleted from the queue only after Kafka acknowledged its record. Letters that repeat
coordinates (topic, partition, offset) are produced once per run. Letters of other reasons, and letters
whose value is in the ops bucket (over the SQS size limit), stay in the queue.

Exit codes: 0 ok; 2 a usage problem, an unreadable queue, a missing topic.

Examples:
  tidewater redrive --queue http://127.0.0.1:4566/000000000000/tidewater-local-poison --reason unknown_currency --dry-run
  tidewater redrive --queue "$TIDEWATER_DLQ_URL" --max 1000`,
    )
    .action(async (o: RedriveOptions) => {
      const result = await redrive(o);
      process.stdout.write(`${o.json ? JSON.stringify(result) : formatResult(result)}\n`);
    });
}
