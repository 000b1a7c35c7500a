import { join } from 'node:path';
import {
  CustomResource,
  Duration,
  Names,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { EnvironmentConfig, KafkaConfig } from '../config/environment-config.ts';
import { lambdaBundling } from '../constructs/bundling.ts';
import { type CheckovSkip, skipCheckov } from '../constructs/checkov.ts';
import { mskResourceArn } from '../constructs/kafka-consumer-function.ts';
import { logsKey } from '../constructs/logs-key.ts';

/** Construct id CDK gives the singleton function of AwsCustomResource. */
const AWS_CUSTOM_RESOURCE_SINGLETON_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

/** checkov checks that do not apply to a function that runs only while CloudFormation deploys. */
const DEPLOY_TIME_FUNCTION_SKIPS: readonly CheckovSkip[] = [
  {
    id: 'CKV_AWS_115',
    comment:
      'Deploy-time custom resource: invoked once per deployment of the stack; reserved concurrency would only take from the account pool.',
  },
  {
    id: 'CKV_AWS_116',
    comment:
      'Deploy-time custom resource: a failed invocation fails the CloudFormation deployment, which reports it; a DLQ would hold a deployment event nobody replays.',
  },
];

/** Port of MSK brokers for SASL/IAM over TLS. */
export const MSK_IAM_PORT = 9098;

export interface StreamingStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: ec2.IVpc;
}

type MskKafkaConfig = Exclude<KafkaConfig, { mode: 'self-managed' }>;

/**
 * Amazon MSK with IAM authentication and TLS only: Serverless, or provisioned with standard or
 * Express brokers (from config); the three topics of the design; the bootstrap broker string.
 *
 * Topics: AWS::MSK::Topic on provisioned and Express clusters (Kafka ≥ 3.6); MSK Serverless has no
 * topic API, so there a custom resource creates them with a Kafka admin client over IAM auth.
 */
export class StreamingStack extends Stack {
  readonly clusterArn: string;
  /** Comma-separated SASL/IAM bootstrap brokers (port 9098). */
  readonly bootstrapServers: string;
  /** Security group of clients (functions) allowed to reach the brokers. */
  readonly clientSecurityGroup: ec2.SecurityGroup;
  readonly topicNames: {
    readonly rawEvents: string;
    readonly enrichedEvents: string;
    readonly alerts: string;
  };

