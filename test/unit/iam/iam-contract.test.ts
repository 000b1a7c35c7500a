import { describe, expect, it } from 'vitest';
import { StageModel, UnsupportedTemplateError } from '../../support/iam/cfn.ts';
import {
  BindingError,
  checkFunction,
  consumerFunction,
  type RecordedCall,
} from '../../support/iam/contract.ts';
import {
  permissionPattern,
  queueArn,
  type ResourceContext,
  requiredPermissions,
  UnmappedCallError,
} from '../../support/iam/permission-map.ts';
import { evaluate, type RolePolicies, wildcardMatch } from '../../support/iam/policy.ts';
import { sdkCalls } from '../../support/iam/recorder.ts';
import { LOCAL, stage } from './fixture.ts';

const CLUSTER = 'arn:{partition}:kafka:{region}:{account}:cluster/sstreaming/{S-Streaming.Cluster.uuid}';
const call = (c: Omit<RecordedCall, 'count' | 'by'>, by: RecordedCall['by'] = 'function'): RecordedCall => ({
  ...c,
  count: 1,
  by,
});
const WINDOWS_CALLS: RecordedCall[] = [
  call({ service: 'kafka', operation: 'Metadata', topic: 'local.raw' }),
  call({ service: 'kafka', operation: 'Fetch', topic: 'local.enriched' }, 'event-source-mapping'),
  call(
    { service: 'kafka', operation: 'OffsetCommit', topic: 'local.enriched', group: 'local-windows' },
    'event-source-mapping',
  ),
  call({ service: 's3', operation: 'PutObject', bucket: 'local-gold', key: 'ops/state/windows/t-0.json.gz' }),
];

describe('the symbolic template model', () => {
  it('resolves an imported bucket ARN and the bucket name cut out of it to the same name', () => {
    // Prepare
    const model = new StageModel(stage());
    // Act
    const fn = consumerFunction(model, 'windows');
    // Assess
    expect(fn.environment['TIDEWATER_GOLD_BUCKET']).toBe('{S-Lakehouse.Gold}');
    expect(model.resolve('S-Processing', { 'Fn::ImportValue': 'S-Lakehouse-GoldArn' })).toBe(
      'arn:{partition}:s3:::{S-Lakehouse.Gold}',
    );
  });

  it('splits an imported MSK cluster ARN into the topic ARN of the policy', () => {
    // Prepare
    const model = new StageModel(stage());
    // Act
    const fn = consumerFunction(model, 'windows');
    // Assess
    expect(fn.mapping).toEqual({
      eventSourceArn: CLUSTER,
      topics: ['t.enriched'],
      consumerGroupId: 'g-windows',
    });
  });

  it('refuses an intrinsic it does not know instead of guessing', () => {
    const model = new StageModel(stage());
    expect(() => model.resolve('S-Processing', { 'Fn::If': ['C', 'a', 'b'] })).toThrow(
      UnsupportedTemplateError,
    );
    expect(() => model.resolve('S-Processing', { 'Fn::ImportValue': 'nobody-exports-this' })).toThrow(
      /no stack of the stage exports nobody-exports-this/,
    );
  });
});

describe('the permission map', () => {
  const ctx: ResourceContext = {
    partition: 'aws',
    region: 'eu-west-1',
    account: '1',
    clusterArn: 'arn:aws:kafka:eu-west-1:1:cluster/c/u',
    keyOf: (arn) => (arn === 'arn:aws:s3:::b' ? 'arn:aws:kms:eu-west-1:1:key/k' : undefined),
  };

  it('asks an idempotent producer for WriteDataIdempotently on the cluster, after Connect', () => {
    expect(requiredPermissions({ service: 'kafka', operation: 'InitProducerId' }, ctx)).toEqual([
      { action: 'kafka-cluster:Connect', resource: 'arn:aws:kafka:eu-west-1:1:cluster/c/u' },
      { action: 'kafka-cluster:WriteDataIdempotently', resource: 'arn:aws:kafka:eu-west-1:1:cluster/c/u' },
    ]);
  });

  it('maps an offset commit to the group and the topic ARNs of the cluster', () => {
    const needed = requiredPermissions(
      { service: 'kafka', operation: 'OffsetCommit', topic: 't', group: 'g' },
      ctx,
    );
    expect(needed.map((p) => `${p.action} ${p.resource}`)).toEqual([
      'kafka-cluster:Connect arn:aws:kafka:eu-west-1:1:cluster/c/u',
      'kafka-cluster:ReadData arn:aws:kafka:eu-west-1:1:topic/c/u/t',
      'kafka-cluster:AlterGroup arn:aws:kafka:eu-west-1:1:group/c/u/g',
    ]);
  });

  it('adds the KMS actions an SSE-KMS bucket implies, on its key', () => {
    const needed = requiredPermissions(
      { service: 's3', operation: 'PutObject', bucket: 'b', key: 'gold/x/dt=1/a.parquet' },
      ctx,
    );
    expect(needed).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b/gold/x/dt=1/a.parquet' },
      { action: 'kms:GenerateDataKey', resource: 'arn:aws:kms:eu-west-1:1:key/k', implied: 'kms' },
    ]);
    expect(permissionPattern(needed[0] as (typeof needed)[number])).toBe(
      's3:PutObject arn:aws:s3:::b/gold/x/*',
    );
  });

  it('fails a call it has no rule for, naming where to add one', () => {
    expect(() =>
      requiredPermissions({ service: 's3', operation: 'CopyObject', bucket: 'b', key: 'k' }, ctx),
    ).toThrow(/no IAM rule for s3:CopyObject; add one line to SDK_RULES/);
    expect(() =>
      requiredPermissions({ service: 'kafka', operation: 'DeleteRecords', topic: 't' }, ctx),
    ).toThrow(UnmappedCallError);
  });

  it('derives the queue ARN from its URL', () => {
    expect(queueArn('https://sqs.eu-west-1.amazonaws.com/123/q-1', 'aws')).toBe(
      'arn:aws:sqs:eu-west-1:123:q-1',
    );
  });
});

