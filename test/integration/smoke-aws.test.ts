import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
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
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig, s3ClientConfig } from '../../localstack/endpoints.ts';

const id = randomUUID().slice(0, 8);

describe('S3 over the wire', () => {
  const s3 = new S3Client(s3ClientConfig());
  const bucket = `smoke-${id}`;

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(() => s3.destroy());

  it('returns the bytes that were put', async () => {
    // Prepare
    const body = JSON.stringify({ event_id: 'e1', payload: 'x'.repeat(10_000) });

    // Act
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bronze/dt=2026-01-01/a.json', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bronze/dt=2026-01-01/a.json' }));

    // Assess
    expect(await got.Body?.transformToString()).toBe(body);
  });

  it('lists every key under a prefix across pages', async () => {
    // Prepare
    const keys = Array.from(
      { length: 7 },
      (_, i) => `silver/events/hr=${String(i).padStart(2, '0')}/part.parquet`,
    );
    for (const key of keys)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(key) }));

    // Act
    const listed: string[] = [];
    let pages = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'silver/', MaxKeys: 3, ContinuationToken: token }),
      );
      listed.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages++;
    } while (token !== undefined && pages < 10);

    // Assess
    expect(pages).toBe(3);
    expect(listed.sort()).toEqual(keys.sort());
  });

  it('assembles a multipart upload from its parts in order', async () => {
    // Prepare
    const key = 'gold/large.bin';
    const parts = [
      Buffer.alloc(5 * 1024 * 1024, 0x61),
      Buffer.alloc(5 * 1024 * 1024, 0x62),
      Buffer.from('end'),
    ];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));

    // Act
    const uploaded = [];
    for (const [i, part] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: part }),
      );
      uploaded.push({ ETag: r.ETag, PartNumber: i + 1 });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);

    // Assess
    expect(bytes.length).toBe(10 * 1024 * 1024 + 3);
    expect([bytes[0], bytes[5 * 1024 * 1024], bytes.subarray(-3).toString()]).toEqual([0x61, 0x62, 'end']);
  });
});

describe('DynamoDB over the wire', () => {
  const ddb = new DynamoDBClient(awsClientConfig());
  const table = `smoke-${id}`;
  const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'offset' } });

  beforeAll(async () => {
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
  });
  afterAll(() => ddb.destroy());

  it('writes an item whose condition holds', async () => {
    // Act
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key('consumer#topic#0'), last: { N: '10' } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    const got = await ddb.send(new GetItemCommand({ TableName: table, Key: key('consumer#topic#0') }));

    // Assess
    expect(got.Item?.['last']?.N).toBe('10');
  });

  it('rejects a write whose condition fails and keeps the old item', async () => {
    // Prepare
    await ddb.send(
      new PutItemCommand({ TableName: table, Item: { ...key('consumer#topic#1'), last: { N: '20' } } }),
    );

    // Act
    const attempt = ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key('consumer#topic#1'), last: { N: '15' } },
        ConditionExpression: '#last < :offset',
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: { ':offset': { N: '15' } },
      }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const got = await ddb.send(new GetItemCommand({ TableName: table, Key: key('consumer#topic#1') }));
    expect(got.Item?.['last']?.N).toBe('20');
  });

  it('applies all writes of a transaction whose conditions hold', async () => {
    // Prepare
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key('fence#2'), last: { N: '5' } } }));

    // Act
    await ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: table,
              Key: key('fence#2'),
              UpdateExpression: 'SET #last = :new',
              ConditionExpression: '#last = :old',
              ExpressionAttributeNames: { '#last': 'last' },
              ExpressionAttributeValues: { ':new': { N: '9' }, ':old': { N: '5' } },
            },
          },
          { Put: { TableName: table, Item: { ...key('state#2'), count: { N: '4' } } } },
        ],
      }),
    );
    const fence = await ddb.send(new GetItemCommand({ TableName: table, Key: key('fence#2') }));
    const state = await ddb.send(new GetItemCommand({ TableName: table, Key: key('state#2') }));

    // Assess
    expect([fence.Item?.['last']?.N, state.Item?.['count']?.N]).toEqual(['9', '4']);
  });

  it('cancels the whole transaction when one condition fails, naming the failed item', async () => {
    // Prepare
    await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key('fence#3'), last: { N: '7' } } }));

    // Act
    const attempt = ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: table, Item: { ...key('state#3'), count: { N: '1' } } } },
          {
            ConditionCheck: {
              TableName: table,
              Key: key('fence#3'),
              ConditionExpression: '#last < :offset',
              ExpressionAttributeNames: { '#last': 'last' },
              ExpressionAttributeValues: { ':offset': { N: '7' } },
            },
          },
        ],
      }),
    );

    // Assess
    const err = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect((err as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    const state = await ddb.send(new GetItemCommand({ TableName: table, Key: key('state#3') }));
    expect(state.Item).toBeUndefined();
  });
});

describe('SQS over the wire', () => {
  const sqs = new SQSClient(awsClientConfig());
  let queueUrl = '';

  beforeAll(async () => {
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `smoke-${id}` }))).QueueUrl ?? '';
  });
  afterAll(() => sqs.destroy());

  it('receives a sent message with its attributes, and deleting it empties the queue', async () => {
    // Prepare
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ reason: 'invalid JSON', partition: 3, offset: '42' }),
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'poison' } },
      }),
    );

    // Act
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2, MessageAttributeNames: ['All'] }),
    );
    const message = received.Messages?.[0];
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }));
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );

    // Assess
    expect(JSON.parse(message?.Body ?? '{}')).toEqual({ reason: 'invalid JSON', partition: 3, offset: '42' });
    expect(message?.MessageAttributes?.['reason']?.StringValue).toBe('poison');
    expect(attributes.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });
});
