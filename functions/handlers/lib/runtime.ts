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
import type { ConsumerDeps } from './consumers.ts';

/**
 * The dependencies of a consumer, built from the environment once per process (first invocation)
 * and reused by every invocation after: SDK clients, adapters, the Kafka producer's connections.
 */
export type ConsumerName = 'ingest' | 'enrich' | 'windows' | 'cep';

export interface Runtime {
  readonly deps: ConsumerDeps;
  readonly metrics: EmfMetrics;
  readonly config: ConsumerConfig;
  /** The SDK clients every adapter of this consumer uses (instrumented by the IAM contract test). */
  readonly clients: AwsClients;
}

const REQUIRED_BY = {
  ingest: ['bronzeBucket'],
  enrich: ['silverBucket', 'stateTable', 'deadLetterQueueUrl'],
  windows: ['goldBucket', 'stateTable'],
  cep: ['goldBucket', 'stateTable'],
} as const;

/**
 * One producer per consumer: on Lambda a process runs one consumer, so this is one producer per
 * process; in a process that runs several (tests, the CLI) each keeps its own client id and
 * connections, as its function does.
 */
const producers = new Map<ConsumerName, StringProducer>();
const runtimes = new Map<ConsumerName, Runtime>();

export function runtimeFor(consumer: ConsumerName, env = process.env): Runtime {
  const cached = runtimes.get(consumer);
  if (cached !== undefined) return cached;
  const config = readConfig(env);
  requireSettings(config, REQUIRED_BY[consumer]);
  const clients = createClients(env);
  const objects = new S3ObjectStore({ buckets: config.buckets, client: clients.s3 });
  // ingest may run without a state table (the processing stack gives it one): bronze is then
  // written without a fence, overwritten by range (see `ingest` in consumers.ts).
  const table =
    config.stateTable === ''
      ? undefined
      : new DynamoDbStateTable({ tableName: config.stateTable, client: clients.dynamodb, spill: objects });
  const metrics = new EmfMetrics(undefined, config.env);
  const kafka = (): StringProducer => {
    requireSettings(config, ['kafka']);
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
  const needsDlq = consumer !== 'ingest';
  const domain = loadDomain(config.domain);
  const deps: ConsumerDeps = {
    domain,
    objects,
    ...(table ? { table } : {}),
    metrics,
    ...(needsDlq && config.deadLetterQueueUrl !== ''
      ? {
          deadLetters: new SqsDeadLetterSink({
            queueUrl: config.deadLetterQueueUrl,
            client: clients.sqs,
            spill: objects,
          }),
        }
      : {}),
    ...(consumer === 'enrich'
      ? {
          enriched: new KafkaEnrichedPublisher(kafka(), config.topics.enriched),
        }
      : {}),
    ...(consumer === 'cep'
      ? {
          alerts: new KafkaAlertSink(kafka(), config.topics.alerts, domain.keyField),
        }
      : {}),
    ...(consumer === 'windows' && config.kafka.bootstrapServers.length > 0
      ? {
          sourcePartitions: memo(() =>
            topicPartitionIds({ ...config.kafka, clientId: 'tidewater-windows' }, config.topics.raw),
          ),
        }
      : {}),
    state: { outboxMaxAgeMs: config.smallTablesWriteSeconds * 1000 },
    onError: (partition, err) =>
      logger.error('partition failed; reported for retry', { partition, error: err as Error }),
  };
  const runtime = { deps, metrics, config, clients };
  runtimes.set(consumer, runtime);
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
