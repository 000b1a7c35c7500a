import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type ConsumerName, consumerSettings, type EnvironmentConfig } from '../config/environment-config.ts';
import { skipCheckov } from '../constructs/checkov.ts';
import { type KafkaClusterSource, KafkaConsumerFunction } from '../constructs/kafka-consumer-function.ts';
import { logsKey } from '../constructs/logs-key.ts';
import type { Layer } from '../lakehouse/layer-schemas.ts';
import { FUNCTION_ENV, METRIC_NAMESPACE, METRIC_SERVICE } from '../observability/metric-contract.ts';
import type { LakehouseExports } from './lakehouse-stack.ts';
import { CONSUMER_NAMES } from './state-stack.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

type TopicKey = 'rawEvents' | 'enrichedEvents' | 'alerts';

/** What each consumer reads, writes and produces (SPEC §2): the wiring contract of the handlers. */
export const CONSUMER_WIRING: Readonly<
  Record<
    ConsumerName,
    {
      readonly reads: TopicKey;
      readonly writes: Layer;
      readonly produces?: TopicKey;
      /** Topics whose metadata (partitions) the function reads, besides the one it consumes. */
      readonly describes?: readonly TopicKey[];
      readonly state: boolean;
    }
  >
> = {
  /**
   * raw events → bronze/raw_events, every record as received. Stateless in content, but it keeps
   * an offset fence and output intent in the state table: a retry with other batch boundaries
   * (bisect, partial batch response) must not leave overlapping bronze files (SPEC §5).
   */
  ingest: { reads: 'rawEvents', writes: 'bronze', state: true },
  /** raw events → validate, de-duplicate, enrich → silver/events, and the enriched-events topic. */
  enrich: { reads: 'rawEvents', writes: 'silver', produces: 'enrichedEvents', state: true },
  /** enriched events → gold windows, sessions and late events. */
  windows: { reads: 'enrichedEvents', writes: 'gold', describes: ['rawEvents'], state: true },
  /** enriched events → CEP → gold/alerts and the alerts topic. */
  cep: { reads: 'enrichedEvents', writes: 'gold', produces: 'alerts', state: true },
};

export interface ProcessingStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The layer buckets, as exported by the lakehouse stack. */
  readonly lakehouse: LakehouseExports;
  readonly stateTable: dynamodb.ITable;
  readonly poisonQueue: sqs.IQueue;
  readonly onFailureQueues: Readonly<Record<ConsumerName, sqs.IQueue>>;
  /**
   * The MSK cluster and the network to reach it.
   * @default - none: the self-managed broker of `config.kafka.bootstrapServers`, no VPC
   */
  readonly msk?: {
    readonly clusterArn: string;
    readonly bootstrapServers: string;
    readonly vpc: ec2.IVpc;
    readonly clientSecurityGroup: ec2.ISecurityGroup;
  };
}

