/**
 * Probes a LocalStack-compatible AWS endpoint for the API surface Tidewater needs and prints a
 * Markdown table, so the emulator comparison in README.md can be reproduced:
 *
 *   npx tsx localstack/emulator/probe.ts [--endpoint http://127.0.0.1:4566] [--name ministack] [--account ID]
 *
 * `--account` is the emulator's default account id, used in the Lambda execution role ARN
 * (MiniStack: 000000000000, the default; moto: 123456789012).
 *
 * Every check creates its own uniquely named resources; nothing is cleaned up (emulators are
 * throwaway). Exit code 0 even when checks fail: this is a report, not a test.
 */
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  PutDashboardCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
  CreateTableCommand as GlueCreateTableCommand,
} from '@aws-sdk/client-glue';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { awsClientConfig, endpoints, s3ClientConfig } from '../endpoints.ts';

interface CheckResult {
  readonly service: string;
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

type Check = () => Promise<string | undefined>;

class ProbeFailure extends Error {}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ProbeFailure(message);
}

async function expectError(fn: () => Promise<unknown>, match: (err: unknown) => boolean, what: string) {
  try {
    await fn();
  } catch (err) {
    expect(match(err), `${what}: got ${(err as Error).name}: ${(err as Error).message}`);
    return;
  }
  throw new ProbeFailure(`${what}: the call succeeded`);
}

