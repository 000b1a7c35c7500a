/**
 * What each call a function makes needs from its execution role: one rule per AWS SDK command and
 * per Kafka API. A call without a rule throws {@link UnmappedCallError}, so a new call in the code
 * fails the IAM contract test until its rule is written here (one line).
 *
 * Sources:
 * - S3, DynamoDB, SQS: the Service Authorization Reference (actions of each API operation);
 *   `DeleteObjects` needs `s3:DeleteObject` on each key; a `Batch*Item` needs the batch action on
 *   every table it names.
 * - KMS, implied by a resource encrypted with a customer managed key: S3 SSE-KMS `PutObject` needs
 *   `kms:GenerateDataKey`, `GetObject` `kms:Decrypt` (S3 User Guide, "Using server-side encryption
 *   with AWS KMS keys"); an SSE-KMS queue's producer needs `kms:GenerateDataKey` and `kms:Decrypt`
 *   (SQS Developer Guide, "Key management"); a table encrypted with a customer managed key needs
 *   `kms:Decrypt` of its caller (DynamoDB Developer Guide, "How DynamoDB uses AWS KMS").
 * - Kafka: Apache Kafka's authorization of each protocol API (the ACL operation and resource it
 *   checks), in the MSK action that the Amazon MSK Developer Guide ("Semantics of IAM authorization
 *   policy actions and resources") names as its equivalent: READ GROUP = AlterGroup, DESCRIBE
 *   GROUP = DescribeGroup, READ TOPIC = ReadData, WRITE TOPIC = WriteData, DESCRIBE TOPIC =
 *   DescribeTopic, IDEMPOTENT_WRITE CLUSTER = WriteDataIdempotently, DESCRIBE CLUSTER =
 *   DescribeCluster, DESCRIBE_CONFIGS CLUSTER = DescribeClusterDynamicConfiguration. Every
 *   connection needs `kafka-cluster:Connect` on the cluster.
 */

/** One call, with one resource (calls naming several are recorded once per resource). */
export interface Call {
  /** `s3`, `dynamodb`, `sqs` (SDK client) or `kafka` (protocol API). */
  readonly service: string;
  /** SDK command without `Command` (`PutObject`), or Kafka API name (`Metadata`). */
  readonly operation: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly table?: string;
  readonly queueUrl?: string;
  readonly topic?: string;
  readonly group?: string;
}

export interface Permission {
  readonly action: string;
  readonly resource: string;
  /** Why, when not the call's own action: `kms` (implied by the resource's encryption). */
  readonly implied?: 'kms';
}

export interface ResourceContext {
  readonly partition: string;
  /** Region and account of the stage's ARNs (tables). */
  readonly region: string;
  readonly account: string;
  /** The MSK cluster the functions use. @default - no MSK: Kafka calls need no IAM grant */
  readonly clusterArn?: string;
  /** The KMS key (ARN) encrypting a bucket, table or queue (by its ARN), if it is a customer key. */
  keyOf(resourceArn: string): string | undefined;
}

export class UnmappedCallError extends Error {
  override readonly name = 'UnmappedCallError';
}

type SdkResource = 'object' | 'bucket' | 'table' | 'queue';

interface SdkRule {
  readonly actions: readonly string[];
  readonly on: SdkResource;
  /** KMS actions on the key of an encrypted resource. @default - none */
  readonly kms?: readonly string[];
}

interface KafkaRule {
  readonly cluster?: readonly string[];
  readonly topic?: readonly string[];
  readonly group?: readonly string[];
}

const SSE_SQS_SEND = ['kms:GenerateDataKey', 'kms:Decrypt'];
const TABLE_KEY = ['kms:Decrypt'];

