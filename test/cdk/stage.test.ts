/**
 * The Tidewater stage per environment: each environment is synthesized once for this file, with
 * cdk-nag AwsSolutions attached (synthesis throws on any unacknowledged finding).
 */
import { App, Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, stageId } from '../../lib/app.ts';
import { FUNCTION_ENV, METRIC_NAMESPACE } from '../../lib/observability/metric-contract.ts';
import { ProcessingStack } from '../../lib/stacks/processing-stack.ts';
import { type SynthesizedEnvironment, synthEnvironment } from './support/synth.ts';

let dev: SynthesizedEnvironment;
let staging: SynthesizedEnvironment;
let prod: SynthesizedEnvironment;
let local: SynthesizedEnvironment;

beforeAll(() => {
  dev = synthEnvironment('dev');
  staging = synthEnvironment('staging');
  prod = synthEnvironment('prod');
  local = synthEnvironment('local');
});

function stackIds(env: SynthesizedEnvironment): string[] {
  return env.stage.node.children.map((c) => c.node.id).sort();
}

function resourcesOf(
  t: Template,
  type: string,
): Record<string, { Properties?: Record<string, unknown>; DeletionPolicy?: string }> {
  return t.findResources(type) as Record<
    string,
    { Properties?: Record<string, unknown>; DeletionPolicy?: string }
  >;
}

describe('stage composition', () => {
  it('has network, streaming, lakehouse, state, processing and observability stacks on AWS', () => {
    // Assess
    expect(stackIds(dev)).toEqual([
      'Lakehouse',
      'Network',
      'Observability',
      'Processing',
      'State',
      'Streaming',
    ]);
    expect(dev.stage.stageName).toBe(stageId('dev'));
  });

  it('has no network or streaming stack in local', () => {
    // Assess
    expect(stackIds(local)).toEqual(['Lakehouse', 'Observability', 'Processing', 'State']);
  });

  it('keeps stacks environment-agnostic unless the config names an account', () => {
    // Assess
    expect(dev.stage.lakehouse.environment).toBe('aws://unknown-account/unknown-region');
    expect(local.stage.lakehouse.environment).toBe('aws://000000000000/us-east-1');
  });

  it('lets CDK name the buckets, table and queues', () => {
    // Assess
    for (const [type, key] of [
      ['AWS::S3::Bucket', 'BucketName'],
      ['AWS::DynamoDB::Table', 'TableName'],
      ['AWS::SQS::Queue', 'QueueName'],
    ] as const) {
      for (const stack of ['Lakehouse', 'State'] as const) {
        for (const r of Object.values(resourcesOf(dev.template(stack), type))) {
          expect(r.Properties?.[key]).toBeUndefined();
        }
      }
    }
  });
});

