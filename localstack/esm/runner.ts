/**
 * One running mapping: a consumer group on the real broker feeding {@link MappingEngine}, the
 * engine's actions carried out (invoke the function, send to the on-failure SQS queue) and its
 * commits written to the group. All I/O of the local event source mapping lives here.
 */

import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { type Action, MappingEngine } from './engine.ts';
import {
  buildEvent,
  effectiveMaxRetries,
  interpretResponse,
  MAX_PAYLOAD_BYTES,
  onFailureRecord,
  type PolledRecord,
  partitionKey,
  type StartingPosition,
  startOffset,
} from './event.ts';
import type { Invoker } from './invoker.ts';
import type { MappingStats } from './types.ts';

export interface RunnerSettings {
  readonly functionId: string;
  readonly functionArn: string;
  readonly topics: readonly string[];
  readonly brokers: readonly string[];
  readonly consumerGroupId: string;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly startingPosition: StartingPosition;
  readonly maximumRetryAttempts: number;
  /** -1 for no limit. */
  readonly maximumRecordAgeInSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly reportBatchItemFailures: boolean;
  /** SQS queue URL or ARN, or null. */
  readonly onFailureDestination: string | null;
  readonly pollers: number;
  /** Concurrent invocations per poller (`INVOCATIONS_PER_POLLER` by default). */
  readonly invocationsPerPoller: number;
  /** The Amazon MSK cluster ARN of an MSK mapping; undefined for self-managed Kafka. */
  readonly eventSourceArn?: string | undefined;
}

type BufferConsumer = Consumer<Buffer | null, Buffer | null, Buffer, Buffer>;
type BufferMessage = Message<Buffer | null, Buffer | null, Buffer, Buffer>;

const orNull = (data?: Buffer): Buffer | null => data ?? null;

function toPolled(m: BufferMessage): PolledRecord {
  return {
    topic: m.topic,
    partition: m.partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    key: m.key,
    value: m.value,
    headers: (m.headerEntries ?? []).map(([k, v]) => [k.toString('utf8'), v] as const),
  };
}

export class MappingRunner {
  readonly engine: MappingEngine;
  private consumer: BufferConsumer | undefined;
  private stream: MessagesStream<Buffer | null, Buffer | null, Buffer, Buffer> | undefined;
  private inFlight = 0;
  private commitChain: Promise<void> = Promise.resolve();
  private pendingCommits = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private queueUrl: Promise<string> | undefined;
  private lastError: Error | undefined;
  private partitionsByTopic = new Map<string, number>();
  private readonly bootstrapServers: string;

  constructor(
    readonly settings: RunnerSettings,
    private readonly invoker: Invoker,
    private readonly sqs: SQSClient,
    private readonly log: (line: string) => void,
  ) {
    this.bootstrapServers = settings.brokers.join(',');
    const hasDestination = settings.onFailureDestination !== null;
    this.engine = new MappingEngine({
      batchSize: settings.batchSize,
      batchingWindowMs: settings.batchingWindowMs,
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
      maxRetries: effectiveMaxRetries(settings.maximumRetryAttempts, hasDestination),
      maxRecordAgeMs:
        settings.maximumRecordAgeInSeconds === -1 ? undefined : settings.maximumRecordAgeInSeconds * 1000,
      bisectOnError: settings.bisectBatchOnFunctionError,
      reportBatchItemFailures: settings.reportBatchItemFailures,
      hasOnFailureDestination: hasDestination,
      pollers: settings.pollers,
      invocationsPerPoller: settings.invocationsPerPoller,
      bootstrapServers: this.bootstrapServers,
      eventSourceArn: settings.eventSourceArn,
    });
  }

