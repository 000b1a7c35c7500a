/**
 * The IAM contract of the consumer functions: the calls each function was recorded making on the
 * local stack, named as its synthesized environment names them, mapped to the permissions they need
 * (`permission-map.ts`), and checked against the function's execution role in a stage's templates
 * (`policy.ts`).
 *
 * Local names are bound to template names through the function's own environment: a bucket the
 * handler reached as `TIDEWATER_GOLD_BUCKET=tw-1234-gold` locally is, for the check, whatever the
 * template sets `TIDEWATER_GOLD_BUCKET` to for that function (`{Tidewater-dev-Lakehouse.GoldBucket…}`).
 * A resource the function used but its template environment does not name fails the binding: on
 * AWS the function could not know it. The consumer group is the event source mapping's.
 */
import type { StageModel } from './cfn.ts';
import {
  type Call,
  describeCall,
  type Permission,
  permissionPattern,
  type ResourceContext,
  requiredPermissions,
} from './permission-map.ts';
import { type Decision, evaluate, type RolePolicies, rolePolicies, unusedGrants } from './policy.ts';

export interface FunctionModel {
  readonly consumer: string;
  readonly stack: string;
  readonly functionLogicalId: string;
  readonly roleLogicalId: string;
  /** The function's environment variables, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  /** Its Kafka event source mapping. */
  readonly mapping: {
    readonly eventSourceArn?: string;
    readonly topics: readonly string[];
    readonly consumerGroupId?: string;
  };
}

/** The function whose environment says `TIDEWATER_CONSUMER=<consumer>`, its role and mapping. */
export function consumerFunction(model: StageModel, consumer: string): FunctionModel {
  const fns = model.resourcesOfType('AWS::Lambda::Function').filter((f) => {
    const vars = (
      f.resource.Properties?.['Environment'] as { Variables?: Record<string, unknown> } | undefined
    )?.Variables;
    return vars?.['TIDEWATER_CONSUMER'] === consumer;
  });
  const [fn] = fns;
  if (fns.length !== 1 || fn === undefined)
    throw new Error(`expected one function with TIDEWATER_CONSUMER=${consumer}, found ${fns.length}`);
  const props = fn.resource.Properties ?? {};
  const role = props['Role'] as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const roleLogicalId = role?.['Fn::GetAtt']?.[0];
  if (roleLogicalId === undefined) throw new Error(`function ${fn.logicalId} has no role of its stack`);
  const vars = (props['Environment'] as { Variables: Record<string, unknown> }).Variables;
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) environment[k] = model.resolveString(fn.stack, v);
  const mappings = model
    .resourcesOfType('AWS::Lambda::EventSourceMapping')
    .filter(
      (m) =>
        m.stack === fn.stack &&
        (m.resource.Properties?.['FunctionName'] as { Ref?: string } | undefined)?.Ref === fn.logicalId,
    );
  const [m] = mappings;
  if (mappings.length !== 1 || m === undefined)
    throw new Error(`expected one event source mapping for ${fn.logicalId}, found ${mappings.length}`);
  const mp = m.resource.Properties ?? {};
  const group =
    (mp['AmazonManagedKafkaEventSourceConfig'] as { ConsumerGroupId?: unknown } | undefined)
      ?.ConsumerGroupId ??
    (mp['SelfManagedKafkaEventSourceConfig'] as { ConsumerGroupId?: unknown } | undefined)?.ConsumerGroupId;
  return {
    consumer,
    stack: fn.stack,
    functionLogicalId: fn.logicalId,
    roleLogicalId,
    environment,
    mapping: {
      ...(mp['EventSourceArn'] === undefined
        ? {}
        : { eventSourceArn: model.resolveString(m.stack, mp['EventSourceArn']) }),
      topics: ((mp['Topics'] as unknown[]) ?? []).map((t) => model.resolveString(m.stack, t)),
      ...(group === undefined ? {} : { consumerGroupId: model.resolveString(m.stack, group) }),
    },
  };
}