/** `<service>:<operation>` → what it needs. */
export const SDK_RULES: Readonly<Record<string, SdkRule>> = {
  's3:PutObject': { actions: ['s3:PutObject'], on: 'object', kms: ['kms:GenerateDataKey'] },
  's3:GetObject': { actions: ['s3:GetObject'], on: 'object', kms: ['kms:Decrypt'] },
  's3:HeadObject': { actions: ['s3:GetObject'], on: 'object' },
  's3:DeleteObject': { actions: ['s3:DeleteObject'], on: 'object' },
  's3:DeleteObjects': { actions: ['s3:DeleteObject'], on: 'object' },
  's3:ListObjectsV2': { actions: ['s3:ListBucket'], on: 'bucket' },
  'dynamodb:GetItem': { actions: ['dynamodb:GetItem'], on: 'table', kms: TABLE_KEY },
  'dynamodb:PutItem': { actions: ['dynamodb:PutItem'], on: 'table', kms: TABLE_KEY },
  'dynamodb:UpdateItem': { actions: ['dynamodb:UpdateItem'], on: 'table', kms: TABLE_KEY },
  'dynamodb:DeleteItem': { actions: ['dynamodb:DeleteItem'], on: 'table', kms: TABLE_KEY },
  'dynamodb:Query': { actions: ['dynamodb:Query'], on: 'table', kms: TABLE_KEY },
  'dynamodb:BatchGetItem': { actions: ['dynamodb:BatchGetItem'], on: 'table', kms: TABLE_KEY },
  'dynamodb:BatchWriteItem': { actions: ['dynamodb:BatchWriteItem'], on: 'table', kms: TABLE_KEY },
  'sqs:SendMessage': { actions: ['sqs:SendMessage'], on: 'queue', kms: SSE_SQS_SEND },
  'sqs:SendMessageBatch': { actions: ['sqs:SendMessage'], on: 'queue', kms: SSE_SQS_SEND },
  'sqs:GetQueueUrl': { actions: ['sqs:GetQueueUrl'], on: 'queue' },
};

/** Kafka protocol API name (as `@platformatic/kafka` names it) → what it needs besides Connect. */
export const KAFKA_RULES: Readonly<Record<string, KafkaRule>> = {
  ApiVersions: {},
  SaslHandshake: {},
  SaslAuthenticate: {},
  Metadata: { topic: ['kafka-cluster:DescribeTopic'] },
  ListOffsets: { topic: ['kafka-cluster:DescribeTopic'] },
  Produce: { topic: ['kafka-cluster:WriteData'] },
  InitProducerId: { cluster: ['kafka-cluster:WriteDataIdempotently'] },
  Fetch: { topic: ['kafka-cluster:ReadData'] },
  FindCoordinator: { group: ['kafka-cluster:DescribeGroup'] },
  JoinGroup: { group: ['kafka-cluster:AlterGroup'] },
  SyncGroup: { group: ['kafka-cluster:AlterGroup'] },
  Heartbeat: { group: ['kafka-cluster:AlterGroup'] },
  LeaveGroup: { group: ['kafka-cluster:AlterGroup'] },
  OffsetFetch: { group: ['kafka-cluster:DescribeGroup'], topic: ['kafka-cluster:DescribeTopic'] },
  OffsetCommit: { group: ['kafka-cluster:AlterGroup'], topic: ['kafka-cluster:ReadData'] },
  DescribeCluster: { cluster: ['kafka-cluster:DescribeCluster'] },
};

/** The permissions `call` needs. Throws {@link UnmappedCallError} for a call without a rule. */
export function requiredPermissions(call: Call, ctx: ResourceContext): Permission[] {
  return call.service === 'kafka' ? kafkaPermissions(call, ctx) : sdkPermissions(call, ctx);
}

function need<T>(value: T | undefined, what: string, call: Call): T {
  if (value === undefined || value === '')
    throw new UnmappedCallError(`${call.service}:${call.operation} was recorded without its ${what}`);
  return value;
}