  async start(): Promise<void> {
    const s = this.settings;
    const consumer: BufferConsumer = new Consumer({
      clientId: `tidewater-esm-${s.functionId}`,
      groupId: s.consumerGroupId,
      bootstrapBrokers: [...s.brokers],
      deserializers: { key: orNull, value: orNull },
      maxWaitTime: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      autocommit: false,
    });
    this.consumer = consumer;
    const topics = [...s.topics];
    await this.waitForTopics(consumer, topics);
    const earliest = await consumer.listOffsets({ topics, timestamp: -2n });
    const latest = await consumer.listOffsets({ topics, timestamp: -1n });
    const committed = await consumer.listCommittedOffsets({
      topics: topics.map((topic) => ({
        topic,
        partitions: [...Array(this.partitionsByTopic.get(topic) ?? 0).keys()],
      })),
    });
    const offsets: { topic: string; partition: number; offset: bigint }[] = [];
    for (const topic of topics) {
      const n = this.partitionsByTopic.get(topic) ?? 0;
      for (let partition = 0; partition < n; partition++) {
        const c = committed.get(topic)?.[partition];
        const start = startOffset(
          c === undefined || c < 0n ? undefined : Number(c),
          Number(earliest.get(topic)?.[partition] ?? 0n),
          Number(latest.get(topic)?.[partition] ?? 0n),
          s.startingPosition,
        );
        this.engine.assign(topic, partition, start);
        offsets.push({ topic, partition, offset: BigInt(start) });
      }
    }
    const stream = await consumer.consume({
      topics,
      mode: 'manual',
      offsets,
      autocommit: false,
      maxWaitTime: 100,
    });
    this.stream = stream;
    // Backpressure: stop fetching while plenty of records wait for a batch.
    const high = this.backpressureHigh();
    stream.on('data', (m: BufferMessage) => {
      this.engine.add([toPolled(m)]);
      if (this.engine.queued() >= high) stream.pause();
      this.pump();
    });
    stream.on('error', (error: Error) => {
      this.lastError = error;
      this.log(`${s.functionId}: consumer error: ${error.message}`);
    });
    this.pump();
  }