describe('network', () => {
  it('has isolated subnets only, no NAT gateway', () => {
    // Assess
    const t = dev.template('Network');
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    t.resourceCountIs('AWS::EC2::Subnet', 2);
  });

  it('has gateway endpoints for S3 and DynamoDB and interface endpoints for Lambda, STS, SQS and X-Ray', () => {
    // Assess
    const endpoints = Object.values(resourcesOf(dev.template('Network'), 'AWS::EC2::VPCEndpoint')).map(
      (r) => ({
        type: r.Properties?.['VpcEndpointType'],
        service: JSON.stringify(r.Properties?.['ServiceName']),
      }),
    );
    const services = (type: string) =>
      endpoints
        .filter((e) => e.type === type)
        .map((e) => /\.(s3|dynamodb|lambda|sts|sqs|xray)"/.exec(e.service)?.[1])
        .sort();
    expect(services('Gateway')).toEqual(['dynamodb', 's3']);
    expect(services('Interface')).toEqual(['lambda', 'sqs', 'sts', 'xray']);
  });

  it('spans three AZs in prod', () => {
    // Assess
    prod.template('Network').resourceCountIs('AWS::EC2::Subnet', 3);
  });

  it('logs rejected traffic', () => {
    // Assess
    dev.template('Network').hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });
});

describe('streaming', () => {
  it('runs MSK Serverless with IAM auth in dev', () => {
    // Assess
    const t = dev.template('Streaming');
    t.hasResourceProperties('AWS::MSK::ServerlessCluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
    });
    t.resourceCountIs('AWS::MSK::Cluster', 0);
  });

  it('creates the dev topics with an admin-client custom resource (no topic API on Serverless)', () => {
    // Assess
    const t = dev.template('Streaming');
    t.resourceCountIs('AWS::MSK::Topic', 0);
    t.hasResourceProperties('Custom::KafkaTopics', {
      Topics: [
        { name: 'tidewater.raw-events', partitions: 6, replicationFactor: 3 },
        { name: 'tidewater.enriched-events', partitions: 6, replicationFactor: 3 },
        { name: 'tidewater.alerts', partitions: 3, replicationFactor: 3 },
      ],
    });
  });

  it('runs Express brokers with TLS, IAM auth, KMS at rest and broker logs in prod', () => {
    // Assess
    prod.template('Streaming').hasResourceProperties('AWS::MSK::Cluster', {
      KafkaVersion: '3.8.x',
      NumberOfBrokerNodes: 3,
      BrokerNodeGroupInfo: Match.objectLike({
        InstanceType: 'express.m7g.large',
        StorageInfo: Match.absent(),
      }),
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
      EncryptionInfo: {
        EncryptionAtRest: { DataVolumeKMSKeyId: Match.anyValue() },
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
      },
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: Match.objectLike({ Enabled: true }) } },
    });
  });

  it("keeps broker logs as long as the environment's observability.logRetentionDays", () => {
    // Assess: prod says 365, staging 30
    for (const env of [prod, staging]) {
      const groups = Object.entries(resourcesOf(env.template('Streaming'), 'AWS::Logs::LogGroup')).filter(
        ([id]) => id.startsWith('BrokerLogs'),
      );
      expect(groups, env.config.name).toHaveLength(1);
      expect(groups[0]?.[1].Properties?.['RetentionInDays'], env.config.name).toBe(
        env.config.observability.logRetentionDays,
      );
    }
    expect(prod.config.observability.logRetentionDays).toBe(365);
  });

  it("encrypts every log group of every environment with its stack's KMS key, for CloudWatch Logs only", () => {
    // Assess
    const stacks = ['Network', 'Streaming', 'Processing'] as const;
    let groups = 0;
    for (const env of [dev, staging, prod, local]) {
      for (const id of stacks) {
        if (!env.stage.node.tryFindChild(id)) continue;
        const t = env.template(id);
        for (const [name, g] of Object.entries(resourcesOf(t, 'AWS::Logs::LogGroup'))) {
          groups++;
          expect(g.Properties?.['KmsKeyId'], `${env.config.name} ${id} ${name}`).toEqual({
            'Fn::GetAtt': [expect.stringMatching(/^LogsKey/), 'Arn'],
          });
        }
        const keys = Object.entries(resourcesOf(t, 'AWS::KMS::Key')).filter(([k]) => k.startsWith('LogsKey'));
        expect(keys, `${env.config.name} ${id}`).toHaveLength(1);
        expect(JSON.stringify(keys[0]?.[1].Properties?.['KeyPolicy'])).toContain(
          'kms:EncryptionContext:aws:logs:arn',
        );
      }
    }
    expect(groups).toBeGreaterThanOrEqual(4 * 4 + 3 * 2);
  });

  it('gives standard brokers EBS storage in staging', () => {
    // Assess
    staging.template('Streaming').hasResourceProperties('AWS::MSK::Cluster', {
      BrokerNodeGroupInfo: Match.objectLike({
        InstanceType: 'kafka.m7g.large',
        StorageInfo: { EBSStorageInfo: { VolumeSize: 200 } },
      }),
    });
  });

  it('creates the prod topics with AWS::MSK::Topic and the configured partitions', () => {
    // Assess
    const topics = Object.values(resourcesOf(prod.template('Streaming'), 'AWS::MSK::Topic')).map((r) => [
      r.Properties?.['TopicName'],
      r.Properties?.['PartitionCount'],
      r.Properties?.['ReplicationFactor'],
      r.DeletionPolicy,
    ]);
    expect(topics).toEqual([
      ['tidewater.raw-events', 24, 3, 'Retain'],
      ['tidewater.enriched-events', 24, 3, 'Retain'],
      ['tidewater.alerts', 6, 3, 'Retain'],
    ]);
  });

  it('opens the brokers only on the SASL/IAM TLS port', () => {
    // Assess
    const ingress = Object.values(resourcesOf(dev.template('Streaming'), 'AWS::EC2::SecurityGroupIngress'));
    expect(ingress.length).toBe(2);
    for (const rule of ingress) {
      expect(rule.Properties).toMatchObject({ FromPort: 9098, ToPort: 9098, IpProtocol: 'tcp' });
    }
  });
});

