/**
 * Shared by the handler, adapter, e2e and fault tests (not a test file): throwaway emulator
 * resources named per run, Lambda Kafka event factories, and an in-memory stand-in for the
 * enriched topic so the consumers can be chained without the event source mapping.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createStateTable, DynamoDbStateTable } from '../../functions/adapters/aws/dynamodb-state.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store.ts';
import { SqsDeadLetterSink } from '../../functions/adapters/aws/sqs-dead-letter-sink.ts';
import {
  GeneratorSource,
  JsonlDeadLetterSink,
  LocalFolderObjectStore,
  MemoryAlertSink,
  MemoryStateStore,
} from '../../functions/adapters/embedded/index.ts';
import { type AwsClients, createClients } from '../../functions/commons/clients.ts';
import type {
  DeadLetter,
  GeneratedLabel,
  GeneratorOptions,
  LambdaKafkaEvent,
  LambdaKafkaRecord,
  Row,
  SilverEvent,
} from '../../functions/core/index.ts';
import {
  deterministicColumns,
  generateEvents,
  loadDomain,
  PROCESSING_TIME_COLUMNS,
} from '../../functions/core/index.ts';
import {
  type CepDeps,
  type DepsByConsumer,
  type EnrichDeps,
  type EnrichedPublisher,
  flushRun,
  runConsumer,
  type StatefulDeps,
  type WindowsDeps,
} from '../../functions/handlers/lib/consumers.ts';
import { partitionOfKey } from '../../functions/handlers/lib/partitioner.ts';
import { Lakehouse, lakehouseTables, sqlName } from '../../functions/lakehouse/index.ts';
import { encodeEnrichedEvent } from '../../functions/pipeline/enriched.ts';
import { runPipeline } from '../../functions/pipeline/pipeline.ts';
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
  /** The alerts sent without their processing-time columns: what two runs must agree on. */
  decided(): Row[] {
    return this.sent.map(withoutProcessingTime);
  }
}

/** A row without the processing-time columns (SPEC §2), the only ones two runs may disagree on. */
export function withoutProcessingTime(row: Row): Row {
  const out: Row = { ...row };
  for (const c of PROCESSING_TIME_COLUMNS) delete out[c];
  return out;
}

/** Consumer dependencies on the emulator's resources (the Kafka side replaced by memory). */
export function depsFor<
  E extends Partial<Pick<EnrichDeps & CepDeps & WindowsDeps, 'enriched' | 'alerts' | 'sourcePartitions'>>,
>(
  res: Resources,
  extra: E & Partial<Pick<StatefulDeps, 'metrics' | 'clock'>> & { clients?: AwsClients } = {} as E,
): StatefulDeps & { objects: S3ObjectStore; table: DynamoDbStateTable; deadLetters: SqsDeadLetterSink } & E {
  const { clients: given, metrics, ...rest } = extra;
  const clients = given ?? res.clients;
  const objects = new S3ObjectStore({ buckets: res.buckets, client: clients.s3, retry: { baseMs: 5 } });
  const domain = loadDomain('payments');
  return {
    // The consumer's own dependencies as given (enriched, alerts, sourcePartitions, clock).
    ...(rest as E),
    domain,
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
    metrics: metrics ?? NO_METRICS,
  };
}

/**
 * When an alert was detected against when its triggering event first reached Kafka (the bronze
 * `kafka_ts` of the raw record with its event_id; null when none is found).
 */
export interface AlertTiming {
  readonly alertId: string;
  readonly detectedAt: number | null;
  readonly kafkaTs: number | null;
}

/**
 * What two runs of the same input must agree on, read from a lakehouse folder: row counts per
 * table path, and every row of the gold tables (JSON arrays, sorted) without the processing-time
 * columns (SPEC §2: `processed_at`, `detected_at`), which are the only ones allowed to differ; and,
 * apart, each alert's `detected_at` beside its input's Kafka timestamp.
 */
export async function readLakehouse(
  root: string,
): Promise<{ counts: Record<string, number>; gold: Record<string, string[]>; alertTimings: AlertTiming[] }> {
  const domain = loadDomain('payments');
  const tables = lakehouseTables(domain);
  const lake = await Lakehouse.open({ root, tables, views: [] });
  try {
    const counts: Record<string, number> = {};
    const gold: Record<string, string[]> = {};
    for (const t of tables) {
      const columns = deterministicColumns(t)
        .map((c) => `"${c.name}"`)
        .join(', ');
      const r = await lake.query(`SELECT ${columns}, dt, hr FROM ${sqlName(t)}`);
      counts[t.path] = r.rows.length;
      if (t.path.startsWith('gold/')) gold[t.path] = r.rows.map((row) => JSON.stringify(row)).sort();
    }
    const timings = await lake.query(
      `WITH firsts AS (
         SELECT regexp_extract(value, '"event_id"\\s*:\\s*"([^"]*)"', 1) AS event_id, min(kafka_ts) AS kafka_ts
         FROM raw_events GROUP BY 1
       )
       SELECT a.alert_id, epoch_ms(a.detected_at), epoch_ms(f.kafka_ts)
       FROM alerts a LEFT JOIN firsts f ON f.event_id = a.event_id`,
    );
    const ms = (cell: unknown) => (cell === null || cell === undefined ? null : Number(cell));
    const alertTimings = timings.rows.map((row) => ({
      alertId: String(row[0]),
      detectedAt: ms(row[1]),
      kafkaTs: ms(row[2]),
    }));
    return { counts, gold, alertTimings };
  } finally {
    lake.close();
  }
}

