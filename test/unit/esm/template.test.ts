import { join } from 'node:path';
import type { StackResource } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { type DeployedState, resolveValue, UnresolvedValueError } from '../../../localstack/esm/deploy.ts';
import { readMappings } from '../../../localstack/esm/template.ts';

const ASSEMBLY = join(import.meta.dirname, 'fixtures', 'assembly');

describe('reading the mappings from the synthesized template', () => {
  it('reads every setting of a Kafka mapping and its function', () => {
    const [ingest] = readMappings(ASSEMBLY, 'local');

    expect(ingest).toMatchObject({
      functionId: 'ingest',
      stackName: 'Tidewater-local-Processing',
      functionLogicalId: 'IngestFunctionB02ED0EB',
      topics: ['tidewater.raw-events'],
      bootstrapServers: ['127.0.0.1:9092'],
      batchSize: 500,
      maximumBatchingWindowInSeconds: 1,
      startingPosition: 'LATEST',
      maximumRetryAttempts: 3,
      maximumRecordAgeInSeconds: 86400,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
      consumerGroupId: 'tidewater-local-ingest',
      onFailureDestination: { 'Fn::ImportValue': 'Tidewater-local-State:IngestOnFailureArn' },
      minimumPollers: 1,
      maximumPollers: 2,
      handlerFile: join(ASSEMBLY, 'asset.abc123', 'index.mjs'),
      handlerExport: 'handler',
      timeoutSeconds: 30,
      memorySizeMiB: 512,
    });
    expect(ingest?.environment['TIDEWATER_CONSUMER']).toBe('ingest');
  });

  it('applies the AWS defaults to what a mapping leaves out, with a stable consumer group', () => {
    const other = readMappings(ASSEMBLY, 'local').find((m) => m.functionId === 'other');

    expect(other).toMatchObject({
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0.5,
      startingPosition: 'TRIM_HORIZON',
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      bisectBatchOnFunctionError: false,
      reportBatchItemFailures: false,
      consumerGroupId: 'Tidewater-local-Processing-OtherMapping',
      timeoutSeconds: 3,
    });
    expect(other?.onFailureDestination).toBeUndefined();
  });

  it('reads an Amazon MSK mapping with its cluster ARN, which a self-managed mapping does not have', () => {
    const mappings = readMappings(ASSEMBLY, 'local');
    const msk = mappings.find((m) => m.functionId === 'msk');
    const other = mappings.find((m) => m.functionId === 'other');

    expect(msk).toMatchObject({
      topics: ['msk-topic'],
      bootstrapServers: [],
      consumerGroupId: 'tidewater-local-msk',
      eventSourceArn: { 'Fn::ImportValue': 'Tidewater-local-Network:ClusterArn' },
    });
    expect(other).not.toHaveProperty('eventSourceArn');
  });

  it('says how to fix an assembly synthesized for another environment', () => {
    expect(() => readMappings(ASSEMBLY, 'dev')).toThrow(/no assembly-Tidewater-dev.*cdk synth -c env=dev/);
  });
});

describe('resolving CloudFormation values against the deployed stacks', () => {
  const resource = (type: string, physicalId: string): StackResource =>
    ({ ResourceType: type, PhysicalResourceId: physicalId }) as StackResource;
  const state: DeployedState = {
    region: 'us-east-1',
    account: '000000000000',
    resources: new Map([
      [
        'Tidewater-local-Processing',
        new Map([
          [
            'IngestFunctionB02ED0EB',
            resource('AWS::Lambda::Function', 'Tidewater-local-Processing-Ingest-ABC'),
          ],
          ['Queue', resource('AWS::SQS::Queue', 'http://localhost:4566/000000000000/my-queue')],
        ]),
      ],
    ]),
    exports: new Map([['Tidewater-local-Lakehouse-BronzeBucketArn', 'arn:aws:s3:::bronze-bucket-123']]),
  };

  it('resolves the bucket name the CDK derives from an imported bucket ARN', () => {
    const [ingest] = readMappings(ASSEMBLY, 'local');
    const value = ingest?.environment['TIDEWATER_BRONZE_BUCKET'] ?? null;

    expect(resolveValue(value, 'Tidewater-local-Processing', state)).toBe('bronze-bucket-123');
  });

  it('resolves Ref to the physical id and GetAtt Arn from the resource type', () => {
    expect(resolveValue({ Ref: 'IngestFunctionB02ED0EB' }, 'Tidewater-local-Processing', state)).toBe(
      'Tidewater-local-Processing-Ingest-ABC',
    );
    expect(resolveValue({ 'Fn::GetAtt': ['Queue', 'Arn'] }, 'Tidewater-local-Processing', state)).toBe(
      'arn:aws:sqs:us-east-1:000000000000:my-queue',
    );
    expect(
      resolveValue(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template
        { 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${IngestFunctionB02ED0EB}' },
        'Tidewater-local-Processing',
        state,
      ),
    ).toBe('arn:aws:x:us-east-1:Tidewater-local-Processing-Ingest-ABC');
  });

  it('names the missing export when the stacks are not deployed', () => {
    expect(() => resolveValue({ 'Fn::ImportValue': 'Nope' }, 'Tidewater-local-Processing', state)).toThrow(
      UnresolvedValueError,
    );
    expect(() => resolveValue({ 'Fn::ImportValue': 'Nope' }, 'Tidewater-local-Processing', state)).toThrow(
      /export Nope/,
    );
  });
});
