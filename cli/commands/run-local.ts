import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { type AttributeValue, DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { Admin } from '@platformatic/kafka';
import { copyLayers } from '../../functions/adapters/aws/copy-layers.ts';
import { createStateTable, DynamoDbStateTable } from '../../functions/adapters/aws/dynamodb-state.ts';
import {
  createProducer,
  KafkaAlertSink,
  KafkaEnrichedPublisher,
  type StringProducer,
} from '../../functions/adapters/aws/kafka-producer.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store.ts';
import { SqsDeadLetterSink } from '../../functions/adapters/aws/sqs-dead-letter-sink.ts';
import { type AwsClients, createClients } from '../../functions/commons/clients.ts';
import { EmfMetrics } from '../../functions/commons/powertools.ts';
import type { Domain, LambdaKafkaEvent } from '../../functions/core/index.ts';
import {
  type DepsByConsumer,
  flushRun,
  type KafkaBatchResponse,
  runConsumer,
} from '../../functions/handlers/lib/consumers.ts';
import { Lakehouse, lakehouseTables, sqlName } from '../../functions/lakehouse/index.ts';
import { checkConservation } from '../../functions/pipeline/conservation.ts';
import type { RunResult } from '../../functions/pipeline/pipeline.ts';
import type { EventSource } from '../../functions/ports/event-source.ts';
import type { Metrics } from '../../functions/ports/metrics.ts';
import { NO_METRICS } from '../../functions/ports/metrics.ts';
import { loadEnvironmentConfig } from '../../lib/config/environment-config.ts';
import { FUNCTION_ENV } from '../../lib/observability/metric-contract.ts';
import { awsClientConfig, endpoints } from '../../localstack/endpoints.ts';
import { startAwsMetricsSampler } from '../../localstack/esm/aws-metrics.ts';
import { LocalCloudWatch } from '../../localstack/esm/cloudwatch.ts';
import {
  deployLocal,
  describeDeployed,
  ensureLocalAssembly,
  REPO_ROOT,
  resolveValue,
} from '../../localstack/esm/deploy.ts';
import {
  type LocalKafkaHandler,
  type MappingSettingsOverride,
  type RunningMappings,
  readMappings,
  startEventSourceMappings,
} from '../../localstack/esm/index.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import { produceEvents } from './produce.ts';

/**
 * The four consumers on the local stack: the local event source mapping polls the real broker
 * with the `local` template's mapping settings and invokes the consumer functions in this process
 * with adapters on the emulator (S3, DynamoDB, SQS) and a real Kafka producer for the enriched and
 * alerts topics. Used by `tidewater run --stack local`, the end-to-end and fault tests, and the
 * local-stack benchmark. `wrap` lets a caller put a function around each handler (fault injection).
 */
export const CONSUMER_IDS = ['ingest', 'enrich', 'windows', 'cep'] as const;
export type ConsumerId = (typeof CONSUMER_IDS)[number];

export interface LocalResources {
  readonly table: string;
  readonly buckets: { readonly bronze: string; readonly silver: string; readonly gold: string };
  readonly queueUrl: string;
}

export interface LocalTopics {
  readonly raw: string;
  readonly enriched: string;
  readonly alerts: string;
}

export interface LocalPipelineOptions {
  readonly domain: Domain;
  readonly clients: AwsClients;
  readonly resources: LocalResources;
  readonly topics: LocalTopics;
  readonly brokers: readonly string[];
  /** Partitions of the raw topic (the windows engine registers them all up front). */
  readonly rawPartitions: number;
  /** Consumer group of each mapping: `<prefix>-<consumer>`. */
  readonly groupPrefix: string;
  /** Overrides of every mapping's settings (batch size, retries, ...). */
  readonly mapping?: Partial<MappingSettingsOverride>;
  readonly wrap?: (id: ConsumerId, handler: LocalKafkaHandler) => LocalKafkaHandler;
  /** SDK clients of one consumer (fault injection). @default `clients` */
  readonly clientsFor?: (id: ConsumerId) => AwsClients;
  readonly metrics?: Metrics;
  /**
   * The emulator's CloudWatch, fed as on AWS: each consumer's EMF metrics (flushed after every
   * invocation, as the Lambda handler does) and its function's `AWS/Lambda` metrics, under the
   * deployed function names. Ignored for the consumers' metrics when `metrics` is given.
   * @default no CloudWatch
   */
  readonly cloudWatch?: {
    readonly sink: LocalCloudWatch;
    /** The `Environment` dimension. */
    readonly environment: string;
    readonly functionNames: Readonly<Partial<Record<ConsumerId, string>>>;
  };
  readonly verbose?: boolean;
  /**
   * Seconds the partitions hold their small tables' rows (`lakehouse.smallTablesWriteSeconds`).
   * @default the `local` environment's
   */
  readonly smallTablesWriteSeconds?: number;
}

export interface LocalPipeline {
  readonly running: RunningMappings;
  readonly deps: DepsByConsumer;
  readonly objects: S3ObjectStore;
  stop(): Promise<void>;
}

export async function startLocalPipeline(o: LocalPipelineOptions): Promise<LocalPipeline> {
  const cw = o.cloudWatch;
  const emf: Partial<Record<ConsumerId, EmfMetrics>> = {};
  if (cw !== undefined && o.metrics === undefined) {
    for (const id of CONSUMER_IDS)
      emf[id] = new EmfMetrics(undefined, cw.environment, undefined, { emit: (d) => cw.sink.forward(d) });
  }
  const producer: StringProducer = createProducer({
    bootstrapServers: o.brokers,
    auth: 'none',
    clientId: `${o.groupPrefix}-producer`,
  });
  const smallTablesMs =
    1000 * (o.smallTablesWriteSeconds ?? loadEnvironmentConfig('local').lakehouse.smallTablesWriteSeconds);
  const baseFor = (id: ConsumerId) => {
    const clients = o.clientsFor?.(id) ?? o.clients;
    const objects = new S3ObjectStore({ buckets: o.resources.buckets, client: clients.s3 });
    return {
      domain: o.domain,
      objects,
      state: { outboxMaxAgeMs: smallTablesMs },
      table: new DynamoDbStateTable({
        tableName: o.resources.table,
        client: clients.dynamodb,
        spill: objects,
      }),
      deadLetters: new SqsDeadLetterSink({
        queueUrl: o.resources.queueUrl,
        client: clients.sqs,
        spill: objects,
      }),
      metrics: o.metrics ?? emf[id] ?? NO_METRICS,
    };
  };
  const objects = new S3ObjectStore({ buckets: o.resources.buckets, client: o.clients.s3 });
  const deps: DepsByConsumer = {
    ingest: baseFor('ingest'),
    enrich: {
      ...baseFor('enrich'),
      enriched: new KafkaEnrichedPublisher(producer, o.topics.enriched),
    },
    windows: {
      ...baseFor('windows'),
      sourcePartitions: async () => Array.from({ length: o.rawPartitions }, (_, p) => `${o.topics.raw}-${p}`),
    },
    cep: {
      ...baseFor('cep'),
      alerts: new KafkaAlertSink(producer, o.topics.alerts, o.domain.keyField),
    },
  };
  const handlers: Record<string, LocalKafkaHandler> = {};
  const overrides: Record<string, Partial<MappingSettingsOverride>> = {};
  for (const id of CONSUMER_IDS) {
    const run: LocalKafkaHandler = (event): Promise<KafkaBatchResponse> =>
      runConsumer(deps, id, event as LambdaKafkaEvent);
    const functionName = cw?.functionNames[id];
    const h: LocalKafkaHandler =
      cw === undefined
        ? run
        : async (event, context) => {
            const t0 = performance.now();
            let failed = true;
            try {
              const r = await run(event, context);
              failed = false;
              return r;
            } finally {
              emf[id]?.flush();
              if (functionName !== undefined)
                cw.sink.invocation(functionName, performance.now() - t0, failed);
            }
          };
    handlers[id] = o.wrap ? o.wrap(id, h) : h;
    overrides[id] = {
      topics: [id === 'ingest' || id === 'enrich' ? o.topics.raw : o.topics.enriched],
      consumerGroupId: `${o.groupPrefix}-${id}`,
      onFailureDestination: null,
      ...o.mapping,
    };
  }
  await ensureLocalAssembly();
  const running = await startEventSourceMappings({
    resolveEnv: false,
    kafkaBrokers: [...o.brokers],
    handlerOverrides: handlers,
    mappingOverrides: overrides,
    ...(o.verbose ? { verbose: true } : {}),
  });
  return {
    running,
    deps,
    objects,
    async stop() {
      await running.stop();
      await producer.close();
      await cw?.sink.drain();
    },
  };
}

/** Throwaway resources on the emulator, named `<prefix>-...` (benchmarks, tests without a deployed stack). */
export async function createLocalResources(clients: AwsClients, prefix: string): Promise<LocalResources> {
  const table = `${prefix}-state`;
  await createStateTable(clients.dynamodb, table);
  const buckets = { bronze: `${prefix}-bronze`, silver: `${prefix}-silver`, gold: `${prefix}-gold` };
  for (const b of Object.values(buckets)) await clients.s3.send(new CreateBucketCommand({ Bucket: b }));
  const q = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-poison` }));
  return { table, buckets, queueUrl: q.QueueUrl ?? '' };
}

/** SDK clients for the local stack's emulator (endpoint, region and credentials from `endpoints()`). */
export function localClients(): AwsClients {
  const e = endpoints();
  return createClients({
    AWS_ENDPOINT_URL: e.awsEndpoint,
    AWS_REGION: e.region,
    AWS_ACCESS_KEY_ID: e.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: e.credentials.secretAccessKey,
  });
}

/** Names of the deployed `local` stage's resources, from the consumers' resolved environment. */
export interface DeployedLocal {
  readonly resources: LocalResources;
  readonly topics: LocalTopics;
  /** Every queue of the stage (poison and on-failure queues), as URLs. */
  readonly queueUrls: readonly string[];
  /** The deployed function name of each consumer (the `FunctionName` of its AWS/Lambda metrics). */
  readonly functionNames: Readonly<Partial<Record<ConsumerId, string>>>;
}

export async function resolveDeployedLocal(cdkOut = join(REPO_ROOT, 'cdk.out')): Promise<DeployedLocal> {
  const defs = readMappings(cdkOut, 'local');
  // The consumers' stacks, and the State stack beside them (its queues).
  const stacks = defs.map((d) => d.stackName);
  const state = await describeDeployed([...stacks, ...stacks.map((n) => n.replace(/Processing$/, 'State'))]);
  const env: Record<string, string> = {};
  for (const d of defs) {
    for (const [k, v] of Object.entries(d.environment)) {
      if (env[k] === undefined) env[k] = resolveValue(v, d.stackName, state);
    }
  }
  const queueUrls: string[] = [];
  for (const resources of state.resources.values())
    for (const r of resources.values())
      if (r.ResourceType === 'AWS::SQS::Queue' && r.PhysicalResourceId) queueUrls.push(r.PhysicalResourceId);
  const functionNames: Partial<Record<ConsumerId, string>> = {};
  for (const d of defs) {
    const name = state.resources.get(d.stackName)?.get(d.functionLogicalId)?.PhysicalResourceId;
    if (name !== undefined && (CONSUMER_IDS as readonly string[]).includes(d.functionId))
      functionNames[d.functionId as ConsumerId] = name;
  }
  const need = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`the deployed local stage has no ${k} in its consumers' environment`);
    return v;
  };
  return {
    resources: {
      table: need(FUNCTION_ENV.stateTable),
      buckets: {
        bronze: need(FUNCTION_ENV.bronzeBucket),
        silver: need(FUNCTION_ENV.silverBucket),
        gold: need(FUNCTION_ENV.goldBucket),
      },
      queueUrl: need(FUNCTION_ENV.deadLetterQueueUrl),
    },
    topics: {
      raw: need(FUNCTION_ENV.rawEventsTopic),
      enriched: need(FUNCTION_ENV.enrichedEventsTopic),
      alerts: need(FUNCTION_ENV.alertsTopic),
    },
    functionNames,
    queueUrls,
  };
}

