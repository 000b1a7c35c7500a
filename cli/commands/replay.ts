import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { Consumer, type Message, type Producer } from '@platformatic/kafka';
import { type Command, InvalidArgumentError } from 'commander';
import { parsePartitionId } from '../../functions/core/index.ts';
import { partitionOfKey } from '../../functions/handlers/lib/partitioner.ts';
import { UserError } from '../errors.ts';
import { deleteMessages, receive, releaseMessages, sqsFor } from '../queue.ts';
import { brokersOf, kafkaProducer, partitionCounts } from '../topics.ts';
import { formatCount } from '../ui/progress.ts';

/**
 * `tidewater replay --topic T --partition P --from F [--to L] [--into TOPIC] [--brokers ...]
 * [--dry-run] [--json]`: the records of one partition's offset range produced again, so that the
 * pipeline processes them again: a batch that exhausted its retries (the on-failure queue names its
 * topic, partition and offsets), or a range to rebuild after a fix.
 *
 * Records keep their key, value bytes and headers. Into their own topic they go to their own
 * partition, after its current end, in their order; into another topic (`--into`), to the
 * partition their key gives (as `tidewater produce` does). Replayed events that the pipeline had
 * already taken are dropped as duplicates by event_id (within the domain's dedup retention).
 * A range is read whole before it is produced: it is meant for batches and ranges of up to some
 * hundred thousand records, not for re-producing a topic.
 *
 * `tidewater replay --on-failure-queue URL` replays every batch an event source mapping's SQS
 * on-failure destination names (its `KafkaBatchInfo.recordsInfo`: per `"<topic>-<partition>"`, the
 * first and last offset) into its own topic, and deletes each message once its ranges are replayed.
 */

interface ReplayOptions {
  readonly onFailureQueue?: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly from?: number;
  readonly to?: number;
  readonly into?: string;
  readonly brokers?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

export interface ReplayResult {
  readonly topic: string;
  readonly partition: number;
  readonly from: number;
  readonly to: number;
  readonly into: string;
  readonly dryRun: boolean;
  /** Records read in the range (offsets may have gaps: compaction, transaction markers). */
  readonly replayed: number;
}

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const topic = o.topic;
  const partition = o.partition;
  const from = o.from;
  if (topic === undefined || partition === undefined || from === undefined)
    throw new UserError('give the range: --topic T --partition P --from OFFSET [--to OFFSET]');
  const into = o.into ?? topic;
  const brokers = brokersOf(o.brokers);
  const consumer = new Consumer({
    clientId: 'tidewater-replay',
    groupId: `tidewater-replay-${process.pid}-${Date.now()}`,
    bootstrapBrokers: [...brokers],
    maxWaitTime: 500,
  });
  let producer: Producer | undefined;
  try {
    const counts = await partitionCounts(brokers, [...new Set([topic, into])]);
    const n = counts.get(topic) ?? 0;
    if (partition >= n) throw new UserError(`topic ${topic} has partitions 0..${n - 1}, not ${partition}`);
    const earliest = Number(
      (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic)?.[partition] ?? 0n,
    );
    const end = Number(
      (await consumer.listOffsets({ topics: [topic], timestamp: -1n })).get(topic)?.[partition] ?? 0n,
    );
    const to = o.to ?? end - 1;
    if (from < earliest)
      throw new UserError(
        `offsets of ${topic}-${partition} before ${earliest} are gone (retention); start at ${earliest} or later`,
      );
    for (const [flag, offset] of [
      ['--from', from],
      ['--to', to],
    ] as const) {
      if (offset >= end)
        throw new UserError(`${topic}-${partition} ends at offset ${end - 1}; ${flag} ${offset} is past it`);
    }
    if (from > to) throw new UserError(`--from ${from} is after --to ${to}: nothing to replay`);
    const records = await readRange(consumer, topic, partition, from, to);
    if (!o.dryRun && records.length > 0) {
      producer = kafkaProducer('tidewater-replay', brokers);
      const target = counts.get(into) ?? 1;
      for (let i = 0; i < records.length; i += 1_000) {
        await producer.send({
          messages: records.slice(i, i + 1_000).map((m) => ({
            topic: into,
            partition:
              into === topic
                ? partition
                : m.key.length > 0
                  ? partitionOfKey(m.key.toString('utf8'), target)
                  : partition % target,
            ...(m.key.length > 0 ? { key: m.key } : {}),
            ...(m.value.length > 0 ? { value: m.value } : {}),
            headers: m.headers,
          })),
        });
      }
    }
    return { topic, partition, from, to, into, dryRun: o.dryRun === true, replayed: records.length };
  } finally {
    await producer?.close();
    await consumer.close();
  }
}

/** What an SQS on-failure destination of a Kafka event source mapping receives (the part used here). */
interface OnFailureBatch {
  readonly KafkaBatchInfo?: {
    readonly recordsInfo?: Readonly<
      Record<string, { readonly firstRecordOffset?: string; readonly lastRecordOffset?: string }>
    >;
  };
}