describe('the recorder', () => {
  it('records one call per object a DeleteObjects names, and one per table a batch names', () => {
    expect(
      sdkCalls('s3', 'DeleteObjects', { Bucket: 'b', Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } }),
    ).toEqual([
      { service: 's3', operation: 'DeleteObjects', bucket: 'b', key: 'a' },
      { service: 's3', operation: 'DeleteObjects', bucket: 'b', key: 'b' },
    ]);
    expect(sdkCalls('dynamodb', 'BatchWriteItem', { RequestItems: { t1: [], t2: [] } })).toEqual([
      { service: 'dynamodb', operation: 'BatchWriteItem', table: 't1' },
      { service: 'dynamodb', operation: 'BatchWriteItem', table: 't2' },
    ]);
  });
});

describe('the policy evaluator', () => {
  const policies = (statements: RolePolicies['statements']): RolePolicies => ({
    role: 'r',
    statements,
    unresolvedManagedPolicies: [],
  });

  it('matches action wildcards case-insensitively and resource wildcards case-sensitively', () => {
    expect(wildcardMatch('s3:GetObject*', 's3:getobjectversion', true)).toBe(true);
    expect(wildcardMatch('arn:aws:s3:::b/ops/*', 'arn:aws:s3:::b/OPS/x')).toBe(false);
    expect(wildcardMatch('arn:aws:s3:::b/?', 'arn:aws:s3:::b/x')).toBe(true);
  });

  it('lets a Deny win and reports an Allow with a condition as conditional', () => {
    const allow = { source: 'p', index: 0, effect: 'Allow' as const, actions: ['s3:*'], resources: ['*'] };
    expect(evaluate(policies([allow]), 's3:PutObject', 'arn:aws:s3:::b/k').decision).toBe('allowed');
    const deny = { ...allow, index: 1, effect: 'Deny' as const, actions: ['s3:PutObject'] };
    expect(evaluate(policies([allow, deny]), 's3:PutObject', 'arn:aws:s3:::b/k').decision).toBe('denied');
    const conditional = { ...allow, condition: { Bool: { 'aws:SecureTransport': 'true' } } };
    expect(evaluate(policies([conditional]), 's3:PutObject', 'arn:aws:s3:::b/k')).toMatchObject({
      decision: 'conditional',
    });
  });

  it('honours NotAction', () => {
    const st = { source: 'p', index: 0, effect: 'Allow' as const, notActions: ['iam:*'], resources: ['*'] };
    expect(evaluate(policies([st]), 'sqs:SendMessage', 'q').decision).toBe('allowed');
    expect(evaluate(policies([st]), 'iam:PassRole', 'q').decision).toBe('not-allowed');
  });
});

describe('the contract of a function', () => {
  it('passes when the role allows every recorded call, and lists the managed policy it cannot read', () => {
    // Prepare
    const model = new StageModel(stage());
    // Act
    const result = checkFunction(model, consumerFunction(model, 'windows'), WINDOWS_CALLS, LOCAL);
    // Assess
    expect(result.failures).toEqual([]);
    expect(result.unresolvedManagedPolicies).toEqual([
      'arn:{partition}:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole',
    ]);
    expect(result.rows.map((r) => r.call)).toContain('kafka:Metadata topic t.raw');
  });

  it('fails when the role may not describe the raw topic whose partitions the function reads', () => {
    // Prepare
    const model = new StageModel(stage({ describesRaw: false }));
    // Act
    const result = checkFunction(model, consumerFunction(model, 'windows'), WINDOWS_CALLS, LOCAL);
    // Assess
    expect(result.failures).toEqual([
      `kafka:Metadata topic t.raw → kafka-cluster:DescribeTopic ${CLUSTER.replace(':cluster/', ':topic/')}/t.raw: not-allowed`,
    ]);
  });

  it('reports a grant that holds only under a condition', () => {
    const model = new StageModel(stage({ condition: true }));
    const result = checkFunction(model, consumerFunction(model, 'windows'), WINDOWS_CALLS, LOCAL);
    expect(result.failures).toEqual([
      's3:PutObject {S-Lakehouse.Gold}/ops/state/* → s3:PutObject arn:{partition}:s3:::{S-Lakehouse.Gold}/ops/state/*: conditional',
    ]);
    const conditions = result.rows.flatMap((r) => r.permissions.flatMap((p) => p.conditions));
    expect(conditions).toEqual([{ Bool: { 'aws:SecureTransport': 'true' } }]);
  });

  it('refuses a resource the function reached that its template environment does not name', () => {
    const model = new StageModel(stage());
    const stray = [call({ service: 's3', operation: 'PutObject', bucket: 'local-silver', key: 'silver/x' })];
    expect(() => checkFunction(model, consumerFunction(model, 'windows'), stray, LOCAL)).toThrow(
      BindingError,
    );
  });

  it('fails on a recorded call the map does not know', () => {
    const model = new StageModel(stage());
    const unknown = [call({ service: 'kafka', operation: 'DeleteRecords', topic: 'local.raw' })];
    expect(() => checkFunction(model, consumerFunction(model, 'windows'), unknown, LOCAL)).toThrow(
      UnmappedCallError,
    );
  });
});
