/**
 * `deployLocal()` against the emulator and the resolution of the functions' environment to what
 * was deployed. The first run on a fresh emulator deploys the `local` stage (about a minute);
 * later runs find the same templates deployed and skip.
 */
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig, endpoints, s3ClientConfig } from '../../localstack/endpoints.ts';
import {
  deployLocal,
  describeDeployed,
  ensureLocalAssembly,
  resolveValue,
} from '../../localstack/esm/deploy.ts';
import { resolveFunctionEnvironments } from '../../localstack/esm/index.ts';
import { readMappings } from '../../localstack/esm/template.ts';

const e = endpoints();
const s3 = new S3Client(s3ClientConfig(e));
const sqs = new SQSClient(awsClientConfig(e));

beforeAll(async () => {
  await ensureLocalAssembly();
  await deployLocal();
});

afterAll(() => {
  s3.destroy();
  sqs.destroy();
});

describe('deploying the local stage to the emulator', () => {
  it('skips the deploy when the deployed templates match the synthesized ones', async () => {
    const again = await deployLocal();

    expect(again.deployed).toBe(false);
  });

  it('resolves every function environment variable and on-failure destination to a deployed resource', async () => {
    const mappings = readMappings('cdk.out', 'local');
    const state = await describeDeployed(mappings.map((m) => m.stackName));

    expect(mappings.map((m) => m.functionId).sort()).toEqual(['cep', 'enrich', 'ingest', 'windows']);
    for (const m of mappings) {
      const env = Object.fromEntries(
        Object.entries(m.environment).map(([k, v]) => [k, resolveValue(v, m.stackName, state)]),
      );
      for (const key of [
        'TIDEWATER_BRONZE_BUCKET',
        'TIDEWATER_SILVER_BUCKET',
        'TIDEWATER_GOLD_BUCKET',
        'TIDEWATER_OPS_BUCKET',
      ]) {
        const bucket = env[key];
        if (bucket !== undefined)
          await expect(s3.send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
      }
      const dlq = env['TIDEWATER_DLQ_URL'] as string;
      await expect(
        sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] })),
      ).resolves.toBeDefined();
      const destination = resolveValue(m.onFailureDestination ?? null, m.stackName, state);
      const queueName = destination.split(':').pop() as string;
      const url = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
      expect(url.QueueUrl).toContain(queueName);
      expect(queueName).toContain(
        `${m.functionId.charAt(0).toUpperCase()}${m.functionId.slice(1)}OnFailureQueue`,
      );
    }
  });

  it('gives each function its resolved environment, overrides applied, for in-process handlers', async () => {
    const envs = await resolveFunctionEnvironments({
      only: ['ingest'],
      envOverrides: { '*': { POWERTOOLS_SERVICE_NAME: 'overridden' } },
    });

    expect(Object.keys(envs)).toEqual(['ingest']);
    expect(envs['ingest']).toMatchObject({
      TIDEWATER_CONSUMER: 'ingest',
      POWERTOOLS_SERVICE_NAME: 'overridden',
    });
    const bucket = envs['ingest']?.['TIDEWATER_BRONZE_BUCKET'] as string;
    await expect(s3.send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
  });
});
