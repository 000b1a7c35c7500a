import { Duration, Fn, type RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  AuthenticationMethod,
  ManagedKafkaEventSource,
  SelfManagedKafkaEventSource,
  SqsDlq,
} from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { lambdaBundling } from './bundling.ts';
import { skipCheckov } from './checkov.ts';

/** Where the consumer reads from. */
export type KafkaClusterSource =
  /** An Amazon MSK cluster (provisioned, Express or Serverless) with IAM authentication. */
  | { readonly kind: 'msk'; readonly clusterArn: string }
  /**
   * A self-managed Kafka cluster reached without a VPC. The CDK event source demands a secret in that
   * case (SASL/SCRAM-512); the local broker does not check it.
   */
  | {
      readonly kind: 'self-managed';
      readonly bootstrapServers: readonly string[];
      readonly secret: secretsmanager.ISecret;
    };

/**
 * Safe defaults of every Kafka consumer (Solutions Constructs style: one place, each overridable).
 * Retries, record age and bisect only apply in provisioned-poller mode, so pollers are always set.
 */
export const KAFKA_CONSUMER_DEFAULTS = {
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(1),
  startingPosition: lambda.StartingPosition.TRIM_HORIZON,
  minimumPollers: 1,
  maximumPollers: 2,
  retryAttempts: 3,
  maxRecordAgeSeconds: 86_400,
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  memorySizeMiB: 1024,
  timeout: Duration.seconds(60),
  logRetention: logs.RetentionDays.ONE_MONTH,
} as const;

export interface KafkaConsumerFunctionProps {
  /** TypeScript file exporting the handler; bundled locally with esbuild (never Docker). */
  readonly entry: string;
  /**
   * Exported handler name.
   * @default 'handler'
   */
  readonly handler?: string;
  /** The Kafka cluster to read from. */
  readonly source: KafkaClusterSource;
  /** Topic to consume. */
  readonly topic: string;
  /**
   * Kafka consumer group of the mapping.
   * @default - Lambda uses the mapping's UUID
   */
  readonly consumerGroupId?: string;
  /** SQS queue receiving the metadata of batches that exhausted their retries or aged out. */
  readonly onFailureQueue: sqs.IQueue;
  /**
   * Records per batch (1–10,000).
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Longest time Lambda gathers records before invoking (≤ 300 s).
   * @default Duration.seconds(1)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Where a new consumer group starts.
   * @default StartingPosition.TRIM_HORIZON
   */
  readonly startingPosition?: lambda.StartingPosition;
  /**
   * Provisioned pollers (1–200). Always set: retries, record age and bisect need provisioned mode.
   * @default 1
   */
  readonly minimumPollers?: number;
  /** Provisioned poller group shared with other mappings (EPU capacity pooled). @default none: dedicated */
  readonly pollerGroupName?: string;
  /**
   * Provisioned pollers ceiling (1–2000, ≥ minimumPollers).
   * @default 2
   */
  readonly maximumPollers?: number;
  /**
   * Retries of a failing batch before it goes to the on-failure queue (0–10,000; -1 infinite).
   * @default 3
   */
  readonly retryAttempts?: number;
  /**
   * Oldest record age before the batch goes to the on-failure queue: 60–604,800 s, or -1 for no limit
   * (the L2 has no way to say -1, so that value is written with an escape hatch).
   * @default 86400 (one day)
   */
  readonly maxRecordAgeSeconds?: number;
  /**
   * Split a failing batch in two and retry the halves.
   * @default true
   */
  readonly bisectBatchOnError?: boolean;
  /**
   * Let the handler report failed records (`batchItemFailures`) instead of failing the whole batch.
   * @default true
   */
  readonly reportBatchItemFailures?: boolean;
  /**
   * Function memory.
   * @default 1024
   */
  readonly memorySizeMiB?: number;
  /**
   * Function timeout.
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the function's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. */
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * KMS key encrypting the function's log group (its policy must let CloudWatch Logs use it: see
   * `logsKey`).
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * VPC for the function (needed to produce to MSK).
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets in `vpc`.
   * @default - the VPC's isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups in `vpc`.
   * @default - one is created
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Extra environment variables.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