describe('state', () => {
  it('keeps state in a DynamoDB table with TTL, point-in-time recovery and a customer key', () => {
    // Assess
    dev.template('State').hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
  });

  it('bills the state table on demand unless the environment provisions it', () => {
    // Assess
    for (const env of [dev, staging, prod, local]) {
      env.template('State').resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
      env.template('State').hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
    }
  });

  /** dev with a provisioned state table, synthesized once (cdk-nag runs at synth: no new finding). */
  let provisioned: SynthesizedEnvironment | undefined;
  const provisionedDev = (): SynthesizedEnvironment => {
    provisioned ??= synthEnvironment('dev', {
      config: {
        ...dev.config,
        stateTable: {
          billing: 'provisioned',
          read: { min: 5, max: 400 },
          write: { min: 10, max: 800 },
          targetUtilizationPercent: 65,
        },
      },
    });
    return provisioned;
  };

  it('provisions the state table with auto scaling of reads and writes when the environment says so', () => {
    // Act
    const t = provisionedDev().template('State');
    // Assess
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 10 },
    });
    expect(JSON.stringify(t.findResources('AWS::DynamoDB::Table'))).not.toContain('PAY_PER_REQUEST');
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'dynamodb:table:ReadCapacityUnits',
      MinCapacity: 5,
      MaxCapacity: 400,
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'dynamodb:table:WriteCapacityUnits',
      MinCapacity: 10,
      MaxCapacity: 800,
    });
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 2);
    t.allResourcesProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 65 }),
    });
  });

  it('charts consumed against provisioned capacity only for a provisioned state table', () => {
    // Prepare
    const body = (t: Template) =>
      JSON.stringify(
        Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties?.['DashboardBody'],
      );
    // Act
    const withCapacity = body(provisionedDev().template('Observability'));
    const onDemand = body(dev.template('Observability'));
    // Assess
    for (const metric of ['ProvisionedWriteCapacityUnits', 'ProvisionedReadCapacityUnits']) {
      expect(withCapacity).toContain(metric);
      expect(onDemand).not.toContain(metric);
    }
  });

  it('has a poison queue and one on-failure queue per consumer, KMS-encrypted, 14 days, TLS only', () => {
    // Assess
    const t = dev.template('State');
    t.resourceCountIs('AWS::SQS::Queue', 5);
    t.allResourcesProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      MessageRetentionPeriod: 1_209_600,
    });
    t.resourceCountIs('AWS::SQS::QueuePolicy', 5);
    t.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('retains state and protects the table in prod, deletes it in dev', () => {
    // Assess
    const prodTable = Object.values(resourcesOf(prod.template('State'), 'AWS::DynamoDB::Table'))[0];
    const devTable = Object.values(resourcesOf(dev.template('State'), 'AWS::DynamoDB::Table'))[0];
    expect(prodTable?.DeletionPolicy).toBe('Retain');
    expect(prodTable?.Properties?.['DeletionProtectionEnabled']).toBe(true);
    expect(devTable?.DeletionPolicy).toBe('Delete');
    for (const q of Object.values(resourcesOf(prod.template('State'), 'AWS::SQS::Queue'))) {
      expect(q.DeletionPolicy).toBe('Retain');
    }
  });
});

