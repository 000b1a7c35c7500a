import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { DynamoDbStateTable } from '../../functions/adapters/aws/dynamodb-state.ts';
import {
  createProducer,
  KafkaAlertSink,
  KafkaEnrichedPublisher,
  type StringProducer,
} from '../../functions/adapters/aws/kafka-producer.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store.ts';
import { SqsDeadLetterSink } from '../../functions/adapters/aws/sqs-dead-letter-sink.ts';
import { type AwsClients, createClients } from '../../functions/commons/clients.ts';
import type { Domain, LambdaKafkaEvent } from '../../functions/core/index.ts';
import {
  type ConsumerDeps,
  cep,
  enrich,
  ingest,
  type KafkaBatchResponse,
  windows,
} from '../../functions/handlers/lib/consumers.ts';
import type { Metrics } from '../../functions/ports/metrics.ts';
import { NO_METRICS } from '../../functions/ports/metrics.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureLocalAssembly } from '../../localstack/esm/deploy.ts';
import {
  type LocalKafkaHandler,
  type MappingSettingsOverride,
  type RunningMappings,
  startEventSourceMappings,
} from '../../localstack/esm/index.ts';

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
  readonly verbose?: boolean;
}

export interface LocalPipeline {
  readonly running: RunningMappings;
  readonly deps: Readonly<Record<ConsumerId, ConsumerDeps>>;
  readonly objects: S3ObjectStore;
  stop(): Promise<void>;
}

const RUN = { ingest, enrich, windows, cep } as const;

export async function startLocalPipeline(o: LocalPipelineOptions): Promise<LocalPipeline> {
  const producer: StringProducer = createProducer({
    bootstrapServers: o.brokers,
    auth: 'none',
    clientId: `${o.groupPrefix}-producer`,
  });
  const baseFor = (id: ConsumerId) => {
    const clients = o.clientsFor?.(id) ?? o.clients;
    const objects = new S3ObjectStore({ buckets: o.resources.buckets, client: clients.s3 });
    return {
      domain: o.domain,
      objects,
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
      metrics: o.metrics ?? NO_METRICS,
    };
  };
  const objects = new S3ObjectStore({ buckets: o.resources.buckets, client: o.clients.s3 });
  const deps: Record<ConsumerId, ConsumerDeps> = {
    ingest: baseFor('ingest'),
    enrich: { ...baseFor('enrich'), enriched: new KafkaEnrichedPublisher(producer, o.topics.enriched) },
    windows: {
      ...baseFor('windows'),
      sourcePartitions: async () => Array.from({ length: o.rawPartitions }, (_, p) => `${o.topics.raw}-${p}`),
    },
    cep: { ...baseFor('cep'), alerts: new KafkaAlertSink(producer, o.topics.alerts, o.domain.keyField) },
  };
  const handlers: Record<string, LocalKafkaHandler> = {};
  const overrides: Record<string, Partial<MappingSettingsOverride>> = {};
  for (const id of CONSUMER_IDS) {
    const h: LocalKafkaHandler = (event): Promise<KafkaBatchResponse> =>
      RUN[id](deps[id], event as LambdaKafkaEvent);
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
    },
  };
}

/** Throwaway resources on the emulator, named `<prefix>-...` (benchmarks, tests without a deployed stack). */
export async function createLocalResources(clients: AwsClients, prefix: string): Promise<LocalResources> {
  const table = `${prefix}-state`;
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: table,
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
