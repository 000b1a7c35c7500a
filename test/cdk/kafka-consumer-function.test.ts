import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { lambdaBundling } from '../../lib/constructs/bundling.ts';
import {
  KAFKA_CONSUMER_DEFAULTS,
  type KafkaClusterSource,
  KafkaConsumerFunction,
  type KafkaConsumerFunctionProps,
} from '../../lib/constructs/kafka-consumer-function.ts';
import { bundleAlone, isolateAsset, runWithBundle } from '../support/lambda-bundle.ts';

const ENTRY = join(import.meta.dirname, '..', '..', 'functions', 'handlers', 'ingest.ts');
const CLUSTER_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/tidewater/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab-2';

/** A stack with one consumer; bundling off unless asked (assets are then only hashed). */
function consumerStack(
  overrides: Partial<KafkaConsumerFunctionProps> = {},
  options: { bundle?: boolean; source?: 'msk' | 'self-managed'; vpc?: boolean; outdir?: string } = {},
) {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const queue = new sqs.Queue(stack, 'OnFailure');
  const source: KafkaClusterSource =
    options.source === 'self-managed'
      ? {
          kind: 'self-managed',
          bootstrapServers: ['127.0.0.1:9092'],
          secret: new secretsmanager.Secret(stack, 'Secret'),
        }
      : { kind: 'msk', clusterArn: CLUSTER_ARN };
  const vpc = options.vpc
    ? new ec2.Vpc(stack, 'Vpc', {
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        natGateways: 0,
        subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      })
    : undefined;
  const consumer = new KafkaConsumerFunction(stack, 'Consumer', {
    entry: ENTRY,
    source,
    topic: 'tidewater.raw-events',
    consumerGroupId: 'tidewater-test-ingest',
    onFailureQueue: queue,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    ...(vpc ? { vpc } : {}),
    ...overrides,
  });
  return { app, stack, consumer, queue, template: () => Template.fromStack(stack) };
}

describe('KafkaConsumerFunction: function', () => {
  const { template } = consumerStack();
  const t = template();

  it('runs Node.js 22 on arm64 with active tracing', () => {
    // Assess
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: KAFKA_CONSUMER_DEFAULTS.memorySizeMiB,
      Timeout: 60,
    });
  });

  it('logs to its own log group with a retention', () => {
    // Assess
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    t.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^ConsumerLogGroup') } },
    });
  });

  it('has a role with no AWS managed policy for a self-managed source', () => {
    // Prepare
    const { template: selfManaged } = consumerStack({}, { source: 'self-managed' });

    // Assess
    selfManaged().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      ManagedPolicyArns: Match.absent(),
    });
  });
});

describe('KafkaConsumerFunction: event source mapping defaults', () => {
  const { template, queue, stack } = consumerStack();
  const t = template();

  it('sets batch size, batching window and starting position', () => {
    // Assess
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      StartingPosition: 'TRIM_HORIZON',
      Topics: ['tidewater.raw-events'],
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'tidewater-test-ingest' },
    });
  });

  it('uses provisioned pollers, so retries, record age and bisect apply', () => {
    // Assess
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 2 },
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 86_400,
      BisectBatchOnFunctionError: true,
    });
  });

  it('reports partial batch failures', () => {
    // Assess
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('sends exhausted batches to the SQS on-failure destination', () => {
    // Assess
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: {
        OnFailure: { Destination: stack.resolve(queue.queueArn) },
      },
    });
  });

  it('reads the MSK cluster with IAM-auth permissions on its topic and consumer group', () => {
    // Assess
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: CLUSTER_ARN });
    const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    for (const action of [
      'kafka-cluster:Connect',
      'kafka-cluster:DescribeClusterDynamicConfiguration',
      'kafka-cluster:ReadData',
      'kafka-cluster:DescribeGroup',
      'kafka-cluster:AlterGroup',
    ]) {
      expect(policies).toContain(action);
    }
    expect(policies).toContain(':topic/');
    expect(policies).toContain('/tidewater.raw-events');
    expect(policies).toContain('/tidewater-test-ingest');
  });
});