describe('processing', () => {
  const consumers = ['ingest', 'enrich', 'windows', 'cep'];

  it('has one function and one Kafka mapping per consumer, on the topic it reads', () => {
    // Assess
    const t = dev.template('Processing');
    t.resourceCountIs('AWS::Lambda::Function', 4);
    const topics = Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'))
      .map((r) => [
        (r.Properties?.['AmazonManagedKafkaEventSourceConfig'] as { ConsumerGroupId: string })
          .ConsumerGroupId,
        (r.Properties?.['Topics'] as string[])[0],
      ])
      .sort();
    expect(topics).toEqual([
      ['tidewater-dev-cep', 'tidewater.enriched-events'],
      ['tidewater-dev-enrich', 'tidewater.raw-events'],
      ['tidewater-dev-ingest', 'tidewater.raw-events'],
      ['tidewater-dev-windows', 'tidewater.enriched-events'],
    ]);
  });

  it('applies the environment defaults and per-consumer overrides', () => {
    // Assess
    const batch = Object.values(resourcesOf(prod.template('Processing'), 'AWS::Lambda::EventSourceMapping'))
      .map((r) => [
        (r.Properties?.['AmazonManagedKafkaEventSourceConfig'] as { ConsumerGroupId: string })
          .ConsumerGroupId,
        r.Properties?.['BatchSize'],
        r.Properties?.['MaximumBatchingWindowInSeconds'],
        r.Properties?.['ProvisionedPollerConfig'],
      ])
      .sort();
    const pollers = { MinimumPollers: 6, MaximumPollers: 24, PollerGroupName: 'tidewater-prod' };
    expect(batch).toEqual([
      ['tidewater-prod-cep', 5000, 1, pollers],
      ['tidewater-prod-enrich', 5000, 2, pollers],
      ['tidewater-prod-ingest', 5000, 60, pollers],
      ['tidewater-prod-windows', 5000, 30, pollers],
    ]);
  });

  it('puts the functions in the VPC with the Kafka client security group on AWS', () => {
    // Assess
    dev.template('Processing').allResourcesProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SecurityGroupIds: Match.anyValue() }),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
    });
  });

  it('gives every function the platform environment variables', () => {
    // Assess
    for (const fn of Object.values(resourcesOf(dev.template('Processing'), 'AWS::Lambda::Function'))) {
      const vars = (fn.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect(vars).toMatchObject({
        [FUNCTION_ENV.env]: 'dev',
        [FUNCTION_ENV.rawEventsTopic]: 'tidewater.raw-events',
        [FUNCTION_ENV.kafkaAuth]: 'iam',
        [FUNCTION_ENV.smallTablesWriteSeconds]: '60',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      });
      expect(consumers).toContain(vars[FUNCTION_ENV.consumer]);
      expect(vars[FUNCTION_ENV.deadLetterQueueUrl]).toBeDefined();
      expect(vars[FUNCTION_ENV.kafkaBootstrapServers]).toBeDefined();
    }
  });

  it('binds each consumer to the bucket of the layer it writes', () => {
    // Assess
    const byConsumer = Object.fromEntries(
      Object.values(resourcesOf(dev.template('Processing'), 'AWS::Lambda::Function')).map((fn) => {
        const vars = (fn.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
        const buckets = [
          FUNCTION_ENV.bronzeBucket,
          FUNCTION_ENV.silverBucket,
          FUNCTION_ENV.goldBucket,
        ].filter((k) => k in vars);
        return [vars[FUNCTION_ENV.consumer], { buckets, state: FUNCTION_ENV.stateTable in vars }];
      }),
    );
    expect(byConsumer).toEqual({
      ingest: { buckets: [FUNCTION_ENV.bronzeBucket], state: true },
      enrich: { buckets: [FUNCTION_ENV.silverBucket], state: true },
      windows: { buckets: [FUNCTION_ENV.goldBucket], state: true },
      cep: { buckets: [FUNCTION_ENV.goldBucket], state: true },
    });
  });

  it('lets a non-gold consumer write the gold bucket under ops/ only', () => {
    // Assess
    const policies = resourcesOf(dev.template('Processing'), 'AWS::IAM::Policy');
    const ingest = JSON.stringify(Object.entries(policies).find(([id]) => id.startsWith('IngestRole'))?.[1]);
    expect(ingest).toContain('GoldBucketArn"},"/ops/*"');
    expect(ingest).not.toContain('GoldBucketArn"},"/*"');
  });

  it('lets enrich produce enriched events and cep produce alerts, nobody else', () => {
    // Assess
    const policies = resourcesOf(dev.template('Processing'), 'AWS::IAM::Policy');
    const writeTargets = (prefix: string) => {
      const doc = Object.entries(policies).find(([id]) => id.startsWith(`${prefix}Role`))?.[1];
      const statements = (
        doc?.Properties?.['PolicyDocument'] as {
          Statement: { Action: string | string[]; Resource: unknown }[];
        }
      ).Statement;
      return statements
        .filter((st) => [st.Action].flat().includes('kafka-cluster:WriteData'))
        .map((st) => /\/(tidewater\.[a-z-]+)"/.exec(JSON.stringify(st.Resource))?.[1]);
    };
    expect(writeTargets('Enrich')).toEqual(['tidewater.enriched-events']);
    expect(writeTargets('Cep')).toEqual(['tidewater.alerts']);
    expect(writeTargets('Ingest')).toEqual([]);
    expect(writeTargets('Windows')).toEqual([]);
  });

  it('lets the idempotent producers of enrich and cep initialize on the cluster in every MSK environment', () => {
    for (const env of [dev, staging, prod]) {
      // Assess
      const policies = resourcesOf(env.template('Processing'), 'AWS::IAM::Policy');
      const idempotent = (prefix: string) => {
        const doc = Object.entries(policies).find(([id]) => id.startsWith(`${prefix}Role`))?.[1];
        const statements = (
          doc?.Properties?.['PolicyDocument'] as { Statement: { Action: string | string[] }[] }
        ).Statement;
        return statements.some((st) => [st.Action].flat().includes('kafka-cluster:WriteDataIdempotently'));
      };
      expect(idempotent('Enrich')).toBe(true);
      expect(idempotent('Cep')).toBe(true);
      expect(idempotent('Ingest')).toBe(false);
      expect(idempotent('Windows')).toBe(false);
    }
  });

  it('lets the windows function describe the raw topic whose partitions it reads', () => {
    for (const env of [dev, staging, prod]) {
      // Assess
      const policies = resourcesOf(env.template('Processing'), 'AWS::IAM::Policy');
      const doc = Object.entries(policies).find(([id]) => id.startsWith('WindowsRole'))?.[1];
      const statements = (
        doc?.Properties?.['PolicyDocument'] as {
          Statement: { Action: string | string[]; Resource: unknown }[];
        }
      ).Statement;
      const described = statements
        .filter((st) => [st.Action].flat().includes('kafka-cluster:DescribeTopic'))
        .map((st) => /\/(tidewater\.[a-z-]+)"/.exec(JSON.stringify(st.Resource))?.[1])
        .sort();
      expect(described).toEqual(['tidewater.enriched-events', 'tidewater.raw-events']);
    }
  });

  it('reads the loopback broker through a self-managed Kafka source in local, outside any VPC', () => {
    // Assess
    const t = local.template('Processing');
    t.allResourcesProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['127.0.0.1:9092'] } },
      EventSourceArn: Match.absent(),
      StartingPosition: 'TRIM_HORIZON',
    });
    t.allResourcesProperties('AWS::Lambda::Function', { VpcConfig: Match.absent() });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [FUNCTION_ENV.kafkaBootstrapServers]: '127.0.0.1:9092',
          [FUNCTION_ENV.kafkaAuth]: 'none',
        }),
      },
    });
  });
});