function sdkPermissions(call: Call, ctx: ResourceContext): Permission[] {
  const rule = SDK_RULES[`${call.service}:${call.operation}`];
  if (rule === undefined) {
    throw new UnmappedCallError(
      `no IAM rule for ${call.service}:${call.operation}; add one line to SDK_RULES in test/support/iam/permission-map.ts`,
    );
  }
  let resource: string;
  let encrypted: string;
  switch (rule.on) {
    case 'object':
    case 'bucket': {
      const bucketArn = `arn:${ctx.partition}:s3:::${need(call.bucket, 'bucket', call)}`;
      resource = rule.on === 'bucket' ? bucketArn : `${bucketArn}/${need(call.key, 'key', call)}`;
      encrypted = bucketArn;
      break;
    }
    case 'table':
      resource = `arn:${ctx.partition}:dynamodb:${ctx.region}:${ctx.account}:table/${need(call.table, 'table', call)}`;
      encrypted = resource;
      break;
    case 'queue':
      resource = queueArn(need(call.queueUrl, 'queue URL', call), ctx.partition);
      encrypted = resource;
      break;
  }
  const out: Permission[] = rule.actions.map((action) => ({ action, resource }));
  const key = ctx.keyOf(encrypted);
  if (key !== undefined) {
    for (const action of rule.kms ?? []) out.push({ action, resource: key, implied: 'kms' });
  }
  return out;
}

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` → `arn:<partition>:sqs:<region>:<account>:<name>`. */
export function queueArn(url: string, partition: string): string {
  const m = /^https?:\/\/sqs\.([^./]+)\.[^/]+\/([^/]+)\/([^/]+)$/.exec(url);
  if (!m) throw new UnmappedCallError(`not an SQS queue URL: ${url}`);
  const [, region, account, name] = m as unknown as [string, string, string, string];
  return `arn:${partition}:sqs:${region}:${account}:${name}`;
}

/** `…:cluster/<name>/<uuid>` → `…:topic/<name>/<uuid>/<topic>` (or `group/`). */
export function mskArn(clusterArn: string, kind: 'topic' | 'group', name: string): string {
  if (!clusterArn.includes(':cluster/')) throw new UnmappedCallError(`not an MSK cluster ARN: ${clusterArn}`);
  return `${clusterArn.replace(':cluster/', `:${kind}/`)}/${name}`;
}

function kafkaPermissions(call: Call, ctx: ResourceContext): Permission[] {
  const rule = KAFKA_RULES[call.operation];
  if (rule === undefined) {
    throw new UnmappedCallError(
      `no IAM rule for the Kafka API ${call.operation}; add one line to KAFKA_RULES in test/support/iam/permission-map.ts`,
    );
  }
  const cluster = ctx.clusterArn;
  if (cluster === undefined) return [];
  const out: Permission[] = [{ action: 'kafka-cluster:Connect', resource: cluster }];
  for (const action of rule.cluster ?? []) out.push({ action, resource: cluster });
  for (const action of rule.topic ?? [])
    out.push({ action, resource: mskArn(cluster, 'topic', need(call.topic, 'topic', call)) });
  for (const action of rule.group ?? [])
    out.push({ action, resource: mskArn(cluster, 'group', need(call.group, 'group', call)) });
  return out;
}

/** A call as one line: `s3:PutObject bronze-bucket/bronze/raw_events/*`, `kafka:Metadata topic t`. */
export function describeCall(call: Call): string {
  const parts = [`${call.service}:${call.operation}`];
  if (call.bucket !== undefined)
    parts.push(call.key === undefined ? call.bucket : `${call.bucket}/${keyPattern(call.key)}`);
  if (call.table !== undefined) parts.push(call.table);
  if (call.queueUrl !== undefined) parts.push(call.queueUrl);
  if (call.topic !== undefined) parts.push(`topic ${call.topic}`);
  if (call.group !== undefined) parts.push(`group ${call.group}`);
  return parts.join(' ');
}

/** An object key as the pattern of its table or prefix: the first two segments, then `*`. */
export function keyPattern(key: string): string {
  const segments = key.split('/');
  return segments.length > 2 ? `${segments.slice(0, 2).join('/')}/*` : `${segments[0]}/*`;
}

/** A permission as a pattern (object keys collapsed by {@link keyPattern}). */
export function permissionPattern(p: Permission): string {
  const m = /^(arn:[^:]+:s3:::[^/]+)\/(.+)$/.exec(p.resource);
  const resource = m ? `${m[1]}/${keyPattern(m[2] ?? '')}` : p.resource;
  return `${p.action} ${resource}`;
}