function checkRange(
  id: string,
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  fix: string,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `KafkaConsumerFunction ${id}: ${name} must be an integer in ${min}..${max}, got ${value}. ${fix}`,
    );
  }
}

/**
 * One Kafka-triggered Lambda consumer: Node.js 22 on arm64, bundled locally with esbuild, X-Ray
 * tracing, its own log group with retention, its own least-privilege role, and an event source
 * mapping with safe, overridable defaults (provisioned pollers, retries, record age, bisect,
 * partial batch response, SQS on-failure destination).
 */
export class KafkaConsumerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  /**
   * The role's one policy with `Resource: *`: X-Ray, and the ENI actions of a VPC function. Everything
   * else is granted in the role's default policy, scoped to named resources.
   */
  readonly unscopedPolicy: iam.Policy;
  readonly logGroup: logs.LogGroup;
  readonly eventSourceMapping: lambda.EventSourceMapping;
  readonly onFailureQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: KafkaConsumerFunctionProps) {
    super(scope, id);
    const d = KAFKA_CONSUMER_DEFAULTS;
    const minimumPollers = props.minimumPollers ?? d.minimumPollers;
    const maximumPollers = props.maximumPollers ?? d.maximumPollers;
    const maxRecordAgeSeconds = props.maxRecordAgeSeconds ?? d.maxRecordAgeSeconds;
    checkRange(
      id,
      'batchSize',
      props.batchSize,
      1,
      10_000,
      'Lambda accepts at most 10,000 Kafka records per batch.',
    );
    checkRange(id, 'minimumPollers', minimumPollers, 1, 200, 'Set a value between 1 and 200.');
    checkRange(id, 'maximumPollers', maximumPollers, 1, 2000, 'Set a value between 1 and 2000.');
    checkRange(id, 'retryAttempts', props.retryAttempts, -1, 10_000, 'Use -1 for infinite, or 0..10000.');
    checkRange(id, 'memorySizeMiB', props.memorySizeMiB, 128, 10_240, 'Lambda memory is 128..10240 MiB.');
    if (minimumPollers > maximumPollers) {
      throw new Error(
        `KafkaConsumerFunction ${id}: minimumPollers (${minimumPollers}) exceeds maximumPollers (${maximumPollers}); raise maximumPollers.`,
      );
    }
    if (maxRecordAgeSeconds !== -1) {
      checkRange(id, 'maxRecordAgeSeconds', maxRecordAgeSeconds, 60, 604_800, 'Use -1 for no limit.');
    }
    if (props.source.kind === 'self-managed' && props.source.bootstrapServers.length === 0) {
      throw new Error(
        `KafkaConsumerFunction ${id}: bootstrapServers is empty; give at least one "host:port".`,
      );
    }

    this.onFailureQueue = props.onFailureQueue;
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? d.logRetention,
      removalPolicy: props.logRemovalPolicy,
      ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${id} Kafka consumer`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMiB ?? d.memorySizeMiB,
      timeout: props.timeout ?? d.timeout,
      // Active tracing is set on the CfnFunction below: the L2 would put its X-Ray statement
      // (Resource: *) in the role's default policy, which must carry no unscoped statement.
      role: this.role,
      logGroup: this.logGroup,
      ...(props.vpc
        ? {
            vpc: props.vpc,
            vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
            ...(props.securityGroups ? { securityGroups: props.securityGroups } : {}),
          }
        : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      // esbuild from node_modules (never Docker); the stage handlers also need their wasm and domains.
      bundling: lambdaBundling({ consumer: true }),
    });
    (this.function.node.defaultChild as lambda.CfnFunction).tracingConfig = {
      mode: lambda.Tracing.ACTIVE,
    };
    this.unscopedPolicy = new iam.Policy(this, 'UnscopedActionsPolicy', {
      roles: [this.role],
      statements: unscopedStatements(props.vpc !== undefined),
    });
    // Lambda checks the ENI permissions when it creates a function in a VPC: the policy goes first.
    this.function.node.addDependency(this.unscopedPolicy);

    const common = {
      topic: props.topic,
      batchSize: props.batchSize ?? d.batchSize,
      maxBatchingWindow: props.maxBatchingWindow ?? d.maxBatchingWindow,
      startingPosition: props.startingPosition ?? d.startingPosition,
      provisionedPollerConfig: {
        minimumPollers,
        maximumPollers,
        ...(props.pollerGroupName === undefined ? {} : { pollerGroupName: props.pollerGroupName }),
      },
      retryAttempts: props.retryAttempts ?? d.retryAttempts,
      ...(maxRecordAgeSeconds === -1 ? {} : { maxRecordAge: Duration.seconds(maxRecordAgeSeconds) }),
      bisectBatchOnError: props.bisectBatchOnError ?? d.bisectBatchOnError,
      reportBatchItemFailures: props.reportBatchItemFailures ?? d.reportBatchItemFailures,
      onFailure: new SqsDlq(props.onFailureQueue),
      ...(props.consumerGroupId ? { consumerGroupId: props.consumerGroupId } : {}),
    };
    if (props.source.kind === 'msk') {
      this.function.addEventSource(
        new ManagedKafkaEventSource({ ...common, clusterArn: props.source.clusterArn }),
      );
      this.grantMskConsume(props.source.clusterArn, props.topic, props.consumerGroupId ?? '*');
    } else {
      this.function.addEventSource(
        new SelfManagedKafkaEventSource({
          ...common,
          bootstrapServers: [...props.source.bootstrapServers],
          secret: props.source.secret,
          authenticationMethod: AuthenticationMethod.SASL_SCRAM_512_AUTH,
        }),
      );
    }
    const mapping = this.function.node.children.find(
      (c): c is lambda.EventSourceMapping => c instanceof lambda.EventSourceMapping,
    );
    if (!mapping) throw new Error(`KafkaConsumerFunction ${id}: the event source mapping was not created`);
    this.eventSourceMapping = mapping;
    if (maxRecordAgeSeconds === -1) {
      // Escape hatch: the L2 takes a Duration of 60 s..7 days and cannot express "no limit" (-1).
      (mapping.node.defaultChild as lambda.CfnEventSourceMapping).addPropertyOverride(
        'MaximumRecordAgeInSeconds',
        -1,
      );
    }

    this.acknowledgeFindings(props.source, props.vpc !== undefined);
  }

  /** Sets `envVar` to the table name and grants read/write on it (and its key). */
  bindTable(envVar: string, table: dynamodb.ITable): this {
    this.function.addEnvironment(envVar, table.tableName);
    table.grantReadWriteData(this.role);
    return this;
  }

  /**
   * Sets `envVar` to the bucket name and grants read/write on it (and its key).
   * @param keyPattern objects the grant covers @default '*' (the whole bucket)
   */
  bindBucket(envVar: string, bucket: s3.IBucket, keyPattern = '*'): this {
    this.function.addEnvironment(envVar, bucket.bucketName);
    bucket.grantReadWrite(this.role, keyPattern);
    return this;
  }

  /** Sets `envVar` to the queue URL and grants sending to it (and its key). */
  bindQueue(envVar: string, queue: sqs.IQueue): this {
    this.function.addEnvironment(envVar, queue.queueUrl);
    queue.grantSendMessages(this.role);
    return this;
  }

  /**
   * Grants producing to `topic` of an MSK cluster with IAM authentication. The consumers' producer
   * is idempotent (`idempotent: true` in `functions/adapters/aws/kafka-producer.ts`): its
   * InitProducerId needs `kafka-cluster:WriteDataIdempotently` on the cluster (Amazon MSK
   * Developer Guide, "Semantics of IAM access control actions and resources").
   */
  grantMskProduce(clusterArn: string, topic: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: [
        'kafka-cluster:Connect',
        'kafka-cluster:DescribeCluster',
        'kafka-cluster:WriteDataIdempotently',
      ],
      resourceArns: [clusterArn],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee: this.role,
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        resourceArns: [mskResourceArn(this, clusterArn, 'topic', topic)],
      }),
    );
  }

  /**
   * Grants reading the metadata (partitions) of `topic` of an MSK cluster with IAM authentication:
   * the windows consumer asks for the raw topic's partitions (`topicPartitionIds`).
   */
  grantMskDescribeTopic(clusterArn: string, topic: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resourceArns: [clusterArn],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee: this.role,
        actions: ['kafka-cluster:DescribeTopic'],
        resourceArns: [mskResourceArn(this, clusterArn, 'topic', topic)],
      }),
    );
  }

  /** The permissions an MSK event source mapping with IAM auth needs on the cluster, topic and group. */
  private grantMskConsume(clusterArn: string, topic: string, group: string): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'kafka-cluster:Connect',
          'kafka-cluster:DescribeClusterDynamicConfiguration',
          'kafka:DescribeClusterV2',
          'kafka:DescribeCluster',
          'kafka:GetBootstrapBrokers',
        ],
        resources: [clusterArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        resources: [mskResourceArn(this, clusterArn, 'topic', topic)],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        resources: [mskResourceArn(this, clusterArn, 'group', group)],
      }),
    );
  }

  /** cdk-nag and checkov findings that are by design, each on the narrowest construct, with its reason. */
  private acknowledgeFindings(source: KafkaClusterSource, inVpc: boolean): void {
    if (source.kind === 'msk') {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]',
        reason:
          'Attached by CDK ManagedKafkaEventSource: the AWS-maintained set (MSK describe, bootstrap brokers, ENIs in the ' +
          'cluster subnets, logs) the MSK event source mapping poller needs.',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the pinned runtime of the platform (SPEC, NOTES); moving to 24 is a deliberate upgrade.',
    });
    skipCheckov(
      this.function,
      {
        id: 'CKV_AWS_115',
        comment:
          'Concurrency follows the Kafka partitions: the event source mapping runs at most one batch per partition at a time, within its provisioned pollers. Reserved concurrency would take from the account pool and, set below the partition count, throttle batches into retries.',
      },
      {
        id: 'CKV_AWS_116',
        comment:
          'Invoked synchronously by the Kafka event source mapping, never asynchronously: a function DLQ would receive nothing. Failed batches go to the mapping on-failure queue (SQS) instead.',
      },
      {
        id: 'CKV_AWS_173',
        comment:
          'The environment holds resource names, topic names and the bootstrap brokers, no secret: Lambda encrypts it at rest with its service key, and a customer key would add a KMS call to every cold start for nothing secret.',
      },
    );
    if (inVpc) {
      skipCheckov(this.unscopedPolicy, {
        id: 'CKV_AWS_111',
        comment:
          'The EC2 network-interface actions Lambda needs for a function in a VPC and for the MSK event source mapping (what AWSLambdaVPCAccessExecutionRole grants) support no resource-level scoping.',
      });
    }
    // Only this policy may hold `Resource: *`; the role's default policy carries no such acknowledgment,
    // so a wildcard added there later fails synthesis.
    Validations.of(this.unscopedPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords and the EC2 network-interface actions a VPC function and an MSK ' +
        'event source mapping need support no resource-level scoping (Service Authorization Reference).',
    });
  }
}

/**
 * The statements of a consumer that cannot name a resource: X-Ray's PutTraceSegments and
 * PutTelemetryRecords, and (in a VPC) what AWSLambdaVPCAccessExecutionRole would give, inline
 * (AWSLambdaMSKExecutionRole lacks Assign/Unassign): ENIs for the function in its VPC and for the MSK
 * event source mapping in the cluster's subnets.
 */
export function unscopedStatements(inVpc: boolean): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      resources: ['*'],
    }),
  ];
  if (inVpc) {
    statements.push(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeVpcs',
        ],
        resources: ['*'],
      }),
    );
  }
  return statements;
}

/** `topic/…` or `group/…` ARN in the cluster named by `clusterArn` (`…:cluster/<name>/<uuid>`). */
export function mskResourceArn(
  scope: Construct,
  clusterArn: string,
  kind: 'topic' | 'group',
  name: string,
): string {
  const stack = Stack.of(scope);
  const parts = Fn.split('/', clusterArn);
  return Fn.join('', [
    `arn:${stack.partition}:kafka:${stack.region}:${stack.account}:${kind}/`,
    Fn.select(1, parts),
    '/',
    Fn.select(2, parts),
    `/${name}`,
  ]);
}
