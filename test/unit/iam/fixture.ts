/**
 * A small stage in the shapes CDK synthesizes for Tidewater (exports across stacks, MSK topic ARNs
 * built with Fn::Join/Fn::Select/Fn::Split of an imported cluster ARN, a bucket name cut out of an
 * imported bucket ARN), for the unit tests of the IAM contract modules.
 */
import type { CfnTemplate } from '../../support/iam/cfn.ts';

const CLUSTER = { 'Fn::ImportValue': 'S-Streaming:ClusterArn' };
const mskArn = (kind: 'topic' | 'group', name: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':kafka:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:${kind}/`,
      { 'Fn::Select': [1, { 'Fn::Split': ['/', CLUSTER] }] },
      '/',
      { 'Fn::Select': [2, { 'Fn::Split': ['/', CLUSTER] }] },
      `/${name}`,
    ],
  ],
});
const GOLD_ARN = { 'Fn::ImportValue': 'S-Lakehouse-GoldArn' };

export function stage(
  options: { describesRaw?: boolean; condition?: boolean } = {},
): Record<string, CfnTemplate> {
  return {
    'S-Streaming': {
      Resources: {
        Cluster: { Type: 'AWS::MSK::ServerlessCluster', Properties: { ClusterName: 'sstreaming' } },
      },
      Outputs: {
        C: { Value: { 'Fn::GetAtt': ['Cluster', 'Arn'] }, Export: { Name: 'S-Streaming:ClusterArn' } },
      },
    },
    'S-Lakehouse': {
      Resources: {
        Key: { Type: 'AWS::KMS::Key' },
        Gold: {
          Type: 'AWS::S3::Bucket',
          Properties: {
            BucketEncryption: {
              ServerSideEncryptionConfiguration: [
                {
                  ServerSideEncryptionByDefault: {
                    SSEAlgorithm: 'aws:kms',
                    KMSMasterKeyID: { 'Fn::GetAtt': ['Key', 'Arn'] },
                  },
                },
              ],
            },
          },
        },
      },
      Outputs: {
        G: { Value: { 'Fn::GetAtt': ['Gold', 'Arn'] }, Export: { Name: 'S-Lakehouse-GoldArn' } },
        K: { Value: { 'Fn::GetAtt': ['Key', 'Arn'] }, Export: { Name: 'S-Lakehouse-KeyArn' } },
      },
    },
    'S-Processing': {
      Resources: {
        WindowsRole: {
          Type: 'AWS::IAM::Role',
          Properties: {
            ManagedPolicyArns: [
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':iam::aws:policy/service-role/AWSLambdaMSKExecutionRole',
                  ],
                ],
              },
            ],
          },
        },
        WindowsPolicy: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            Roles: [{ Ref: 'WindowsRole' }],
            PolicyDocument: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: [
                    'kafka-cluster:Connect',
                    'kafka-cluster:DescribeCluster*',
                    'kafka:DescribeClusterV2',
                    'kafka:GetBootstrapBrokers',
                  ],
                  Resource: CLUSTER,
                },
                {
                  Effect: 'Allow',
                  Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
                  Resource: mskArn('topic', 't.enriched'),
                },
                ...(options.describesRaw === false
                  ? []
                  : [
                      {
                        Effect: 'Allow',
                        Action: 'kafka-cluster:DescribeTopic',
                        Resource: mskArn('topic', 't.raw'),
                      },
                    ]),
                { Effect: 'Allow', Action: ['kafka-cluster:*Group'], Resource: mskArn('group', 'g-windows') },
                {
                  Effect: 'Allow',
                  Action: ['s3:GetObject*', 's3:PutObject', 's3:DeleteObject*'],
                  Resource: [GOLD_ARN, { 'Fn::Join': ['', [GOLD_ARN, '/*']] }],
                  ...(options.condition ? { Condition: { Bool: { 'aws:SecureTransport': 'true' } } } : {}),
                },
                {
                  Effect: 'Allow',
                  Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
                  Resource: { 'Fn::ImportValue': 'S-Lakehouse-KeyArn' },
                },
              ],
            },
          },
        },
        WindowsFunction: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Role: { 'Fn::GetAtt': ['WindowsRole', 'Arn'] },
            Environment: {
              Variables: {
                TIDEWATER_CONSUMER: 'windows',
                TIDEWATER_TOPIC_RAW_EVENTS: 't.raw',
                TIDEWATER_TOPIC_ENRICHED_EVENTS: 't.enriched',
                TIDEWATER_GOLD_BUCKET: {
                  'Fn::Select': [
                    0,
                    { 'Fn::Split': ['/', { 'Fn::Select': [5, { 'Fn::Split': [':', GOLD_ARN] }] }] },
                  ],
                },
              },
            },
          },
        },
        WindowsMapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: {
            FunctionName: { Ref: 'WindowsFunction' },
            EventSourceArn: CLUSTER,
            Topics: ['t.enriched'],
            AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'g-windows' },
          },
        },
      },
    },
  };
}

/** The environment and group the handlers ran with locally. */
export const LOCAL = {
  environment: {
    TIDEWATER_TOPIC_RAW_EVENTS: 'local.raw',
    TIDEWATER_TOPIC_ENRICHED_EVENTS: 'local.enriched',
    TIDEWATER_GOLD_BUCKET: 'local-gold',
  },
  consumerGroupId: 'local-windows',
};