  constructor(scope: Construct, id: string, props: StreamingStackProps) {
    super(scope, id, props);
    const kafka = props.config.kafka;
    if (kafka.mode === 'self-managed') {
      throw new Error(
        `StreamingStack: kafka.mode "self-managed" has no MSK cluster; do not create this stack for environment "${props.config.name}".`,
      );
    }
    const retain = props.config.removalPolicy === 'retain';
    this.topicNames = {
      rawEvents: kafka.topics.rawEvents.name,
      enrichedEvents: kafka.topics.enrichedEvents.name,
      alerts: kafka.topics.alerts.name,
    };
    const subnets = props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED });

    // Clients (the functions) get this group; the event source mapping uses the cluster's own group.
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: props.vpc,
      description: 'Kafka clients (Tidewater functions)',
      allowAllOutbound: true,
    });
    const clusterSecurityGroup = new ec2.SecurityGroup(this, 'ClusterSecurityGroup', {
      vpc: props.vpc,
      description: 'MSK brokers and the Lambda event source mapping ENIs',
      allowAllOutbound: true,
    });
    clusterSecurityGroup.addIngressRule(
      this.clientSecurityGroup,
      ec2.Port.tcp(MSK_IAM_PORT),
      'Kafka SASL/IAM over TLS from clients',
    );
    clusterSecurityGroup.addIngressRule(
      clusterSecurityGroup,
      ec2.Port.tcp(MSK_IAM_PORT),
      'Kafka SASL/IAM over TLS from the event source mapping',
    );

    const clusterName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).toLowerCase();
    if (kafka.mode === 'serverless') {
      const cluster = new msk.CfnServerlessCluster(this, 'Cluster', {
        clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [
          { subnetIds: subnets.subnetIds, securityGroups: [clusterSecurityGroup.securityGroupId] },
        ],
      });
      cluster.applyRemovalPolicy(retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
      this.clusterArn = cluster.attrArn;
    } else {
      this.clusterArn = this.provisionedCluster(
        kafka,
        clusterName,
        subnets.subnetIds,
        clusterSecurityGroup,
        retain,
        props.config.observability.logRetentionDays,
      );
    }

    this.bootstrapServers = this.lookUpBootstrapServers();
    if (kafka.mode === 'serverless') {
      this.createTopicsWithAdminClient(kafka, props.vpc, subnets);
    } else {
      for (const [key, topic] of Object.entries(kafka.topics)) {
        const t = new msk.CfnTopic(this, `Topic${key[0]?.toUpperCase()}${key.slice(1)}`, {
          clusterArn: this.clusterArn,
          topicName: topic.name,
          partitionCount: topic.partitions,
          replicationFactor: kafka.replicationFactor,
        });
        t.applyRemovalPolicy(retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
      }
    }
  }

  /** Logical id of a function's CfnFunction, as cdk-nag prints it. */
  private getLogicalIdString(fn: lambda.Function): string {
    return this.resolve(this.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)) as string;
  }

  private provisionedCluster(
    kafka: Extract<MskKafkaConfig, { mode: 'provisioned' | 'express' }>,
    clusterName: string,
    subnetIds: string[],
    securityGroup: ec2.ISecurityGroup,
    retain: boolean,
    logRetention: logs.RetentionDays,
  ): string {
    const key = new kms.Key(this, 'ClusterKey', {
      description: 'MSK data at rest',
      enableKeyRotation: true,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const logRemovalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', {
      // The environment's log retention (observability.logRetentionDays), like every other log group.
      retention: logRetention,
      removalPolicy: logRemovalPolicy,
      encryptionKey: logsKey(this, logRemovalPolicy),
    });
    const cluster = new msk.CfnCluster(this, 'Cluster', {
      clusterName,
      kafkaVersion: kafka.kafkaVersion,
      numberOfBrokerNodes: kafka.brokersPerAz * subnetIds.length,
      brokerNodeGroupInfo: {
        clientSubnets: subnetIds,
        instanceType: kafka.brokerInstanceType,
        securityGroups: [securityGroup.securityGroupId],
        // Express brokers have no storage to configure.
        ...(kafka.mode === 'provisioned'
          ? { storageInfo: { ebsStorageInfo: { volumeSize: kafka.brokerStorageGiB } } }
          : {}),
      },
      clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: key.keyArn },
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } } },
      enhancedMonitoring: 'PER_TOPIC_PER_BROKER',
    });
    cluster.applyRemovalPolicy(retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    return cluster.attrArn;
  }

  /** CloudFormation exposes no bootstrap brokers for MSK: read them once at deploy time. */
  private lookUpBootstrapServers(): string {
    const lookup = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: this.clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(this.clusterArn),
        outputPaths: ['BootstrapBrokerStringSaslIam'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: [this.clusterArn] }),
      ]),
      installLatestAwsSdk: false,
    });
    // The one Lambda behind every AwsCustomResource of the stack.
    const singleton = this.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON_ID);
    if (singleton) {
      skipCheckov(singleton, ...DEPLOY_TIME_FUNCTION_SKIPS, {
        id: 'CKV_AWS_117',
        comment:
          'CDK AwsCustomResource provider: it calls kafka:GetBootstrapBrokers, a public AWS API, once per deployment and reaches no resource inside the VPC (which has no NAT).',
      });
      Validations.of(singleton).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'CDK AwsCustomResource provider: the basic execution role only lets it write its own logs.',
      });
    }
    return lookup.getResponseField('BootstrapBrokerStringSaslIam');
  }

  private createTopicsWithAdminClient(
    kafka: MskKafkaConfig,
    vpc: ec2.IVpc,
    subnets: ec2.SelectedSubnets,
  ): void {
    const onEvent = new nodejs.NodejsFunction(this, 'TopicsHandler', {
      entry: join(import.meta.dirname, '..', 'streaming', 'kafka-topics.handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.minutes(2),
      memorySize: 512,
      vpc,
      vpcSubnets: { subnets: subnets.subnets },
      securityGroups: [this.clientSecurityGroup],
      logGroup: new logs.LogGroup(this, 'TopicsHandlerLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
        encryptionKey: logsKey(this, RemovalPolicy.DESTROY),
      }),
      bundling: lambdaBundling(),
    });
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
        resources: [this.clusterArn],
      }),
    );
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:AlterTopic'],
        resources: Object.values(kafka.topics).map((t) =>
          mskResourceArn(this, this.clusterArn, 'topic', t.name),
        ),
      }),
    );
    const provider = new cr.Provider(this, 'TopicsProvider', {
      onEventHandler: onEvent,
      logGroup: new logs.LogGroup(this, 'TopicsProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
        encryptionKey: logsKey(this, RemovalPolicy.DESTROY),
      }),
    });
    new CustomResource(this, 'Topics', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties: {
        ClusterArn: this.clusterArn,
        BootstrapServers: this.bootstrapServers,
        Region: this.region,
        Topics: Object.values(kafka.topics).map((t) => ({
          name: t.name,
          partitions: t.partitions,
          replicationFactor: kafka.replicationFactor,
        })),
      },
    });

    skipCheckov(onEvent, ...DEPLOY_TIME_FUNCTION_SKIPS);
    const framework = provider.node.tryFindChild('framework-onEvent');
    if (!framework) throw new Error('StreamingStack: the CDK Provider has no framework-onEvent function');
    skipCheckov(
      framework,
      ...DEPLOY_TIME_FUNCTION_SKIPS,
      {
        id: 'CKV_AWS_117',
        comment:
          'CDK Provider framework: it only invokes the topics handler (in the VPC) through the Lambda API and answers CloudFormation through its pre-signed S3 URL; it reaches nothing inside the VPC.',
      },
      {
        id: 'CKV_AWS_173',
        comment:
          "CDK Provider framework: its environment holds the topics handler's name, no secret, which Lambda encrypts at rest with its service key.",
      },
    );
    Validations.of(onEvent).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the pinned runtime of the platform (SPEC, NOTES).',
    });
    for (const c of [onEvent, provider]) {
      Validations.of(c).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'Deploy-time custom resource: the basic execution role only writes its own logs.',
      });
    }
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalIdString(onEvent)}.Arn>:*]`,
      reason:
        'CDK Provider framework: it may invoke any version of the topics handler (ARN:*), nothing else.',
    });
    Validations.of(onEvent).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'The topics handler runs in the VPC to reach the brokers; ENI actions have no resource scoping.',
    });
  }
}
