import { DynamoDbStateTable } from '../../adapters/aws/dynamodb-state.ts';
import {
  createProducer,
  KafkaAlertSink,
  KafkaEnrichedPublisher,
  type StringProducer,
  topicPartitionIds,
} from '../../adapters/aws/kafka-producer.ts';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.ts';
import { SqsDeadLetterSink } from '../../adapters/aws/sqs-dead-letter-sink.ts';
import { type AwsClients, createClients } from '../../commons/clients.ts';
import { type ConsumerConfig, readConfig, requireSettings } from '../../commons/config.ts';
import { EmfMetrics, logger } from '../../commons/powertools.ts';
import { loadDomain } from '../../core/index.ts';
import type { BaseDeps, DepsByConsumer } from './consumers.ts';

/**
 * The dependencies of a consumer, built from the environment once per process (first invocation)
 * and reused by every invocation after: SDK clients, adapters, the Kafka producer's connections.
 */
export type ConsumerName = 'ingest' | 'enrich' | 'windows' | 'cep';

export interface Runtime<C extends ConsumerName = ConsumerName> {
  readonly deps: DepsByConsumer[C];
  readonly metrics: EmfMetrics;
  readonly config: ConsumerConfig;
  /** The SDK clients every adapter of this consumer uses (instrumented by the IAM contract test). */
  readonly clients: AwsClients;
}

const REQUIRED_BY = {
  ingest: ['bronzeBucket'],
  enrich: ['silverBucket', 'stateTable', 'deadLetterQueueUrl', 'kafka'],
  windows: ['goldBucket', 'stateTable', 'deadLetterQueueUrl', 'kafka'],
  cep: ['goldBucket', 'stateTable', 'deadLetterQueueUrl', 'kafka'],
} as const;

/**
 * One producer per consumer: on Lambda a process runs one consumer, so this is one producer per
 * process; in a process that runs several (tests, the CLI) each keeps its own client id and
 * connections, as its function does.
 */
const producers = new Map<ConsumerName, StringProducer>();
const runtimes = new Map<ConsumerName, Runtime>();

export function runtimeFor<C extends ConsumerName>(consumer: C, env = process.env): Runtime<C> {
  const cached = runtimes.get(consumer);
  if (cached !== undefined) return cached as Runtime<C>;
  const config = readConfig(env);
  requireSettings(config, REQUIRED_BY[consumer]);
  const clients = createClients(env);
  const objects = new S3ObjectStore({ buckets: config.buckets, client: clients.s3 });
  const table = (): DynamoDbStateTable =>
    new DynamoDbStateTable({ tableName: config.stateTable, client: clients.dynamodb, spill: objects });
  const metrics = new EmfMetrics(undefined, config.env);
  const kafka = (): StringProducer => {
    let producer = producers.get(consumer);
    if (producer === undefined) {
      producer = createProducer({
        bootstrapServers: config.kafka.bootstrapServers,
        auth: config.kafka.auth,
        clientId: `tidewater-${consumer}`,
      });
      producers.set(consumer, producer);
    }
    return producer;
  };
  const domain = loadDomain(config.domain);
  const base: BaseDeps = {
    domain,
    objects,
    metrics,
    state: { outboxMaxAgeMs: config.smallTablesWriteSeconds * 1000 },
    onError: (partition, err) =>
      logger.error('partition failed; reported for retry', { partition, error: err as Error }),
  };
  const stateful = () => ({
    ...base,
    table: table(),
    deadLetters: new SqsDeadLetterSink({
      queueUrl: config.deadLetterQueueUrl,
      client: clients.sqs,
      spill: objects,
    }),
  });
  // Each consumer's own dependencies (`DepsByConsumer`), from the settings checked above.
  const build: { readonly [K in ConsumerName]: () => DepsByConsumer[K] } = {
    // ingest may run without a state table (the processing stack gives it one): bronze is then
    // written without a fence, overwritten by range (see `ingest-consumer.ts`).
    ingest: () => (config.stateTable === '' ? base : { ...base, table: table() }),
    enrich: () => ({ ...stateful(), enriched: new KafkaEnrichedPublisher(kafka(), config.topics.enriched) }),
    windows: () => ({
      ...stateful(),
      sourcePartitions: memo(() =>
        topicPartitionIds({ ...config.kafka, clientId: 'tidewater-windows' }, config.topics.raw),
      ),
    }),
    cep: () => ({
      ...stateful(),
      alerts: new KafkaAlertSink(kafka(), config.topics.alerts, domain.keyField),
    }),
  };
  const runtime: Runtime<C> = { deps: build[consumer](), metrics, config, clients };
  runtimes.set(consumer, runtime as Runtime);
  return runtime;
}

function memo<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= f().catch((err: unknown) => {
      p = undefined;
      throw err;
    });
    return p;
  };
}

/** Closes the producers and forgets the runtimes (tests, CLI). */
export async function closeRuntimes(): Promise<void> {
  runtimes.clear();
  const open = [...producers.values()];
  producers.clear();
  await Promise.all(open.map((p) => p.close()));
}