/** Partition, region, account, the MSK cluster and the KMS key of every encrypted resource. */
export function resourceContext(model: StageModel, clusterArn: string | undefined): ResourceContext {
  const keys = new Map<string, string>();
  const add = (stack: string, logicalId: string, key: unknown) => {
    if (key === undefined) return;
    keys.set(
      model.resolveString(stack, { 'Fn::GetAtt': [logicalId, 'Arn'] }),
      model.resolveString(stack, key),
    );
  };
  for (const b of model.resourcesOfType('AWS::S3::Bucket')) {
    const rules = (
      b.resource.Properties?.['BucketEncryption'] as
        | {
            ServerSideEncryptionConfiguration?: { ServerSideEncryptionByDefault?: Record<string, unknown> }[];
          }
        | undefined
    )?.ServerSideEncryptionConfiguration;
    const byDefault = rules?.[0]?.ServerSideEncryptionByDefault;
    if (byDefault?.['SSEAlgorithm'] === 'aws:kms') add(b.stack, b.logicalId, byDefault['KMSMasterKeyID']);
  }
  for (const t of model.resourcesOfType('AWS::DynamoDB::Table')) {
    const sse = t.resource.Properties?.['SSESpecification'] as Record<string, unknown> | undefined;
    if (sse?.['SSEEnabled'] === true) add(t.stack, t.logicalId, sse['KMSMasterKeyId']);
  }
  for (const q of model.resourcesOfType('AWS::SQS::Queue')) {
    add(q.stack, q.logicalId, q.resource.Properties?.['KmsMasterKeyId']);
  }
  return {
    partition: model.pseudo.partition,
    region: model.pseudo.region,
    account: model.pseudo.account,
    ...(clusterArn === undefined ? {} : { clusterArn }),
    keyOf: (arn) => keys.get(arn),
  };
}

/** A call as recorded on the local stack, with local names, and how often it was made. */
export interface RecordedCall extends Call {
  readonly count: number;
  /** `function` (the handler's clients) or `event-source-mapping` (the mapping's consumer). */
  readonly by: 'function' | 'event-source-mapping';
}

export interface LocalNames {
  /** The environment the handlers ran with. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** The consumer group the local mapping of this function used. */
  readonly consumerGroupId: string;
}

export class BindingError extends Error {
  override readonly name = 'BindingError';
}

/** The call with its resources named as the function's template environment names them. */
export function bindCall(call: RecordedCall, fn: FunctionModel, local: LocalNames): RecordedCall {
  const names = new Map<string, string>();
  for (const [k, templateValue] of Object.entries(fn.environment)) {
    const v = local.environment[k];
    if (v === undefined || v === '') continue;
    const previous = names.get(v);
    if (previous !== undefined && previous !== templateValue)
      throw new BindingError(`${v} is both ${previous} and ${templateValue} in ${fn.consumer}'s environment`);
    names.set(v, templateValue);
  }
  const bind = (what: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    const bound = names.get(value);
    if (bound === undefined)
      throw new BindingError(
        `${fn.consumer} used ${what} ${value}, which no variable of its environment in the template names`,
      );
    return bound;
  };
  let group: string | undefined;
  if (call.group !== undefined) {
    if (call.group !== local.consumerGroupId || fn.mapping.consumerGroupId === undefined)
      throw new BindingError(`${fn.consumer} used consumer group ${call.group}, not its mapping's`);
    group = fn.mapping.consumerGroupId;
  }
  const bucket = bind('bucket', call.bucket);
  const table = bind('table', call.table);
  const queueUrl = bind('queue', call.queueUrl);
  const topic = bind('topic', call.topic);
  return {
    ...call,
    ...(bucket === undefined ? {} : { bucket }),
    ...(table === undefined ? {} : { table }),
    ...(queueUrl === undefined ? {} : { queueUrl }),
    ...(topic === undefined ? {} : { topic }),
    ...(group === undefined ? {} : { group }),
  };
}

export interface CheckedPermission extends Permission {
  readonly pattern: string;
  readonly decision: Decision['decision'];
  /** Statements that decided it (`source#index`), and their conditions if any. */
  readonly by: readonly string[];
  readonly conditions: readonly unknown[];
}

