/**
 * Shared by the handler, adapter, e2e and fault tests (not a test file): throwaway emulator
 * resources named per run, Lambda Kafka event factories, and an in-memory stand-in for the
 * enriched topic so the consumers can be chained without the event source mapping.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDbStateTable } from '../../functions/adapters/aws/dynamodb-state.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store.ts';
import { SqsDeadLetterSink } from '../../functions/adapters/aws/sqs-dead-letter-sink.ts';
import { type AwsClients, createClients } from '../../functions/commons/clients.ts';
import type {
  DeadLetter,
  LambdaKafkaEvent,
  LambdaKafkaRecord,
  Row,
  SilverEvent,
} from '../../functions/core/index.ts';
import { loadDomain } from '../../functions/core/index.ts';
import type { ConsumerDeps, EnrichedPublisher } from '../../functions/handlers/lib/consumers.ts';
import { encodeEnrichedEvent } from '../../functions/pipeline/enriched.ts';
import type { AlertSink } from '../../functions/ports/alert-sink.ts';
import { NO_METRICS } from '../../functions/ports/metrics.ts';
import { endpoints } from '../../localstack/endpoints.ts';

export interface Resources {
  readonly clients: AwsClients;
  readonly table: string;
  readonly buckets: { bronze: string; silver: string; gold: string };
  readonly queueUrl: string;
}

/** Clients for the emulator (endpoints from the environment, local-stack defaults). */
export function emulatorClients(): AwsClients {
  const e = endpoints();
  return createClients({
    AWS_ENDPOINT_URL: e.awsEndpoint,
    AWS_REGION: e.region,
    AWS_ACCESS_KEY_ID: e.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: e.credentials.secretAccessKey,
  });
}

function setAwsEnv(): void {
  const e = endpoints();
  process.env['AWS_REGION'] ??= e.region;
  process.env['AWS_ACCESS_KEY_ID'] ??= e.credentials.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] ??= e.credentials.secretAccessKey;
}

export async function createResources(clients: AwsClients = emulatorClients()): Promise<Resources> {
  setAwsEnv();
  const id = `tw-${randomUUID().slice(0, 8)}`;
  await createStateTable(clients.dynamodb, `${id}-state`);
  const buckets = { bronze: `${id}-bronze`, silver: `${id}-silver`, gold: `${id}-gold` };
  for (const b of Object.values(buckets)) await clients.s3.send(new CreateBucketCommand({ Bucket: b }));
  const q = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${id}-poison` }));
  return { clients, table: `${id}-state`, buckets, queueUrl: q.QueueUrl ?? '' };
}

export async function createStateTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}

/** Every key of a bucket (paged). */
export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Drains the queue: every dead letter in it (deleted after reading). */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (let empty = 0; empty < 2; ) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    const msgs = out.Messages ?? [];
    if (msgs.length === 0) {
      empty++;
      continue;
    }
    for (const m of msgs) letters.push(JSON.parse(m.Body ?? 'null') as DeadLetter);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
  return letters;
}

/** A record to put in a Lambda Kafka event. */
export interface EventRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly timestamp?: number;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** The `SelfManagedKafka` event Lambda's mapping would deliver for these records. */
export function kafkaEvent(records: readonly EventRecord[]): LambdaKafkaEvent {
  const grouped: Record<string, LambdaKafkaRecord[]> = {};
  for (const r of records) {
    const id = `${r.topic}-${r.partition}`;
    const list = grouped[id] ?? [];
    grouped[id] = list;
    list.push({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp ?? 1_767_225_600_000,
      timestampType: 'CREATE_TIME',
      key: r.key === null ? null : b64(r.key),
      value: r.value === null ? null : b64(r.value),
      headers: (r.headers ?? []).map(([n, v]) => ({ [n]: [...Buffer.from(v, 'utf8')] })),
    });
  }
  return { eventSource: 'SelfManagedKafka', bootstrapServers: '127.0.0.1:9092', records: grouped };
}

/** An in-memory topic: what `enrich` publishes, with offsets per partition, as records to replay. */
export class MemoryTopic implements EnrichedPublisher {
  readonly topic: string;
  readonly log = new Map<number, EventRecord[]>();
  constructor(topic: string) {
    this.topic = topic;
  }
  async publish(events: readonly SilverEvent[]): Promise<void> {
    for (const e of events) {
      const r = encodeEnrichedEvent(e);
      let part = this.log.get(e.partition);
      if (part === undefined) {
        part = [];
        this.log.set(e.partition, part);
      }
      part.push({
        topic: this.topic,
        partition: e.partition,
        offset: part.length,
        key: r.key,
        value: r.value,
        headers: r.headers,
      });
    }
  }
  records(partition: number): EventRecord[] {
    return this.log.get(partition) ?? [];
  }
}

export class MemoryAlerts implements AlertSink {
  readonly sent: Row[] = [];
  async send(alerts: readonly Row[]): Promise<void> {
    this.sent.push(...alerts);
  }
}

/** Consumer dependencies on the emulator's resources (the Kafka side replaced by memory). */
export function depsFor(
  res: Resources,
  extra: Partial<Pick<ConsumerDeps, 'enriched' | 'alerts' | 'metrics' | 'clock'>> & {
    clients?: AwsClients;
  } = {},
): ConsumerDeps & { objects: S3ObjectStore; table: DynamoDbStateTable; deadLetters: SqsDeadLetterSink } {
  const clients = extra.clients ?? res.clients;
  const objects = new S3ObjectStore({ buckets: res.buckets, client: clients.s3, retry: { baseMs: 5 } });
  return {
    domain: loadDomain('payments'),
    objects,
    table: new DynamoDbStateTable({
      tableName: res.table,
      client: clients.dynamodb,
      spill: objects,
      retry: { baseMs: 5 },
    }),
    deadLetters: new SqsDeadLetterSink({
      queueUrl: res.queueUrl,
      client: clients.sqs,
      spill: objects,
      retry: { baseMs: 5 },
    }),
    metrics: extra.metrics ?? NO_METRICS,
    ...(extra.enriched ? { enriched: extra.enriched } : {}),
    ...(extra.alerts ? { alerts: extra.alerts } : {}),
    ...(extra.clock ? { clock: extra.clock } : {}),
  };
}