/** The Kafka consumer functions (ingest, enrich, windows, cep) and their event source mappings. */
export class ProcessingStack extends Stack {
  readonly consumers: Readonly<Record<ConsumerName, KafkaConsumerFunction>>;

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const kafka = config.kafka;
    let source: KafkaClusterSource;
    let bootstrapServers: string;
    if (kafka.mode === 'self-managed') {
      if (props.msk)
        throw new Error('ProcessingStack: kafka.mode "self-managed" takes no msk prop; remove it.');
      const secret = new secretsmanager.Secret(this, 'LocalKafkaCredentials', {
        description: 'SASL/SCRAM credentials the self-managed Kafka event source requires without a VPC',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: 'tidewater' }),
          generateStringKey: 'password',
          excludePunctuation: true,
        },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Placeholder credentials for the local broker on loopback, which does not authenticate; nothing to rotate.',
      });
      skipCheckov(secret, {
        id: 'CKV_AWS_149',
        comment:
          'Placeholder credentials for the local broker on loopback, which does not authenticate: nothing a customer key would protect.',
      });
      source = { kind: 'self-managed', bootstrapServers: kafka.bootstrapServers, secret };
      bootstrapServers = kafka.bootstrapServers.join(',');
    } else if (props.msk) {
      source = { kind: 'msk', clusterArn: props.msk.clusterArn };
      bootstrapServers = props.msk.bootstrapServers;
    } else {
      throw new Error(
        `ProcessingStack: kafka.mode "${kafka.mode}" needs the msk prop (cluster ARN, bootstrap servers, VPC).`,
      );
    }

    const lakehouseKey = kms.Key.fromKeyArn(this, 'LakehouseKey', props.lakehouse.keyArn);
    const buckets = {} as Record<Layer, s3.IBucket>;
    for (const layer of ['bronze', 'silver', 'gold'] as const) {
      buckets[layer] = s3.Bucket.fromBucketAttributes(
        this,
        `${layer[0]?.toUpperCase()}${layer.slice(1)}Bucket`,
        {
          bucketArn: props.lakehouse.bucketArns[layer],
          encryptionKey: lakehouseKey,
        },
      );
    }

    const logRemovalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const consumers = {} as Record<ConsumerName, KafkaConsumerFunction>;
    for (const name of CONSUMER_NAMES) {
      const wiring = CONSUMER_WIRING[name];
      const s = consumerSettings(config, name);
      const consumer = new KafkaConsumerFunction(this, `${name[0]?.toUpperCase()}${name.slice(1)}`, {
        entry: join(REPO_ROOT, 'functions', 'handlers', `${name}.ts`),
        source,
        topic: kafka.topics[wiring.reads].name,
        consumerGroupId: `tidewater-${config.name}-${name}`,
        onFailureQueue: props.onFailureQueues[name],
        ...(s.batchSize === undefined ? {} : { batchSize: s.batchSize }),
        ...(s.maxBatchingWindowSeconds === undefined
          ? {}
          : { maxBatchingWindow: Duration.seconds(s.maxBatchingWindowSeconds) }),
        ...(s.startingPosition === undefined
          ? {}
          : { startingPosition: StartingPosition[s.startingPosition] }),
        ...(s.minimumPollers === undefined ? {} : { minimumPollers: s.minimumPollers }),
        ...(s.maximumPollers === undefined ? {} : { maximumPollers: s.maximumPollers }),
        ...(s.pollerGroupName === undefined ? {} : { pollerGroupName: s.pollerGroupName }),
        ...(s.retryAttempts === undefined ? {} : { retryAttempts: s.retryAttempts }),
        ...(s.maxRecordAgeSeconds === undefined ? {} : { maxRecordAgeSeconds: s.maxRecordAgeSeconds }),
        ...(s.bisectBatchOnError === undefined ? {} : { bisectBatchOnError: s.bisectBatchOnError }),
        ...(s.memoryMiB === undefined ? {} : { memorySizeMiB: s.memoryMiB }),
        ...(s.timeoutSeconds === undefined ? {} : { timeout: Duration.seconds(s.timeoutSeconds) }),
        logRetention: config.observability.logRetentionDays as logs.RetentionDays,
        logRemovalPolicy: logRemovalPolicy,
        logEncryptionKey: logsKey(this, logRemovalPolicy),
        ...(props.msk ? { vpc: props.msk.vpc, securityGroups: [props.msk.clientSecurityGroup] } : {}),
        environment: {
          [FUNCTION_ENV.env]: config.name,
          [FUNCTION_ENV.consumer]: name,
          [FUNCTION_ENV.domain]: config.domain,
          [FUNCTION_ENV.rawEventsTopic]: kafka.topics.rawEvents.name,
          [FUNCTION_ENV.enrichedEventsTopic]: kafka.topics.enrichedEvents.name,
          [FUNCTION_ENV.alertsTopic]: kafka.topics.alerts.name,
          [FUNCTION_ENV.kafkaBootstrapServers]: bootstrapServers,
          [FUNCTION_ENV.kafkaAuth]: kafka.mode === 'self-managed' ? 'none' : 'iam',
          [FUNCTION_ENV.smallTablesWriteSeconds]: String(config.lakehouse.smallTablesWriteSeconds),
          POWERTOOLS_SERVICE_NAME: METRIC_SERVICE,
          POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        },
      });
      const bucketEnv = {
        bronze: FUNCTION_ENV.bronzeBucket,
        silver: FUNCTION_ENV.silverBucket,
        gold: FUNCTION_ENV.goldBucket,
      };
      consumer.bindBucket(bucketEnv[wiring.writes], buckets[wiring.writes]);
      // Every consumer may record its batches in ops/batch_quality (gold bucket, ops/ prefix only).
      if (wiring.writes !== 'gold') consumer.bindBucket(FUNCTION_ENV.opsBucket, buckets.gold, 'ops/*');
      else consumer.function.addEnvironment(FUNCTION_ENV.opsBucket, buckets.gold.bucketName);
      consumer.bindQueue(FUNCTION_ENV.deadLetterQueueUrl, props.poisonQueue);
      if (wiring.state) consumer.bindTable(FUNCTION_ENV.stateTable, props.stateTable);
      if (wiring.produces && props.msk) {
        consumer.grantMskProduce(props.msk.clusterArn, kafka.topics[wiring.produces].name);
      }
      if (props.msk) {
        for (const t of wiring.describes ?? [])
          consumer.grantMskDescribeTopic(props.msk.clusterArn, kafka.topics[t].name);
      }
      this.acknowledgeGrantWildcards(consumer, [
        `${props.lakehouse.bucketArnExportNames[wiring.writes]}/*`,
        ...(wiring.writes === 'gold' ? [] : [`${props.lakehouse.bucketArnExportNames.gold}/ops/*`]),
      ]);
      if (!props.msk) {
        skipCheckov(consumer.function, {
          id: 'CKV_AWS_117',
          comment:
            'The local environment has no VPC: its consumers read the Kafka broker on loopback and deploy to the AWS emulator. Every MSK consumer runs in the VPC.',
        });
      }
      consumers[name] = consumer;
    }
    this.consumers = consumers;
  }

  /** The wildcards CDK's own grant methods write, acknowledged on the one policy that holds them. */
  private acknowledgeGrantWildcards(consumer: KafkaConsumerFunction, objectArns: readonly string[]): void {
    const policy = consumer.role.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    const reason =
      'Written by CDK grant methods and scoped to named resources: object actions on the keys of the layer ' +
      "bucket the consumer writes (bucket/*) and of the gold bucket's ops/ prefix, S3 Get*/List*/Abort*/" +
      'DeleteObject* on those buckets only, KMS data-key actions (GenerateDataKey*, ReEncrypt*) on the one ' +
      'lakehouse key.';
    for (const id of [
      ...objectArns.map((arn) => `AwsSolutions-IAM5[Resource::${arn}]`),
      'AwsSolutions-IAM5[Action::s3:Abort*]',
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
      'AwsSolutions-IAM5[Action::s3:GetBucket*]',
      'AwsSolutions-IAM5[Action::s3:GetObject*]',
      'AwsSolutions-IAM5[Action::s3:List*]',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    ]) {
      Validations.of(policy).acknowledge({ id, reason });
    }
  }
}