/** A minimal ZIP archive (stored, no compression) for a Lambda deployment package. */
function storedZip(files: Record<string, string>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const fileName = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(0o644 << 16, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rate(n: number, fn: (i: number) => Promise<unknown>): Promise<string> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const seconds = (performance.now() - started) / 1000;
  return `${Math.round(n / seconds)}/s`;
}

function parseArgs(argv: string[]): { endpoint?: string; name?: string; account?: string } {
  const out: { endpoint?: string; name?: string; account?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--endpoint') out.endpoint = argv[++i];
    else if (argv[i] === '--name') out.name = argv[++i];
    else if (argv[i] === '--account') out.account = argv[++i];
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const e = endpoints(args.endpoint ? { ...process.env, AWS_ENDPOINT_URL: args.endpoint } : process.env);
  const cfg = { ...awsClientConfig(e), maxAttempts: 1 };
  const s3 = new S3Client({ ...s3ClientConfig(e), maxAttempts: 1 });
  const ddb = new DynamoDBClient(cfg);
  const sqs = new SQSClient(cfg);
  const cw = new CloudWatchClient(cfg);
  const logs = new CloudWatchLogsClient(cfg);
  const glue = new GlueClient(cfg);
  const lambda = new LambdaClient(cfg);
  const cfn = new CloudFormationClient(cfg);
  const id = randomUUID().slice(0, 8);
  const bucket = `probe-${id}`;
  const table = `probe-${id}`;
  const rates: string[] = [];

  const checks: Array<[string, string, Check]> = [
    [
      'S3',
      'PutObject (streamed body, default checksums) / GetObject round trip',
      async () => {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        const body = 'x'.repeat(70_000);
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: 'a/b.txt', Body: body, ContentType: 'text/plain' }),
        );
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.txt' }));
        const text = await got.Body?.transformToString();
        expect(text === body, `body differs (${text?.length} vs ${body.length} chars)`);
        return undefined;
      },
    ],
    [
      'S3',
      'multipart upload (2 x 5 MiB + tail)',
      async () => {
        const key = 'mp/object.bin';
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        const parts = [
          Buffer.alloc(5 * 1024 * 1024, 1),
          Buffer.alloc(5 * 1024 * 1024, 2),
          Buffer.from('tail'),
        ];
        const etags: Array<{ ETag: string; PartNumber: number }> = [];
        for (const [i, part] of parts.entries()) {
          const r = await s3.send(
            new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: part }),
          );
          etags.push({ ETag: r.ETag ?? '', PartNumber: i + 1 });
        }
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            MultipartUpload: { Parts: etags },
          }),
        );
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
        expect(bytes.length === 10 * 1024 * 1024 + 4, `size ${bytes.length}`);
        expect(
          bytes[0] === 1 && bytes[5 * 1024 * 1024] === 2 && bytes.subarray(-4).toString() === 'tail',
          'content',
        );
        return undefined;
      },
    ],
    [
      'S3',
      'ListObjectsV2 paging (7 keys, MaxKeys 3, prefix)',
      async () => {
        for (let i = 0; i < 7; i++) {
          await s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: `page/k${i}`, Body: Buffer.from(String(i)) }),
          );
        }
        const keys: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const r = await s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: 'page/',
              MaxKeys: 3,
              ContinuationToken: token,
            }),
          );
          keys.push(...(r.Contents ?? []).map((o) => o.Key ?? ''));
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
          pages++;
        } while (token && pages < 10);
        expect(
          pages === 3 && keys.length === 7 && new Set(keys).size === 7,
          `${pages} pages, ${keys.length} keys`,
        );
        const delim = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
        const prefixes = (delim.CommonPrefixes ?? []).map((p) => p.Prefix).sort();
        expect(prefixes.join() === 'a/,mp/,page/', `common prefixes ${prefixes.join()}`);
        return undefined;
      },
    ],
    [
      'DynamoDB',
      'conditional PutItem / UpdateItem (success and ConditionalCheckFailed)',
      async () => {
        await ddb.send(
          new CreateTableCommand({
            TableName: table,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
          }),
        );
        const item = { pk: { S: 'u1' }, sk: { S: 'state' }, offset: { N: '10' } };
        await ddb.send(
          new PutItemCommand({
            TableName: table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        await expectError(
          () =>
            ddb.send(
              new PutItemCommand({
                TableName: table,
                Item: item,
                ConditionExpression: 'attribute_not_exists(pk)',
              }),
            ),
          (err) => err instanceof ConditionalCheckFailedException,
          'second put',
        );
        await ddb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: 'u1' }, sk: { S: 'state' } },
            UpdateExpression: 'SET #o = :new',
            ConditionExpression: '#o < :new',
            ExpressionAttributeNames: { '#o': 'offset' },
            ExpressionAttributeValues: { ':new': { N: '20' } },
          }),
        );
        await expectError(
          () =>
            ddb.send(
              new UpdateItemCommand({
                TableName: table,
                Key: { pk: { S: 'u1' }, sk: { S: 'state' } },
                UpdateExpression: 'SET #o = :new',
                ConditionExpression: '#o < :new',
                ExpressionAttributeNames: { '#o': 'offset' },
                ExpressionAttributeValues: { ':new': { N: '15' } },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              }),
            ),
          (err) => err instanceof ConditionalCheckFailedException && err.Item?.['offset']?.N === '20',
          'stale update (with ReturnValuesOnConditionCheckFailure)',
        );
        return undefined;
      },
    ],
    [
      'DynamoDB',
      'TransactWriteItems with conditions (commit, then cancel with reasons)',
      async () => {
        await ddb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table,
                  Item: { pk: { S: 'u2' }, sk: { S: 'a' } },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: table,
                  Key: { pk: { S: 'u1' }, sk: { S: 'state' } },
                  UpdateExpression: 'SET #o = :new',
                  ConditionExpression: '#o = :old',
                  ExpressionAttributeNames: { '#o': 'offset' },
                  ExpressionAttributeValues: { ':new': { N: '30' }, ':old': { N: '20' } },
                },
              },
            ],
          }),
        );
        await expectError(
          () =>
            ddb.send(
              new TransactWriteItemsCommand({
                TransactItems: [
                  { Put: { TableName: table, Item: { pk: { S: 'u3' }, sk: { S: 'a' } } } },
                  {
                    ConditionCheck: {
                      TableName: table,
                      Key: { pk: { S: 'u1' }, sk: { S: 'state' } },
                      ConditionExpression: '#o = :old',
                      ExpressionAttributeNames: { '#o': 'offset' },
                      ExpressionAttributeValues: { ':old': { N: '20' } },
                    },
                  },
                ],
              }),
            ),
          (err) =>
            err instanceof TransactionCanceledException &&
            err.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed',
          'stale transaction',
        );
        const u3 = await ddb.send(
          new GetItemCommand({ TableName: table, Key: { pk: { S: 'u3' }, sk: { S: 'a' } } }),
        );
        expect(u3.Item === undefined, 'cancelled transaction wrote its Put');
        return undefined;
      },
    ],
    [
      'DynamoDB',
      'UpdateTimeToLive / DescribeTimeToLive',
      async () => {
        await ddb.send(
          new UpdateTimeToLiveCommand({
            TableName: table,
            TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
          }),
        );
        const d = await ddb.send(new DescribeTimeToLiveCommand({ TableName: table }));
        const ttl = d.TimeToLiveDescription;
        expect(
          ttl?.AttributeName === 'expires_at' && /ENABL/.test(ttl.TimeToLiveStatus ?? ''),
          JSON.stringify(ttl),
        );
        return ttl.TimeToLiveStatus;
      },
    ],
    [
      'DynamoDB',
      'BatchWriteItem (25 items, no UnprocessedItems)',
      async () => {
        const r = await ddb.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [table]: Array.from({ length: 25 }, (_, i) => ({
                PutRequest: { Item: { pk: { S: `b${i}` }, sk: { S: 'x' } } },
              })),
            },
          }),
        );
        expect(Object.keys(r.UnprocessedItems ?? {}).length === 0, 'unprocessed items');
        rates.push(
          `DynamoDB BatchWriteItem: ${await rate(40, (i) =>
            ddb.send(
              new BatchWriteItemCommand({
                RequestItems: {
                  [table]: Array.from({ length: 25 }, (_, j) => ({
                    PutRequest: { Item: { pk: { S: `r${i}-${j}` }, sk: { S: 'x' } } },
                  })),
                },
              }),
            ),
          )} requests of 25`,
        );
        rates.push(
          `DynamoDB conditional UpdateItem: ${await rate(300, (i) =>
            ddb.send(
              new UpdateItemCommand({
                TableName: table,
                Key: { pk: { S: 'rate' }, sk: { S: 'x' } },
                UpdateExpression: 'SET #o = :new',
                ConditionExpression: 'attribute_not_exists(#o) OR #o < :new',
                ExpressionAttributeNames: { '#o': 'offset' },
                ExpressionAttributeValues: { ':new': { N: String(i) } },
              }),
            ),
          )}`,
        );
        return undefined;
      },
    ],
    [
      'SQS',
      'send / receive (attributes) / delete, batch send, redrive policy',
      async () => {
        const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `probe-dlq-${id}` }));
        const dlqArn = (
          await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
          )
        ).Attributes?.['QueueArn'];
        const q = await sqs.send(
          new CreateQueueCommand({
            QueueName: `probe-${id}`,
            Attributes: {
              RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
            },
          }),
        );
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: q.QueueUrl,
            MessageBody: '{"hello":1}',
            MessageAttributes: { reason: { DataType: 'String', StringValue: 'poison' } },
          }),
        );
        const r = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: q.QueueUrl,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
            MaxNumberOfMessages: 10,
          }),
        );
        const m = r.Messages?.[0];
        expect(m?.Body === '{"hello":1}', `received ${JSON.stringify(r.Messages)}`);
        expect(m.MessageAttributes?.['reason']?.StringValue === 'poison', 'message attribute');
        await sqs.send(new DeleteMessageCommand({ QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle }));
        const b = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: q.QueueUrl,
            Entries: [
              { Id: '1', MessageBody: 'a' },
              { Id: '2', MessageBody: 'b' },
            ],
          }),
        );
        expect((b.Successful ?? []).length === 2, 'batch send');
        return undefined;
      },
    ],
    [
      'CloudWatch',
      'PutMetricData / ListMetrics / GetMetricData',
      async () => {
        const ns = `Tidewater/Probe${id}`;
        await cw.send(
          new PutMetricDataCommand({
            Namespace: ns,
            MetricData: [
              {
                MetricName: 'RecordsIn',
                Dimensions: [{ Name: 'Stage', Value: 'bronze' }],
                Value: 42,
                Unit: 'Count',
              },
            ],
          }),
        );
        const listed = await cw.send(new ListMetricsCommand({ Namespace: ns }));
        expect(
          (listed.Metrics ?? []).some((m) => m.MetricName === 'RecordsIn'),
          'ListMetrics',
        );
        const now = Date.now();
        const data = await cw.send(
          new GetMetricDataCommand({
            StartTime: new Date(now - 600_000),
            EndTime: new Date(now + 60_000),
            MetricDataQueries: [
              {
                Id: 'm',
                MetricStat: {
                  Metric: {
                    Namespace: ns,
                    MetricName: 'RecordsIn',
                    Dimensions: [{ Name: 'Stage', Value: 'bronze' }],
                  },
                  Period: 60,
                  Stat: 'Sum',
                },
              },
            ],
          }),
        );
        const values = data.MetricDataResults?.[0]?.Values ?? [];
        expect(values.reduce((a, b) => a + b, 0) === 42, `GetMetricData values ${JSON.stringify(values)}`);
        return undefined;
      },
    ],
    [
      'CloudWatch',
      'PutMetricAlarm / DescribeAlarms, PutDashboard / GetDashboard',
      async () => {
        await cw.send(
          new PutMetricAlarmCommand({
            AlarmName: `probe-${id}`,
            Namespace: 'Tidewater',
            MetricName: 'DeadLettered',
            Statistic: 'Sum',
            Period: 60,
            EvaluationPeriods: 1,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          }),
        );
        const alarms = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [`probe-${id}`] }));
        expect((alarms.MetricAlarms ?? []).length === 1, 'DescribeAlarms');
        const body = JSON.stringify({
          widgets: [{ type: 'text', x: 0, y: 0, width: 6, height: 2, properties: { markdown: 'hi' } }],
        });
        await cw.send(new PutDashboardCommand({ DashboardName: `probe-${id}`, DashboardBody: body }));
        const dash = await cw.send(new GetDashboardCommand({ DashboardName: `probe-${id}` }));
        expect(dash.DashboardBody !== undefined, 'GetDashboard');
        return undefined;
      },
    ],
    [
      'Logs',
      'log group + retention, stream, PutLogEvents, GetLogEvents, FilterLogEvents',
      async () => {
        const group = `/tidewater/probe-${id}`;
        await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
        await logs.send(new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: 7 }));
        await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's1' }));
        await logs.send(
          new PutLogEventsCommand({
            logGroupName: group,
            logStreamName: 's1',
            logEvents: [
              { timestamp: Date.now(), message: '{"level":"INFO","msg":"started"}' },
              { timestamp: Date.now(), message: '{"level":"ERROR","msg":"poison record"}' },
            ],
          }),
        );
        const got = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: 's1' }));
        expect((got.events ?? []).length === 2, `GetLogEvents ${got.events?.length}`);
        const filtered = await logs.send(
          new FilterLogEventsCommand({ logGroupName: group, filterPattern: 'poison' }),
        );
        expect((filtered.events ?? []).length === 1, `FilterLogEvents ${filtered.events?.length}`);
        return undefined;
      },
    ],
    [
      'Glue',
      'database, table with partition projection parameters, partitions',
      async () => {
        const db = `probe_${id}`;
        await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: db } }));
        await glue.send(
          new GlueCreateTableCommand({
            DatabaseName: db,
            TableInput: {
              Name: 'events',
              TableType: 'EXTERNAL_TABLE',
              Parameters: {
                'projection.enabled': 'true',
                'projection.dt.type': 'date',
                classification: 'parquet',
              },
              PartitionKeys: [{ Name: 'dt', Type: 'string' }],
              StorageDescriptor: {
                Columns: [{ Name: 'event_id', Type: 'string' }],
                Location: `s3://${bucket}/silver/events/`,
                InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
                OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
                SerdeInfo: {
                  SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
                },
              },
            },
          }),
        );
        const t = await glue.send(new GetTableCommand({ DatabaseName: db, Name: 'events' }));
        expect(t.Table?.Parameters?.['projection.enabled'] === 'true', 'table parameters');
        await glue.send(
          new BatchCreatePartitionCommand({
            DatabaseName: db,
            TableName: 'events',
            PartitionInputList: [
              {
                Values: ['2026-01-01'],
                StorageDescriptor: { Location: `s3://${bucket}/silver/events/dt=2026-01-01/` },
              },
            ],
          }),
        );
        const p = await glue.send(new GetPartitionsCommand({ DatabaseName: db, TableName: 'events' }));
        expect((p.Partitions ?? []).length === 1, 'GetPartitions');
        return undefined;
      },
    ],
    [
      'Lambda',
      'CreateFunction (nodejs22.x zip) / Invoke',
      async () => {
        const name = `probe-${id}`;
        await lambda.send(
          new CreateFunctionCommand({
            FunctionName: name,
            Runtime: 'nodejs22.x',
            Handler: 'index.handler',
            Role: `arn:aws:iam::${args.account ?? '000000000000'}:role/probe`,
            Code: {
              ZipFile: storedZip({
                'index.mjs': 'export const handler = async (event) => ({ ok: true, echo: event.n * 2 });\n',
              }),
            },
            Timeout: 10,
          }),
        );
        for (let i = 0; i < 30; i++) {
          const f = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
          if (f.Configuration?.State !== 'Pending') break;
          await sleep(500);
        }
        const r = await lambda.send(
          new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify({ n: 21 })) }),
        );
        const text = Buffer.from(r.Payload ?? []).toString();
        expect(r.FunctionError === undefined && text.includes('42'), `invoke returned ${text.slice(0, 160)}`);
        return undefined;
      },
    ],
    [
      'CloudFormation',
      'CreateStack (S3 bucket, DynamoDB table with TTL, SQS queue) reaches CREATE_COMPLETE',
      async () => {
        const stackName = `probe-${id}`;
        const template = {
          Resources: {
            Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: `probe-cfn-${id}` } },
            Table: {
              Type: 'AWS::DynamoDB::Table',
              Properties: {
                BillingMode: 'PAY_PER_REQUEST',
                AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
                KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
                TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
              },
            },
            Queue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
          },
        };
        await cfn.send(
          new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }),
        );
        let status = '';
        for (let i = 0; i < 60; i++) {
          const d = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
          status = d.Stacks?.[0]?.StackStatus ?? '';
          if (!status.endsWith('IN_PROGRESS')) break;
          await sleep(500);
        }
        expect(status === 'CREATE_COMPLETE', `status ${status}`);
        const res = await cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }));
        expect((res.StackResources ?? []).length === 3, `${res.StackResources?.length} resources`);
        await s3.send(new HeadBucketCommand({ Bucket: `probe-cfn-${id}` }));
        return undefined;
      },
    ],
  ];

  const results: CheckResult[] = [];
  for (const [service, check, fn] of checks) {
    try {
      const note = await fn();
      results.push({ service, check, ok: true, detail: note ?? '' });
    } catch (err) {
      const e2 = err as Error;
      const detail = err instanceof ProbeFailure ? e2.message : `${e2.name}: ${e2.message}`;
      results.push({ service, check, ok: false, detail: detail.replace(/\s+/g, ' ').slice(0, 200) });
    }
  }

  rates.push(
    `S3 PutObject (1 KiB): ${await rate(100, (i) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: `rate/${i}`, Body: Buffer.alloc(1024) })),
    ).catch((err: Error) => `failed: ${err.message}`)}`,
  );

  const passed = results.filter((r) => r.ok).length;
  process.stdout.write(`\n${args.name ?? e.awsEndpoint}: ${passed}/${results.length} checks passed\n\n`);
  process.stdout.write('| service | check | result |\n| --- | --- | --- |\n');
  for (const r of results) {
    const cell = r.ok
      ? `ok${r.detail ? ` (${r.detail})` : ''}`
      : `**FAIL**: ${r.detail.replaceAll('|', '\\|')}`;
    process.stdout.write(`| ${r.service} | ${r.check} | ${cell} |\n`);
  }
  process.stdout.write(`\nSequential rates over loopback: ${rates.join('; ')}\n`);
  for (const c of [s3, ddb, sqs, cw, logs, glue, lambda, cfn]) c.destroy();
}

await main();
