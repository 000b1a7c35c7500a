/**
 * The local Kafka event source mapping against the real broker and the emulator's SQS: handlers are
 * injected (the real bundled handlers are the end-to-end tests' business), the mapping settings
 * come from the synthesized `local` template with small batches and windows for speed.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unappliedRecords } from '../../functions/core/batch-response.ts';
import type { LambdaKafkaEvent } from '../../functions/core/kafka.ts';
import { awsClientConfig, endpoints } from '../../localstack/endpoints.ts';
import { ensureLocalAssembly } from '../../localstack/esm/deploy.ts';
import {
  type LocalKafkaHandler,
  type MappingSettingsOverride,
  type RunningMappings,
  startEventSourceMappings,
} from '../../localstack/esm/index.ts';
import { ensureTopic } from '../../localstack/topics.ts';

const e = endpoints();
const admin = new Admin({ clientId: 'esm-it-admin', bootstrapBrokers: e.kafkaBrokers });
const producer = new Producer({
  clientId: 'esm-it-producer',
  bootstrapBrokers: e.kafkaBrokers,
  serializers: stringSerializers,
  idempotent: true,
});
const sqs = new SQSClient(awsClientConfig(e));
const topics: string[] = [];
const queues: string[] = [];

interface Delivery {
  partition: number;
  offset: number;
  value: string;
}

function deliveries(event: LambdaKafkaEvent): Delivery[] {
  return Object.values(event.records)
    .flat()
    .map((r) => ({
      partition: r.partition,
      offset: r.offset,
      value: Buffer.from(r.value ?? '', 'base64').toString('utf8'),
    }));
}

async function topicWith(partitions: number, perPartition: number): Promise<string> {
  const topic = `esm-it-${randomUUID().slice(0, 8)}`;
  topics.push(topic);
  await ensureTopic(admin, topic, partitions);
  await produce(topic, partitions, 0, perPartition);
  return topic;
}

async function produce(topic: string, partitions: number, from: number, to: number): Promise<void> {
  const messages = [];
  for (let p = 0; p < partitions; p++) {
    for (let n = from; n < to; n++)
      messages.push({ topic, partition: p, key: `p${p}`, value: `p${p}-n${n}` });
  }
  if (messages.length > 0) await producer.send({ messages });
}

async function queue(): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: `esm-it-${randomUUID().slice(0, 8)}` }));
  const url = created.QueueUrl as string;
  queues.push(url);
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: attrs.Attributes?.['QueueArn'] as string };
}

async function receiveAll(url: string, count: number): Promise<SqsMessage[]> {
  const out: SqsMessage[] = [];
  for (let i = 0; i < 20 && out.length < count; i++) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    out.push(...(r.Messages ?? []));
  }
  return out;
}

async function start(
  topic: string,
  handler: LocalKafkaHandler,
  overrides: Partial<MappingSettingsOverride> = {},
  group = `esm-it-${topic}`,
): Promise<RunningMappings> {
  return startEventSourceMappings({
    only: ['ingest'],
    resolveEnv: false,
    handlerOverrides: { ingest: handler },
    mappingOverrides: {
      ingest: {
        topics: [topic],
        consumerGroupId: group,
        maximumBatchingWindowInSeconds: 0.1,
        onFailureDestination: null,
        ...overrides,
      },
    },
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  await ensureLocalAssembly();
});

afterAll(async () => {
  await producer.close();
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.close();
  for (const url of queues) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
  sqs.destroy();
});

describe('local Kafka event source mapping on the real broker', () => {
  it('retries and bisects a batch failing on one offset, sends that record’s metadata to the on-failure SQS queue, delivers the rest', async () => {
    const topic = await topicWith(1, 8);
    const destination = await queue();
    const delivered: number[] = [];
    const handler: LocalKafkaHandler = (event) => {
      const batch = deliveries(event);
      if (batch.some((d) => d.offset === 5)) throw new Error('poison at offset 5');
      delivered.push(...batch.map((d) => d.offset));
    };

    const running = await start(topic, handler, {
      batchSize: 8,
      maximumRetryAttempts: 1,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: false,
      onFailureDestination: destination.arn,
    });
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    const [stats] = running.stats();
    await running.stop();
    const messages = await receiveAll(destination.url, 1);

    expect(delivered).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(stats).toMatchObject({ sentToOnFailure: 1, discarded: 0, committed: { [`${topic}-0`]: 8 } });
    expect(stats?.retries).toBeGreaterThan(0);
    expect(messages).toHaveLength(1);
    const body = JSON.parse(messages[0]?.Body ?? '{}');
    expect(body).toEqual({
      requestContext: {
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        functionArn: expect.stringMatching(/^arn:aws:lambda:us-east-1:000000000000:function:.+Ingest/),
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: expect.any(Number),
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      KafkaBatchInfo: {
        batchSize: 1,
        bootstrapServers: e.kafkaBrokers.join(','),
        payloadSize: expect.any(Number),
        recordsInfo: {
          [`${topic}-0`]: {
            firstRecordOffset: '5',
            lastRecordOffset: '5',
            firstRecordTimestamp: expect.stringMatching(/Z$/),
            lastRecordTimestamp: expect.stringMatching(/Z$/),
          },
        },
      },
    });
    expect(body.requestContext.approximateInvokeCount).toBeGreaterThanOrEqual(2);
  });

  it('redelivers only from the lowest reported offset after a partial batch response naming every unapplied record', async () => {
    const topic = await topicWith(1, 10);
    const invocations: number[][] = [];
    const handler: LocalKafkaHandler = (event) => {
      const offsets = deliveries(event).map((d) => d.offset);
      invocations.push(offsets);
      // What the handlers answer (core/batch-response.ts): offsets 6..9 were not applied.
      if (invocations.length === 1) return { batchItemFailures: unappliedRecords(`${topic}-0`, offsets, 6) };
      return { batchItemFailures: [] };
    };

    const running = await start(topic, handler, { batchSize: 10, maximumRetryAttempts: 2 });
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    const [stats] = running.stats();
    await running.stop();

    expect(invocations).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [6, 7, 8, 9],
    ]);
    expect(stats).toMatchObject({
      invocations: 2,
      failures: 1,
      retries: 1,
      committed: { [`${topic}-0`]: 10 },
    });
  });

  it('retries the whole batch when an identifier is not the documented {partition, offset} (the older topic-partition key)', async () => {
    const topic = await topicWith(1, 10);
    const invocations: number[][] = [];
    const handler: LocalKafkaHandler = (event) => {
      invocations.push(deliveries(event).map((d) => d.offset));
      if (invocations.length === 1) {
        return { batchItemFailures: [{ itemIdentifier: { 'topic-partition': `${topic}-0`, offset: 6 } }] };
      }
      return { batchItemFailures: [] };
    };

    // Bisect off: with it on, the failed batch is retried in halves, as after a function error.
    const running = await start(topic, handler, {
      batchSize: 10,
      maximumRetryAttempts: 2,
      bisectBatchOnFunctionError: false,
    });
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    const [stats] = running.stats();
    await running.stop();

    const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(invocations).toEqual([all, all]);
    expect(stats).toMatchObject({
      invocations: 2,
      failures: 1,
      retries: 1,
      committed: { [`${topic}-0`]: 10 },
    });
  });

  it('invokes partitions concurrently by default (the local environment’s one poller), never two batches of one partition at once', async () => {
    const partitions = 3;
    const topic = await topicWith(partitions, 20);
    const seen = new Map<number, number[]>();
    const spans: { partitions: Set<number>; from: number; to: number }[] = [];
    const handler: LocalKafkaHandler = async (event) => {
      const batch = deliveries(event);
      const from = performance.now();
      await new Promise((r) => setTimeout(r, 40));
      for (const d of batch) seen.set(d.partition, [...(seen.get(d.partition) ?? []), d.offset]);
      spans.push({ partitions: new Set(batch.map((d) => d.partition)), from, to: performance.now() });
    };

    // The template's pollers (local: 1) and the emulator's default invocations per poller (5).
    const running = await start(topic, handler, { batchSize: 7 });
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    await running.stop();

    type Span = (typeof spans)[number];
    const overlap = (a: Span, b: Span) => a.from < b.to && b.from < a.to;
    const shared = (a: Span, b: Span) => [...a.partitions].some((p) => b.partitions.has(p));
    const pairs = spans.flatMap((a, i) => spans.slice(i + 1).map((b) => [a, b] as const));
    const expected = [...Array(20).keys()];
    for (let p = 0; p < partitions; p++) expect(seen.get(p)).toEqual(expected);
    expect(pairs.filter(([a, b]) => shared(a, b) && overlap(a, b))).toEqual([]);
    expect(pairs.filter(([a, b]) => !shared(a, b) && overlap(a, b)).length).toBeGreaterThan(0);
  });

  it('keeps the former one-batch-at-a-time poller with invocationsPerPoller 1', async () => {
    const topic = await topicWith(3, 6);
    let concurrent = 0;
    let maxConcurrent = 0;
    const handler: LocalKafkaHandler = async () => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, 20));
      concurrent--;
    };

    const running = await start(topic, handler, { batchSize: 3, pollers: 1, invocationsPerPoller: 1 });
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    const [stats] = running.stats();
    await running.stop();

    expect(stats?.invocations).toBeGreaterThanOrEqual(6);
    expect(maxConcurrent).toBe(1);
  });

  it('commits only after success: a restarted mapping resumes at the first record that never succeeded', async () => {
    const topic = await topicWith(1, 6);
    const group = `esm-it-restart-${topic}`;
    let failingAttempts = 0;
    const firstRun: number[] = [];
    const failing: LocalKafkaHandler = (event) => {
      const offsets = deliveries(event).map((d) => d.offset);
      if (offsets.includes(3)) {
        failingAttempts++;
        throw new Error('offset 3 cannot be processed yet');
      }
      firstRun.push(...offsets);
    };

    const first = await start(topic, failing, { batchSize: 3, maximumRetryAttempts: -1 }, group);
    await until(() => failingAttempts >= 3, 'three failed attempts on offset 3');
    await first.stop();
    const secondRun: number[] = [];
    const healthy: LocalKafkaHandler = (event) => {
      secondRun.push(...deliveries(event).map((d) => d.offset));
    };
    const second = await start(topic, healthy, { batchSize: 3, maximumRetryAttempts: -1 }, group);
    await second.waitUntilIdle({ timeoutMs: 60_000 });
    const [stats] = second.stats();
    await second.stop();

    expect(firstRun).toEqual([0, 1, 2]);
    expect(secondRun).toEqual([3, 4, 5]);
    expect(stats?.committed).toEqual({ [`${topic}-0`]: 6 });
  });

  it('starts a new consumer group at the end of the topic with LATEST', async () => {
    const topic = await topicWith(1, 3);
    const delivered: string[] = [];
    const handler: LocalKafkaHandler = (event) => {
      delivered.push(...deliveries(event).map((d) => d.value));
    };

    const running = await start(topic, handler, { startingPosition: 'LATEST' });
    await produce(topic, 1, 3, 5);
    await until(() => delivered.length >= 2, 'the two records produced after the start');
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    await running.stop();

    expect(delivered).toEqual(['p0-n3', 'p0-n4']);
  });

  it('waits for a topic that does not exist yet, as Lambda does, and consumes it once created', async () => {
    const topic = `esm-it-late-${randomUUID().slice(0, 8)}`;
    topics.push(topic);
    const delivered: string[] = [];
    const handler: LocalKafkaHandler = (event) => {
      delivered.push(...deliveries(event).map((d) => d.value));
    };

    const starting = start(topic, handler);
    await ensureTopic(admin, topic, 1);
    await produce(topic, 1, 0, 2);
    const running = await starting;
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    await running.stop();

    expect(delivered).toEqual(['p0-n0', 'p0-n1']);
  });

  it('sends records older than MaximumRecordAgeInSeconds to the destination uninvoked, as RetryAttemptsExhausted with no response context', async () => {
    const topic = await topicWith(1, 2);
    const destination = await queue();
    await new Promise((r) => setTimeout(r, 1_500));
    const delivered: number[] = [];
    const handler: LocalKafkaHandler = (event) => {
      delivered.push(...deliveries(event).map((d) => d.offset));
    };

    const running = await start(topic, handler, {
      maximumRecordAgeInSeconds: 1,
      onFailureDestination: destination.url,
    });
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    const [stats] = running.stats();
    await running.stop();
    const messages = await receiveAll(destination.url, 1);

    expect(delivered).toEqual([]);
    expect(stats).toMatchObject({ invocations: 0, sentToOnFailure: 2, committed: { [`${topic}-0`]: 2 } });
    expect(messages).toHaveLength(1);
    const body = JSON.parse(messages[0]?.Body ?? '{}');
    expect(body.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 0,
    });
    expect(body.responseContext).toBeNull();
    expect(body.KafkaBatchInfo).not.toHaveProperty('eventSourceArn');
    expect(body.KafkaBatchInfo.recordsInfo).toEqual({
      [`${topic}-0`]: expect.objectContaining({ firstRecordOffset: '0', lastRecordOffset: '1' }),
    });
  });
});