/** The ranges of an on-failure message: `"<topic>-<partition>"` (the topic may hold dashes) to offsets. */
function rangesOf(m: SqsMessage): Array<{ topic: string; partition: number; from: number; to: number }> {
  let body: OnFailureBatch | undefined;
  try {
    body = JSON.parse(m.Body ?? '') as OnFailureBatch;
  } catch {
    body = undefined;
  }
  const info = body?.KafkaBatchInfo?.recordsInfo;
  if (info === undefined || info === null || typeof info !== 'object')
    throw new UserError(
      `message ${m.MessageId ?? '?'} has no KafkaBatchInfo.recordsInfo: is this an on-failure queue of a Kafka mapping?`,
    );
  return Object.entries(info).map(([key, r]) => {
    const at = parsePartitionId(key);
    const from = Number(r.firstRecordOffset);
    const to = Number(r.lastRecordOffset);
    if (at === undefined || !Number.isSafeInteger(from) || !Number.isSafeInteger(to))
      throw new UserError(
        `message ${m.MessageId ?? '?'}: cannot read the batch "${key}" ${JSON.stringify(r)}`,
      );
    return { ...at, from, to };
  });
}

/** Replays every batch the on-failure queue names; a message is deleted once its ranges are replayed. */
export async function replayOnFailure(queue: string, o: ReplayOptions): Promise<ReplayResult[]> {
  const sqs = sqsFor(queue);
  const results: ReplayResult[] = [];
  // Held (dry run) messages are visible again at the end, whatever happened.
  const hold: SqsMessage[] = [];
  try {
    for (;;) {
      const messages = await receive(sqs, queue);
      if (messages.length === 0) break;
      for (const m of messages) {
        for (const range of rangesOf(m)) results.push(await replay({ ...o, ...range }));
        if (o.dryRun) hold.push(m);
        else await deleteMessages(sqs, queue, [m]);
      }
    }
  } finally {
    await releaseMessages(sqs, queue, hold).finally(() => sqs.destroy());
  }
  return results;
}

/** The records of `topic`-`partition` with offsets `from..to`, in order. */
async function readRange(
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  topic: string,
  partition: number,
  from: number,
  to: number,
): Promise<BufferMessage[]> {
  const stream = await consumer.consume({
    topics: [topic],
    mode: 'manual',
    offsets: [{ topic, partition, offset: BigInt(from) }],
    autocommit: false,
  });
  const out: BufferMessage[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new UserError(
              `read ${out.length} records of ${topic}-${partition} ${from}..${to} in 60 s; is the broker reachable?`,
            ),
          ),
        60_000,
      );
      stream.on('data', (m: BufferMessage) => {
        if (m.partition !== partition || m.topic !== topic) return;
        const offset = Number(m.offset);
        if (offset >= from && offset <= to) out.push(m);
        if (offset >= to) {
          clearTimeout(timer);
          resolve();
        }
      });
      stream.on('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } finally {
    await stream.close();
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description("one partition's offset range produced again, for the pipeline to process again")
    .option(
      '--on-failure-queue <url>',
      'replay every batch this on-failure queue (SQS) names, instead of one range',
    )
    .option('--topic <topic>', 'the topic to read')
    .option('--partition <p>', 'its partition', parsePartition)
    .option('--from <offset>', 'first offset', parseOffset)
    .option('--to <offset>', 'last offset (default: the last record)', parseOffset)
    .option('--into <topic>', 'produce into this topic (default: the same one)')
    .option(
      '--brokers <list>',
      'bootstrap brokers, host:port[,...] (default: KAFKA_BROKERS or 127.0.0.1:9092)',
    )
    .option('--dry-run', 'count the records of the range; produce nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Records keep their key, value bytes and headers. Into their own topic they go to their own
partition, after its end; into another, to the partition their key gives. Events the pipeline had
already taken are dropped again as duplicates (event_id), within the dedup retention.

Exit codes: 0 ok; 2 a usage problem, a missing topic or partition, a range outside the partition.

Examples:
  tidewater replay --topic tidewater.raw-events --partition 3 --from 1200 --to 1299
  tidewater replay --topic tidewater.raw-events --partition 0 --from 0 --into scratch.raw --dry-run
  tidewater replay --on-failure-queue "$CEP_ON_FAILURE_QUEUE_URL" --dry-run`,
    )
    .action(async (o: ReplayOptions) => {
      if (o.onFailureQueue !== undefined && (o.topic !== undefined || o.from !== undefined))
        throw new UserError(
          'give either --on-failure-queue or a range (--topic, --partition, --from), not both',
        );
      const results =
        o.onFailureQueue === undefined ? [await replay(o)] : await replayOnFailure(o.onFailureQueue, o);
      const line = (r: ReplayResult) =>
        `${r.dryRun ? 'would replay' : 'replayed'} ${formatCount(r.replayed)} records of ${r.topic}-${r.partition} (offsets ${r.from}..${r.to}) into ${r.into}`;
      const text =
        o.onFailureQueue === undefined
          ? o.json
            ? JSON.stringify(results[0])
            : line(results[0]!)
          : o.json
            ? JSON.stringify(results)
            : results.length === 0
              ? `no batch in ${o.onFailureQueue}`
              : results.map(line).join('\n');
      process.stdout.write(`${text}\n`);
    });
}

/** A partition number or an offset: a whole number, 0 or more. */
function parseWhole(what: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0)
      throw new InvalidArgumentError(`expected a ${what} (0 or more), got "${text}"`);
    return n;
  };
}

const parsePartition = parseWhole('partition');
const parseOffset = parseWhole('offset');