  /** Like Lambda's mapping, waits for missing topics (for a while), then names them. */
  private async waitForTopics(consumer: BufferConsumer, topics: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = 'no partitions';
    for (;;) {
      try {
        const metadata = await consumer.metadata({ topics, forceUpdate: true });
        for (const t of topics) this.partitionsByTopic.set(t, metadata.topics.get(t)?.partitionsCount ?? 0);
        if (topics.every((t) => (this.partitionsByTopic.get(t) ?? 0) > 0)) return;
      } catch (error) {
        lastError = String(error);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `mapping ${this.settings.functionId}: topic ${topics.join(', ')} not found on ${this.settings.brokers.join(',')} after ${timeoutMs} ms (${lastError}); create it first, e.g. with ensureTopic() from localstack/topics.ts`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Everything consumed up to the high watermark is resolved and committed, and nothing is in flight. */
  async isCaughtUp(): Promise<boolean> {
    if (this.lastError) throw this.lastError;
    if (!this.consumer || this.inFlight > 0 || this.pendingCommits > 0 || !this.engine.isIdle()) return false;
    const topics = [...this.settings.topics];
    const latest = await this.consumer.listOffsets({ topics, timestamp: -1n });
    const done = this.engine.committedOffsets();
    for (const topic of topics) {
      const hws = latest.get(topic) ?? [];
      for (let partition = 0; partition < hws.length; partition++) {
        const hw = Number(hws[partition] ?? 0n);
        const at = done[partitionKey(topic, partition)];
        if (at === undefined || at < hw) return false;
      }
    }
    return this.inFlight === 0 && this.pendingCommits === 0 && this.engine.isIdle();
  }

  stats(): MappingStats {
    const e = this.engine.stats;
    return {
      functionId: this.settings.functionId,
      consumerGroupId: this.settings.consumerGroupId,
      topics: this.settings.topics,
      invocations: e.invocations,
      records: e.records,
      failures: e.failures,
      retries: e.retries,
      sentToOnFailure: e.sentToOnFailure,
      discarded: e.discarded,
      committed: this.engine.committedOffsets(),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + 30_000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.queueCommits();
    await this.commitChain;
    await this.stream?.close().catch(() => undefined);
    await this.consumer?.close(true).catch(() => undefined);
    await this.invoker.close();
  }

  /** Records waiting for a batch above which fetching pauses: four batches per possible invocation. */
  private backpressureHigh(): number {
    const s = this.settings;
    return Math.max(10_000, 4 * s.batchSize * s.pollers * s.invocationsPerPoller);
  }

  private pump(): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    const high = this.backpressureHigh();
    if (this.stream?.isPaused() && this.engine.queued() < high / 2) this.stream.resume();
    for (const action of this.engine.poll()) {
      this.inFlight++;
      void this.perform(action)
        .catch((error: unknown) => this.log(`${this.settings.functionId}: ${String(error)}`))
        .finally(() => {
          this.inFlight--;
          this.queueCommits();
          // Yield to the event loop between actions: a handler that fails synchronously must not
          // turn retries into an endless chain of microtasks.
          setImmediate(() => this.pump());
        });
    }
    this.queueCommits();
    const deadline = this.engine.nextDeadline();
    if (deadline !== undefined) {
      this.timer = setTimeout(() => this.pump(), Math.max(1, deadline - Date.now()));
      this.timer.unref();
    }
  }

  private async perform(action: Action): Promise<void> {
    const s = this.settings;
    if (action.kind === 'invoke') {
      const event = buildEvent(this.bootstrapServers, action.records, s.eventSourceArn);
      const result = await this.invoker.invoke(event, action.requestId);
      const outcome = result.ok
        ? interpretResponse(result.value, s.reportBatchItemFailures, action.records)
        : { kind: 'error' as const, message: result.error };
      if (outcome.kind !== 'success') {
        const why =
          outcome.kind === 'error'
            ? outcome.message
            : `partial batch response ${JSON.stringify([...outcome.failedFrom])}`;
        this.log(
          `${s.functionId}: invocation ${action.requestId} (${action.records.length} records, attempt ${action.invokeCount}) failed: ${why}`,
        );
      }
      this.engine.settle(action.actionId, outcome);
      return;
    }
    let ok = false;
    try {
      const body = onFailureRecord({
        requestId: action.requestId,
        functionArn: s.functionArn,
        condition: action.condition,
        approximateInvokeCount: action.approximateInvokeCount,
        functionError: action.functionError,
        now: Date.now(),
        eventSourceArn: s.eventSourceArn,
        bootstrapServers: this.bootstrapServers,
        records: action.records,
        payloadSize: action.payloadSize,
      });
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: await this.onFailureQueueUrl(),
          MessageBody: JSON.stringify(body),
        }),
      );
      ok = true;
    } catch (error) {
      this.log(`${s.functionId}: on-failure send failed, retrying in 1 s: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    this.engine.settle(action.actionId, { kind: 'sent', ok });
  }

  private onFailureQueueUrl(): Promise<string> {
    const dest = this.settings.onFailureDestination;
    if (dest === null) return Promise.reject(new Error('no on-failure destination'));
    this.queueUrl ??= (async () => {
      if (!dest.startsWith('arn:')) return dest;
      const [, , service, , account, name] = dest.split(':');
      if (service !== 'sqs' || !name)
        throw new Error(`on-failure destination ${dest} is not an SQS queue (only SQS is emulated)`);
      const r = await this.sqs.send(
        new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
      );
      if (!r.QueueUrl) throw new Error(`queue ${name} not found`);
      return r.QueueUrl;
    })();
    this.queueUrl.catch(() => {
      this.queueUrl = undefined;
    });
    return this.queueUrl;
  }

  private queueCommits(): void {
    const commits = this.engine.takeCommits();
    const consumer = this.consumer;
    if (commits.length === 0 || !consumer) return;
    this.pendingCommits++;
    this.commitChain = this.commitChain
      .then(async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            await consumer.commit({
              offsets: commits.map((c) => ({
                topic: c.topic,
                partition: c.partition,
                offset: BigInt(c.offset),
                leaderEpoch: -1,
              })),
            });
            return;
          } catch (error) {
            if (attempt >= 5) throw error;
            await new Promise((r) => setTimeout(r, 200 * attempt));
          }
        }
      })
      .catch((error: unknown) => {
        this.lastError = error instanceof Error ? error : new Error(String(error));
        this.log(`${this.settings.functionId}: commit failed: ${String(error)}`);
      })
      .finally(() => {
        this.pendingCommits--;
      });
  }
}
