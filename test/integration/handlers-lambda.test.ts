/**
 * The exported Lambda handlers (middy + Powertools) as Lambda calls them: configuration from the
 * environment the processing stack sets, SDK clients on the emulator.
 */
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { closeRuntimes } from '../../functions/handlers/lib/runtime.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { createResources, kafkaEvent, listKeys, type Resources, rawRecords } from './handlers.support.ts';

const context = {
  functionName: 'tidewater-local-ingest',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:tidewater-local-ingest',
  memoryLimitInMB: '1024',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/tidewater-local-ingest',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

let res: Resources;

beforeAll(async () => {
  res = await createResources();
  process.env['AWS_ENDPOINT_URL'] ??= endpoints().awsEndpoint;
  process.env['TIDEWATER_ENV'] = 'local';
  process.env['TIDEWATER_BRONZE_BUCKET'] = res.buckets.bronze;
  process.env['TIDEWATER_OPS_BUCKET'] = res.buckets.gold;
  process.env['TIDEWATER_STATE_TABLE'] = res.table;
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'ERROR';
});

describe('the ingest Lambda handler', () => {
  it('writes the batch to bronze and answers an empty partial batch response', async () => {
    // Prepare
    await closeRuntimes();
    const { handler } = await import('../../functions/handlers/ingest.ts');
    const records = rawRecords('lambda.raw', 50, 1, { seed: 2, poisonRate: 0.1 }).records;
    // Act
    const response = await handler(kafkaEvent(records), context);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const keys = await listKeys(res.clients.s3, res.buckets.bronze);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(
      /^bronze\/raw_events\/dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/lambda\.raw-0-0-49\.parquet$/,
    );
  });

  it('fails the invocation, naming the variable, when its bucket is not configured', async () => {
    // Prepare
    await closeRuntimes();
    const saved = process.env['TIDEWATER_BRONZE_BUCKET'];
    delete process.env['TIDEWATER_BRONZE_BUCKET'];
    const { handler } = await import('../../functions/handlers/ingest.ts');
    // Act
    const call = handler(kafkaEvent(rawRecords('lambda.raw', 1, 1, { seed: 2 }).records), context);
    // Assess
    await expect(call).rejects.toThrow(/TIDEWATER_BRONZE_BUCKET is not set/);
    process.env['TIDEWATER_BRONZE_BUCKET'] = saved;
    await closeRuntimes();
  });
});
