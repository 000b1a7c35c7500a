import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter } from '../../core/index.ts';
import type { DeadLetterSink } from '../../ports/dead-letter-sink.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { SourceRange } from '../parquet/partition.ts';
import { type RetryOptions, withRetry } from './retry.ts';

/**
 * Poison records to the SQS poison queue (SPEC §1): one message per record, the core's
 * `DeadLetter` as JSON (`reason`, `topic`, `partition`, `offset`, `key`, `valueBase64`), sent with
 * `SendMessageBatch` (10 entries and 256 KiB per request). Failed entries are retried with backoff
 * and the call rejects if any is still unsent: a batch never counts as processed with a poison
 * record missing. A message larger than SQS allows (a record near or above the 256 KiB limit) is
 * stored whole in the ops bucket (`ops/dead_letters/<topic>-<partition>-<offset>.json`) and the
 * message carries `valueRef` (that key) instead of `valueBase64`.
 *
 * Delivery is at least once: a batch retried after a failure may send a record again. Its
 * coordinates (topic, partition, offset) identify it; whoever redrives the letters, and the tests,
 * de-duplicate on them.
 */
export interface SqsDeadLetterSinkOptions {
  readonly queueUrl: string;
  /** @default a new `SQSClient` from the environment */
  readonly client?: SQSClient;
  /** Where oversize letters go; without it an oversize letter fails the batch. */
  readonly spill?: ObjectStore;
  readonly retry?: RetryOptions;
}

/** SQS limits: 10 entries and 262,144 bytes per SendMessageBatch (sum of bodies). */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 262_144;
const MAX_BODY_BYTES = 250_000;

export class SqsDeadLetterSink implements DeadLetterSink {
  readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly spill: ObjectStore | undefined;
  private readonly retry: RetryOptions | undefined;
  /** Messages accepted by SQS so far (tests, bench). */
  sent = 0;

  constructor(options: SqsDeadLetterSinkOptions) {
    this.client = options.client ?? new SQSClient({});
    this.queueUrl = options.queueUrl;
    this.spill = options.spill;
    this.retry = options.retry;
  }

  async send(_source: SourceRange, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const bodies: string[] = [];
    for (const letter of letters) bodies.push(await this.body(letter));
    let batch: SendMessageBatchRequestEntry[] = [];
    let bytes = 0;
    for (let i = 0; i < bodies.length; i++) {
      const body = bodies[i]!;
      const size = Buffer.byteLength(body);
      if (batch.length === MAX_ENTRIES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
        await this.sendBatch(batch);
        batch = [];
        bytes = 0;
      }
      batch.push({ Id: String(i), MessageBody: body });
      bytes += size;
    }
    if (batch.length > 0) await this.sendBatch(batch);
  }

  private async body(letter: DeadLetter): Promise<string> {
    const body = JSON.stringify(letter);
    if (Buffer.byteLength(body) <= MAX_BODY_BYTES) return body;
    if (this.spill === undefined) {
      throw new RangeError(
        `dead letter ${letter.topic}-${letter.partition}@${letter.offset} is ${Buffer.byteLength(body)} bytes, over the SQS limit, and the sink has no spill store: pass \`spill\``,
      );
    }
    const key = `ops/dead_letters/${letter.topic}-${letter.partition}-${letter.offset}.json`;
    await this.spill.put(key, Buffer.from(body));
    const { valueBase64: _omitted, ...rest } = letter;
    return JSON.stringify({ ...rest, valueRef: key });
  }

  private async sendBatch(entries: SendMessageBatchRequestEntry[]): Promise<void> {
    let pending = entries;
    await withRetry(async () => {
      const out = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
      );
      const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
      this.sent += pending.length - failedIds.size;
      if (failedIds.size > 0) {
        const senderFault = (out.Failed ?? []).find((f) => f.SenderFault);
        pending = pending.filter((e) => failedIds.has(e.Id));
        const err = new Error(
          `SQS rejected ${failedIds.size} dead letter(s)${senderFault ? `: ${senderFault.Code} ${senderFault.Message ?? ''}` : ''}`,
        );
        // A sender fault will not pass on retry: fail the batch at once (it is redelivered, not lost).
        err.name = senderFault ? 'DeadLetterRejected' : 'ServiceUnavailable';
        throw err;
      }
    }, this.retry);
  }
}