describe('KafkaConsumerFunction: overrides', () => {
  it('takes every mapping setting from props', () => {
    // Prepare
    const { template } = consumerStack({
      batchSize: 2000,
      maxBatchingWindow: Duration.seconds(5),
      startingPosition: StartingPosition.LATEST,
      minimumPollers: 2,
      maximumPollers: 8,
      retryAttempts: 10,
      maxRecordAgeSeconds: 3600,
      bisectBatchOnError: false,
      reportBatchItemFailures: false,
    });

    // Assess
    template().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 2000,
      MaximumBatchingWindowInSeconds: 5,
      StartingPosition: 'LATEST',
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 8 },
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: false,
      FunctionResponseTypes: Match.absent(),
    });
  });

  it('writes an unlimited record age (-1) through the escape hatch', () => {
    // Prepare
    const { template } = consumerStack({ maxRecordAgeSeconds: -1 });

    // Assess
    template().hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumRecordAgeInSeconds: -1 });
  });

  it('points a self-managed source at the bootstrap servers, without a cluster ARN', () => {
    // Prepare
    const { template } = consumerStack({}, { source: 'self-managed' });

    // Assess
    template().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['127.0.0.1:9092'] } },
      EventSourceArn: Match.absent(),
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 2 },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('places the function in the VPC with ENI permissions', () => {
    // Prepare
    const { template } = consumerStack({}, { vpc: true });

    // Assess
    const t = template();
    t.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
    });
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain('ec2:CreateNetworkInterface');
  });
});

describe('KafkaConsumerFunction: helpers', () => {
  it('bindTable sets the variable and grants read/write', () => {
    // Prepare
    const { consumer, stack, template } = consumerStack();
    const table = new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });

    // Act
    consumer.bindTable('STATE_TABLE', table);

    // Assess
    const t = template();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATE_TABLE: stack.resolve(table.tableName) }) },
    });
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain('dynamodb:PutItem');
  });

  it('grantMskProduce allows WriteData on the one topic', () => {
    // Prepare
    const { consumer, template } = consumerStack();

    // Act
    consumer.grantMskProduce(CLUSTER_ARN, 'tidewater.alerts');

    // Assess
    const policies = JSON.stringify(template().findResources('AWS::IAM::Policy'));
    expect(policies).toContain('kafka-cluster:WriteData');
    expect(policies).toContain('/tidewater.alerts');
  });
});

describe('KafkaConsumerFunction: validation', () => {
  it('rejects more minimum than maximum pollers', () => {
    // Act & Assess
    expect(() => consumerStack({ minimumPollers: 5, maximumPollers: 2 })).toThrow(
      /minimumPollers \(5\) exceeds maximumPollers \(2\); raise maximumPollers/,
    );
  });

  it('rejects a batch size over 10,000', () => {
    // Act & Assess
    expect(() => consumerStack({ batchSize: 20_000 })).toThrow(
      /batchSize must be an integer in 1\.\.10000, got 20000/,
    );
  });

  it('rejects a record age under 60 s', () => {
    // Act & Assess
    expect(() => consumerStack({ maxRecordAgeSeconds: 30 })).toThrow(
      /maxRecordAgeSeconds must be an integer in 60\.\.604800, got 30\. Use -1 for no limit/,
    );
  });

  it('rejects a self-managed source without bootstrap servers', () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test');

    // Act & Assess
    expect(
      () =>
        new KafkaConsumerFunction(stack, 'Consumer', {
          entry: ENTRY,
          source: {
            kind: 'self-managed',
            bootstrapServers: [],
            secret: new secretsmanager.Secret(stack, 'S'),
          },
          topic: 't',
          onFailureQueue: new sqs.Queue(stack, 'Q'),
          logRemovalPolicy: RemovalPolicy.DESTROY,
        }),
    ).toThrow(/bootstrapServers is empty/);
  });
});

describe('KafkaConsumerFunction: bundling', () => {
  it('bundles the handler locally with esbuild, without Docker', () => {
    // Prepare
    const outdir = mkdtempSync(join(tmpdir(), 'tidewater-bundle-'));
    const { app } = consumerStack({}, { bundle: true, outdir });

    // Act
    app.synth();

    // Assess
    const assetDirs = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
    expect(assetDirs.length).toBe(1);
    const asset = join(outdir, assetDirs[0] ?? '');
    expect(existsSync(join(asset, 'index.mjs'))).toBe(true);
    expect(existsSync(join(asset, 'parquet_wasm_bg.wasm'))).toBe(true);
  });

  it('gives a bundle that loads on its own, from any folder (Parquet wasm included)', () => {
    // Prepare: the bundle alone, as Lambda unpacks it, away from the project's node_modules.
    const outdir = mkdtempSync(join(tmpdir(), 'tidewater-bundle-'));
    consumerStack({}, { bundle: true, outdir }).app.synth();
    const task = isolateAsset(outdir);
    // Act: import it (loading the module loads parquet-wasm's wasm and the Kafka client's).
    const run = runWithBundle(task, []);
    // Assess
    expect(run.stderr).not.toMatch(/ENOENT|parquet_wasm_bg|is not defined/);
    expect(run.status).toBe(0);
  });

  it('gives the topics custom resource a bundle that loads on its own too', () => {
    // Prepare
    const task = bundleAlone(
      join(import.meta.dirname, '..', '..', 'lib', 'streaming', 'kafka-topics.handler.ts'),
      lambdaBundling(),
    );
    // Act
    const run = runWithBundle(task, []);
    // Assess
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