export interface ContractRow {
  readonly call: string;
  readonly by: RecordedCall['by'] | 'documented';
  readonly count: number;
  readonly permissions: readonly CheckedPermission[];
}

export interface ContractResult {
  readonly consumer: string;
  readonly role: string;
  readonly rows: readonly ContractRow[];
  /** `call → action resource: decision`, for every needed permission not plainly allowed. */
  readonly failures: readonly string[];
  readonly unresolvedManagedPolicies: readonly string[];
  readonly unusedGrants: ReadonlyArray<{ source: string; action: string; resource: string }>;
}

/**
 * What the Lambda developer guide ("Configuring Lambda permissions for Amazon MSK event source
 * mappings") requires of the execution role for the mapping's own poller, beyond what the local
 * mapping's recorded Kafka calls show: on AWS the poller also reads the cluster (control plane) and
 * its dynamic configuration. Checked, and reported as documented, not recorded.
 */
export const MSK_MAPPING_DOCUMENTED: readonly string[] = [
  'kafka-cluster:Connect',
  'kafka-cluster:DescribeClusterDynamicConfiguration',
  'kafka:DescribeClusterV2',
  'kafka:GetBootstrapBrokers',
];

export function checkFunction(
  model: StageModel,
  fn: FunctionModel,
  calls: readonly RecordedCall[],
  local: LocalNames,
  known: Readonly<Record<string, unknown>> = {},
): ContractResult {
  const policies: RolePolicies = rolePolicies(model, fn.stack, fn.roleLogicalId, known);
  const ctx = resourceContext(
    model,
    fn.mapping.eventSourceArn?.includes(':kafka:') ? fn.mapping.eventSourceArn : undefined,
  );
  const failures: string[] = [];
  const needed: Permission[] = [];
  const check = (call: string, permissions: readonly Permission[]): CheckedPermission[] =>
    permissions.map((p) => {
      needed.push(p);
      const d = evaluate(policies, p.action, p.resource);
      const by = d.decision === 'not-allowed' ? [] : d.by.map((s) => `${s.source}#${s.index}`);
      const conditions =
        d.decision === 'not-allowed' ? [] : d.by.flatMap((s) => (s.condition ? [s.condition] : []));
      const pattern = permissionPattern(p);
      if (d.decision !== 'allowed') failures.push(`${call} → ${pattern}: ${d.decision}`);
      return { ...p, pattern, decision: d.decision, by, conditions };
    });
  const rows = new Map<
    string,
    { call: string; by: ContractRow['by']; count: number; permissions: Map<string, CheckedPermission> }
  >();
  for (const raw of calls) {
    const call = bindCall(raw, fn, local);
    const label = describeCall(call);
    const key = `${raw.by} ${label}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = { call: label, by: raw.by, count: 0, permissions: new Map() };
      rows.set(key, row);
    }
    row.count += call.count;
    for (const p of check(label, requiredPermissions(call, ctx))) {
      const prior = row.permissions.get(p.pattern);
      // Keep the worst decision of the pattern (every resource was checked on its own).
      if (prior === undefined || prior.decision === 'allowed') row.permissions.set(p.pattern, p);
    }
  }
  if (ctx.clusterArn !== undefined) {
    const label = 'lambda:EventSourceMapping (MSK poller, documented)';
    const permissions = MSK_MAPPING_DOCUMENTED.map((action) => ({
      action,
      resource: ctx.clusterArn as string,
    }));
    rows.set(label, {
      call: label,
      by: 'documented',
      count: 0,
      permissions: new Map(check(label, permissions).map((p) => [p.pattern, p])),
    });
  }
  return {
    consumer: fn.consumer,
    role: policies.role,
    rows: [...rows.values()]
      .map((r) => ({ call: r.call, by: r.by, count: r.count, permissions: [...r.permissions.values()] }))
      .sort((a, b) => a.call.localeCompare(b.call)),
    failures: [...new Set(failures)].sort(),
    unresolvedManagedPolicies: policies.unresolvedManagedPolicies,
    unusedGrants: unusedGrants(policies, needed),
  };
}
