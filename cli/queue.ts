import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { awsClientConfig, endpoints } from '../localstack/endpoints.ts';
import { UserError } from './errors.ts';

/**
 * The SQS side of `redrive` and `replay --on-failure-queue`: a queue is read in passes, each
 * received message stays invisible to others while the command works on it, and is then either
 * deleted (done) or released (visible again at once).
 */

/** How long a received message stays invisible to others: longer than one command's pass. */
const HOLD_SECONDS = 300;

/** SQS client for `queueUrl`: the local stack's emulator, or AWS (region from the URL). */
export function sqsFor(queueUrl: string): SQSClient {
  const local = endpoints();
  // The emulator names its queues after the host it was asked on: localhost or 127.0.0.1.
  const loopback = (url: string) => url.replace('://localhost:', '://127.0.0.1:');
  if (loopback(queueUrl).startsWith(loopback(local.awsEndpoint)))
    return new SQSClient(awsClientConfig(local));
  const region = /^https:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(queueUrl)?.[1];
  return new SQSClient(region === undefined ? {} : { region });
}

/** Up to `max` (at most 10) messages, held for this command; empty when the queue has none left. */
export async function receive(sqs: SQSClient, queue: string, max = 10): Promise<Message[]> {
  const received = await sqs
    .send(
      new ReceiveMessageCommand({
        QueueUrl: queue,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: 1,
        VisibilityTimeout: HOLD_SECONDS,
      }),
    )
    .catch((err: unknown) => {
      throw new UserError(`cannot read the queue ${queue}: ${(err as Error).message}`);
    });
  return received.Messages ?? [];
}

/** Deletes messages that are done with; throws if SQS refuses any. */
export async function deleteMessages(
  sqs: SQSClient,
  queue: string,
  messages: readonly Message[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const r = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue,
        Entries: messages
          .slice(i, i + 10)
          .map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
    if ((r.Failed ?? []).length > 0)
      throw new Error(
        `could not delete ${r.Failed?.length} messages from ${queue}: ${r.Failed?.[0]?.Message}`,
      );
  }
}

/** Makes held messages visible again at once, for the queue's other readers. */
export async function releaseMessages(
  sqs: SQSClient,
  queue: string,
  messages: readonly Message[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queue,
        Entries: messages
          .slice(i, i + 10)
          .map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
      }),
    );
  }
}