/** Alerts whose `detected_at` is missing, or earlier than their input reached Kafka (none, when right). */
export function earlyOrMissingDetections(timings: readonly AlertTiming[]): AlertTiming[] {
  return timings.filter((t) => t.detectedAt === null || t.kafkaTs === null || t.detectedAt < t.kafkaTs);
}

/** The generated stream as raw-topic records, spread over `partitions` by key (offsets per partition). */
export function rawRecords(
  topic: string,
  count: number,
  partitions: number,
  options: GeneratorOptions,
): {
  records: EventRecord[];
  labels: Array<{ key: string; label: GeneratedLabel; partition: number; offset: number }>;
} {
  const domain = loadDomain('payments');
  const next = new Array<number>(partitions).fill(0);
  const records: EventRecord[] = [];
  const labels: Array<{ key: string; label: GeneratedLabel; partition: number; offset: number }> = [];
  for (const g of generateEvents(domain, count, options)) {
    const partition = partitions === 1 ? 0 : partitionOfKey(g.key, partitions);
    const offset = next[partition]!;
    next[partition] = offset + 1;
    records.push({ topic, partition, offset, key: g.key, value: g.value });
    if (g.label) labels.push({ key: g.key, label: g.label, partition, offset });
  }
  return { records, labels };
}

/** Records of one partition in batches of `size`. */
export function batches(records: readonly EventRecord[], partition: number, size: number): EventRecord[][] {
  const mine = records.filter((r) => r.partition === partition);
  const out: EventRecord[][] = [];
  for (let i = 0; i < mine.length; i += size) out.push(mine.slice(i, i + size));
  return out;
}

/** The embedded run of the same generated input (one partition), into `dir`. */
export async function embeddedRun(dir: string, count: number, options: GeneratorOptions, topic: string) {
  const domain = loadDomain('payments');
  const alerts = new MemoryAlertSink();
  return runPipeline({
    context: {
      domain,
      objects: new LocalFolderObjectStore(dir),
      state: new MemoryStateStore(),
      metrics: NO_METRICS,
      deadLetters: new JsonlDeadLetterSink(join(dir, '_deadletter')),
      alerts,
    },
    source: new GeneratorSource(domain, count, { ...options, topic }),
    batchSize: 1_000,
  });
}

export type ChainDeps = DepsByConsumer;

export type Invoke = (
  consumer: keyof ChainDeps,
  event: LambdaKafkaEvent,
) => Promise<{ batchItemFailures: { itemIdentifier: { partition: string; offset: number } }[] }>;

/** Calls the consumer functions directly. */
export function directInvoke(deps: ChainDeps): Invoke {
  return (consumer, event) => runConsumer(deps, consumer, event);
}

/**
 * Drives the four consumers the way the mapping would, without Kafka: raw batches per partition
 * through ingest and enrich, then the enriched topic (memory) through cep per partition and
 * windows with one multi-partition event per round, then the end of the run (`flushRun`). Throws if
 * an invocation reports a failure.
 */
export async function runChain(
  invoke: Invoke,
  flushDeps: Pick<DepsByConsumer, 'enrich' | 'windows' | 'cep'>,
  raw: readonly EventRecord[],
  enrichedTopic: MemoryTopic,
  options: { partitions: number; batchSize: number },
): Promise<void> {
  const check = (what: string, r: Awaited<ReturnType<Invoke>>) => {
    if (r.batchItemFailures.length > 0)
      throw new Error(`${what} failed: ${JSON.stringify(r.batchItemFailures)}`);
  };
  for (let p = 0; p < options.partitions; p++) {
    for (const b of batches(raw, p, options.batchSize)) {
      const ev = kafkaEvent(b);
      check('ingest', await invoke('ingest', ev));
      check('enrich', await invoke('enrich', ev));
    }
  }
  const perPartition = Array.from({ length: options.partitions }, (_, p) =>
    batches(enrichedTopic.records(p), p, options.batchSize),
  );
  const rounds = Math.max(0, ...perPartition.map((b) => b.length));
  for (let i = 0; i < rounds; i++) {
    const round: EventRecord[] = [];
    for (let p = 0; p < options.partitions; p++) {
      const b = perPartition[p]![i];
      if (b === undefined) continue;
      round.push(...b);
      check('cep', await invoke('cep', kafkaEvent(b)));
    }
    check('windows', await invoke('windows', kafkaEvent(round)));
  }
  await flushRun(flushDeps, { raw: raw[0]?.topic ?? '', enriched: enrichedTopic.topic });
}

/**
 * Rows (JSON arrays, as `readLakehouse` gives them) with non-integer numbers rounded to 1e-6, sorted:
 * a window's sum merged from partitions' partial sums adds the same values in another order than
 * one engine does, so floating-point sums may differ in their last bits.
 */
export function roundFloats(rows: readonly string[] | undefined): string[] {
  return (rows ?? [])
    .map((row) =>
      JSON.stringify(
        (JSON.parse(row) as unknown[]).map((cell) =>
          typeof cell === 'number' && !Number.isInteger(cell) ? Number(cell.toFixed(6)) : cell,
        ),
      ),
    )
    .sort();
}