describe('observability', () => {
  it('routes every alarm to the KMS-encrypted alarm topic', () => {
    // Assess
    const t = dev.template('Observability');
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBe(4 * 3 + 3);
    for (const a of alarms) {
      expect(JSON.stringify(a.Properties?.['AlarmActions'])).toMatch(/^\[\{"Ref":"AlarmTopic[0-9A-F]+"\}\]$/);
    }
  });

  it('alarms when the state table throttles writes, on that table', () => {
    const alarms = Object.values(resourcesOf(dev.template('Observability'), 'AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties?.['MetricName'] === 'WriteThrottleEvents',
    );
    expect(alarms.length).toBe(1);
    expect(alarms[0]?.Properties?.['Namespace']).toBe('AWS/DynamoDB');
    expect(alarms[0]?.Properties?.['Threshold']).toBe(50);
    expect(JSON.stringify(alarms[0]?.Properties?.['Dimensions'])).toMatch(/TableName.*StateTable/);
  });

  it('alarms on offset lag with the configured threshold', () => {
    // Assess
    prod.template('Observability').hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OffsetLag',
      Namespace: 'AWS/Lambda',
      Threshold: 100_000,
    });
  });

  it('alarms on p99 event-to-alert latency above the environment threshold, on the cep consumer', () => {
    // Assess
    for (const [env, threshold] of [
      [prod, 6_000],
      [local, 3_000],
    ] as const) {
      env.template('Observability').hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'EventToOutputLatency',
        Namespace: METRIC_NAMESPACE,
        ExtendedStatistic: 'p99',
        Threshold: threshold,
        Dimensions: Match.arrayWith([{ Name: 'Consumer', Value: 'cep' }]),
      });
    }
  });

  it('charts p50 and p99 of event-to-output and Kafka-to-output latency per consumer', () => {
    // Assess
    const [dashboard] = Object.values(
      resourcesOf(dev.template('Observability'), 'AWS::CloudWatch::Dashboard'),
    );
    const body = JSON.stringify(dashboard?.Properties?.['DashboardBody']);
    for (const [metric, consumers] of [
      ['EventToOutputLatency', ['enrich', 'cep']],
      ['KafkaToOutputLatency', ['ingest', 'enrich', 'cep']],
    ] as const) {
      for (const consumer of consumers) {
        for (const p of ['p50', 'p99']) {
          expect(body).toMatch(
            new RegExp(`${metric}.{0,200}Consumer.{0,10}${consumer}.{0,300}stat.{0,10}${p}`),
          );
        }
      }
    }
    expect(body).toContain('alarm: p99 event to alert');
  });

  it('charts invocations, errors, p99, throttles, offset lag, dead letters, layers, alerts and late events', () => {
    // Assess
    const dashboards = Object.values(
      resourcesOf(dev.template('Observability'), 'AWS::CloudWatch::Dashboard'),
    );
    expect(dashboards.length).toBe(1);
    const body = JSON.stringify(dashboards[0]?.Properties?.['DashboardBody']);
    for (const text of [
      'Invocations',
      'Errors',
      'p99',
      'Throttles',
      'OffsetLag',
      'ApproximateNumberOfMessagesVisible',
      'RecordsIn',
      'RecordsOut',
      'Alerts per pattern',
      'SEARCH(',
      'LateEvents',
      'ConsumedWriteCapacityUnits',
      'ConsumedReadCapacityUnits',
      'ReadThrottleEvents',
      'WriteThrottleEvents',
      'StateConflicts',
      'StateColdLoads',
      'StateSnapshots',
      METRIC_NAMESPACE,
    ]) {
      expect(body).toContain(text);
    }
    // Late events by whatever window names the domain has (the handlers use them as `Window`).
    expect(body).toMatch(/\{Tidewater,service,Environment,Window\}.{0,20}MetricName=.{0,4}LateEvents/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  /** Every acknowledgement of an AwsSolutions rule in a stage: [construct path, rule id, reason]. */
  function acknowledgements(env: SynthesizedEnvironment): [string, string, string][] {
    const found: [string, string, string][] = [];
    for (const c of env.stage.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
          const rule = id.replace(/^annotation::/i, '');
          if (rule.startsWith('AwsSolutions-')) found.push([c.node.path, rule, reason]);
        }
      }
    }
    return found;
  }

  it('synthesizes every environment with no unacknowledged finding', () => {
    // Assess: beforeAll's app.synth() would have thrown "Validation failed" otherwise.
    expect([dev, staging, prod, local].map((e) => e.config.name)).toEqual([
      'dev',
      'staging',
      'prod',
      'local',
    ]);
  });

  it('gives every acknowledgement a reason and puts none on a stack or the stage', () => {
    // Act
    const acks = [dev, staging, prod, local].flatMap(acknowledgements);

    // Assess
    expect(acks.length).toBeGreaterThan(0);
    for (const [path, rule, reason] of acks) {
      expect(reason.length, `${path} ${rule}`).toBeGreaterThan(40);
      expect(path.split('/').length, `${path} ${rule} is too broad`).toBeGreaterThan(2);
    }
  });

  it('fails synthesis on a finding nobody acknowledged', () => {
    // Prepare
    const { app, stage } = buildApp({ envName: 'local', bundle: false });
    new s3.Bucket(stage.state, 'Unencrypted');

    // Act & Assess
    expect(() => app.synth()).toThrow(/State\/Unencrypted\/Resource[\s\S]*AwsSolutions-S1'/);
  });

  it("fails synthesis on a Resource: * statement added to a consumer's default policy", () => {
    // Prepare: dev, with every acknowledgment the processing stack makes
    const { app, stage } = buildApp({ envName: 'dev', bundle: false });
    stage.processing.consumers.enrich.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
    );

    // Act & Assess
    expect(() => app.synth()).toThrow(
      /Processing\/Enrich\/Role\/DefaultPolicy\/Resource[\s\S]*AwsSolutions-IAM5\[Resource::\*\]/,
    );
  });

  it('keeps the statements that need Resource: * in one policy of their own, X-Ray and ENIs only', () => {
    // Prepare
    type Statement = { Action: string | string[]; Resource: unknown };
    const policies = Object.entries(resourcesOf(dev.template('Processing'), 'AWS::IAM::Policy'));

    // Assess
    const unscoped = policies.filter(([id]) => /UnscopedActionsPolicy/.test(id));
    expect(unscoped).toHaveLength(4);
    for (const [id, p] of policies) {
      const statements = (p.Properties?.['PolicyDocument'] as { Statement: Statement[] }).Statement;
      const wildcard = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
      if (/UnscopedActionsPolicy/.test(id)) {
        expect(
          wildcard.every((a) => /^(xray:Put|ec2:)/.test(a)),
          `${id}: ${wildcard}`,
        ).toBe(true);
        expect(wildcard).toContain('xray:PutTraceSegments');
        expect(wildcard).toContain('ec2:CreateNetworkInterface');
      } else {
        expect(wildcard, `${id} has Resource: * statements`).toEqual([]);
      }
    }
  });
});

describe('alarms in the simple metric form', () => {
  it('uses MetricName/Namespace, not metric math, so the local emulator accepts them', () => {
    // Assess
    for (const env of [dev, local]) {
      for (const a of Object.values(resourcesOf(env.template('Observability'), 'AWS::CloudWatch::Alarm'))) {
        expect(a.Properties?.['Metrics']).toBeUndefined();
        expect(a.Properties?.['MetricName']).toEqual(expect.any(String));
      }
    }
  });
});

describe('processing stack props', () => {
  it('refuses an MSK environment without the cluster and network', () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const unused = {} as never;

    // Act & Assess
    expect(
      () =>
        new ProcessingStack(app, 'Processing', {
          config: dev.config,
          lakehouse: unused,
          stateTable: unused,
          poisonQueue: unused,
          onFailureQueues: unused,
        }),
    ).toThrow(/kafka.mode "serverless" needs the msk prop/);
  });
});