/** Empties the layer buckets and the state table: a run replaces the previous run's layers. */
export async function resetLocal(clients: AwsClients, r: LocalResources): Promise<void> {
  const objects = new S3ObjectStore({ buckets: r.buckets, client: clients.s3 });
  for (const prefix of ['bronze/', 'silver/', 'gold/', 'ops/']) {
    const keys = await objects.list(prefix);
    if (keys.length > 0) await objects.delete(keys);
  }
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await clients.dynamodb.send(
      new ScanCommand({
        TableName: r.table,
        ProjectionExpression: 'pk, sk',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      await clients.dynamodb.send(
        new DeleteItemCommand({ TableName: r.table, Key: { pk: item['pk']!, sk: item['sk']! } }),
      );
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

export interface RunLocalInput {
  readonly domain: Domain;
  readonly source: EventSource;
  /** Lakehouse copy destination (created; the run's layer folders are replaced). */
  readonly out: string;
  /** Event pollers per mapping (each runs up to 5 invocations at once). @default the `local` environment's (1) */
  readonly pollers?: number;
  /** Produce at this many events per second (live mode). @default as fast as possible */
  readonly ratePerSecond?: number;
  /** Stop producing after this many seconds. @default when the input ends */
  readonly maxSeconds?: number;
  /** Rewrite this event-time field to the time of the send (see `produceEvents`). @default as given */
  readonly stampEventTime?: string;
  readonly onProgress?: (stage: string, count: number, fraction: number | undefined) => void;
  readonly log?: (line: string) => void;
}

/**
 * `tidewater run --stack local`: deploy the `local` stage to the emulator (`deployLocal()`),
 * replace the previous run's layers and state, produce the input to the raw topic, run the four
 * consumers under the local event source mapping until idle, flush the open windows (as embedded
 * runs end), copy the layers into `out`, and compute the same `RunResult` as an embedded run from
 * the copied lakehouse (conservation included: poison and duplicates from `ops/batch_quality`).
 */
export async function runLocal(input: RunLocalInput): Promise<RunResult> {
  const log = input.log ?? (() => undefined);
  const started = performance.now();
  await deployLocal({ log });
  const deployed = await resolveDeployedLocal();
  const clients = localClients();
  await resetLocal(clients, deployed.resources);
  const { kafkaBrokers } = endpoints();
  const admin = new Admin({ clientId: 'tidewater-run-admin', bootstrapBrokers: kafkaBrokers });
  let rawPartitions = 0;
  try {
    for (const [topic, n] of [
      [deployed.topics.raw, 3],
      [deployed.topics.enriched, 3],
      [deployed.topics.alerts, 1],
    ] as const) {
      await ensureTopic(admin, topic, n);
    }
    const md = await admin.metadata({ topics: [deployed.topics.raw] });
    rawPartitions = md.topics.get(deployed.topics.raw)?.partitions.length ?? 3;
  } finally {
    await admin.close();
  }
  // The emulator's CloudWatch gets the metrics AWS would have: `tidewater dashboard` draws them.
  const cloudWatch = new LocalCloudWatch(new CloudWatchClient(awsClientConfig(endpoints())));
  const pipeline = await startLocalPipeline({
    domain: input.domain,
    clients,
    cloudWatch: { sink: cloudWatch, environment: 'local', functionNames: deployed.functionNames },
    resources: deployed.resources,
    topics: deployed.topics,
    brokers: kafkaBrokers,
    rawPartitions,
    groupPrefix: 'tidewater-local-run',
    ...(input.pollers === undefined ? {} : { mapping: { pollers: input.pollers } }),
  });
  const sampler = startAwsMetricsSampler({
    sink: cloudWatch,
    running: pipeline.running,
    functionNames: deployed.functionNames,
    brokers: kafkaBrokers,
    sqs: clients.sqs,
    queueUrls: deployed.queueUrls,
    tableName: deployed.resources.table,
    dynamodb: clients.dynamodb,
  });
  let produced = 0;
  try {
    const r = await produceEvents({
      source: input.source,
      domain: input.domain,
      topic: deployed.topics.raw,
      brokers: kafkaBrokers,
      ...(input.ratePerSecond === undefined ? {} : { ratePerSecond: input.ratePerSecond }),
      ...(input.maxSeconds === undefined ? {} : { maxSeconds: input.maxSeconds }),
      ...(input.stampEventTime === undefined ? {} : { stampEventTime: input.stampEventTime }),
      onProgress: (n, f) => input.onProgress?.('produce', n, f),
    });
    produced = r.produced;
    log(`produced ${produced} events; waiting for the consumers to go idle`);
    await pipeline.running.waitUntilIdle({ timeoutMs: 3_600_000 });
    await flushRun(pipeline.deps, deployed.topics);
  } finally {
    await sampler.stop().catch((err: unknown) => log(`metrics sampling failed: ${(err as Error).message}`));
    await pipeline.stop();
  }
  for (const folder of ['bronze', 'silver', 'gold', 'ops'])
    await rm(join(input.out, folder), { recursive: true, force: true });
  const copied = await copyLayers(pipeline.objects, input.out, {
    onObject: (done, total) => input.onProgress?.('copy', done, done / total),
  });
  return summarize(input, produced, copied, performance.now() - started);
}

async function summarize(
  input: RunLocalInput,
  produced: number,
  copied: { objects: number; bytes: number },
  elapsedMs: number,
): Promise<RunResult> {
  const tables = lakehouseTables(input.domain);
  const lake = await Lakehouse.open({ root: input.out, tables, views: [] });
  const one = async (sql: string): Promise<number> => Number((await lake.query(sql)).rows[0]?.[0] ?? 0);
  try {
    const rowsByTable: Record<string, number> = {};
    for (const t of tables) rowsByTable[t.path] = await one(`SELECT count(*) FROM ${sqlName(t)}`);
    const alertsByPattern: Record<string, number> = {};
    for (const row of (await lake.query('SELECT pattern, count(*) FROM alerts GROUP BY pattern')).rows) {
      alertsByPattern[String(row[0])] = Number(row[1]);
    }
    const deadLettered = await one('SELECT coalesce(sum(poison), 0) FROM batch_quality');
    const duplicates = await one('SELECT coalesce(sum(duplicates), 0) FROM batch_quality');
    const bronze = rowsByTable['bronze/raw_events'] ?? 0;
    const silver = rowsByTable['silver/events'] ?? 0;
    return {
      produced,
      batches: rowsByTable['ops/batch_quality'] ?? 0,
      bronzeRows: bronze,
      silverRows: silver,
      deadLettered,
      poisonByCode: {},
      duplicates,
      lateEvents: await one(`SELECT count(DISTINCT ${input.domain.dedupField}) FROM late_events`),
      lateRows: rowsByTable['gold/late_events'] ?? 0,
      alerts: rowsByTable['gold/alerts'] ?? 0,
      alertsByPattern,
      rowsByTable,
      objects: copied.objects,
      bytes: copied.bytes,
      elapsedMs,
      conservation: checkConservation({ produced, bronze, silver, deadLettered, duplicates }),
    };
  } finally {
    lake.close();
  }
}
