/**
 * A stage handler as it is deployed: bundled by CDK with the project's bundling options
 * (`lib/constructs/bundling.ts`), copied alone into a folder like Lambda's `/var/task` (the AWS SDK
 * is the runtime's), then invoked in a fresh Node process against the local stack. This is what
 * catches files a bundle needs but esbuild does not copy (wasm, domain YAML).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { beforeAll, describe, expect, it } from 'vitest';
import { lambdaBundling } from '../../lib/constructs/bundling.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import { bundleAlone, runWithBundle } from '../support/lambda-bundle.ts';
import {
  createResources,
  drainQueue,
  kafkaEvent,
  listKeys,
  type Resources,
  rawRecords,
} from './handlers.support.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** A stage handler bundled the way the stacks bundle it, alone in a folder. */
function bundle(handler: string): string {
  return bundleAlone(
    join(ROOT, 'functions', 'handlers', `${handler}.ts`),
    lambdaBundling({ consumer: true }),
  );
}

/** Invokes the bundled handler with `event` in a new Node process; its JSON answer. */
function invoke(task: string, event: unknown, env: Record<string, string>): unknown {
  const eventFile = `${task}-event.json`;
  writeFileSync(eventFile, JSON.stringify(event));
  const run = runWithBundle(
    task,
    [
      "import { readFileSync } from 'node:fs';",
      `const event = JSON.parse(readFileSync(${JSON.stringify(eventFile)}, 'utf8'));`,
      "const context = { functionName: 'bundled', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60000 };",
      // Like Lambda: the answer is the resolved promise; open connections (Kafka) do not hold it.
      'process.stdout.write(JSON.stringify(await handler(event, context)), () => process.exit(0));',
    ],
    env,
  );
  if (run.status !== 0) throw new Error(`the bundled handler failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? 'null');
}

let res: Resources;

beforeAll(async () => {
  res = await createResources();
});

/** The environment the processing stack gives a function, pointed at the local stack. */
function functionEnv(): Record<string, string> {
  const e = endpoints();
  return {
    AWS_ENDPOINT_URL: e.awsEndpoint,
    AWS_REGION: e.region,
    AWS_ACCESS_KEY_ID: e.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: e.credentials.secretAccessKey,
    TIDEWATER_ENV: 'local',
    TIDEWATER_BRONZE_BUCKET: res.buckets.bronze,
    TIDEWATER_SILVER_BUCKET: res.buckets.silver,
    TIDEWATER_GOLD_BUCKET: res.buckets.gold,
    TIDEWATER_OPS_BUCKET: res.buckets.gold,
    TIDEWATER_STATE_TABLE: res.table,
    TIDEWATER_DLQ_URL: res.queueUrl,
    TIDEWATER_KAFKA_BOOTSTRAP_SERVERS: e.kafkaBrokers.join(','),
    TIDEWATER_KAFKA_AUTH: 'none',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
}

describe('a bundled stage handler on the local stack', () => {
  it('ingest: loads its domain and parquet-wasm from the bundle and writes bronze', async () => {
    // Prepare
    const task = bundle('ingest');
    const env = functionEnv();
    const records = rawRecords('bundled.raw', 40, 1, { seed: 5, poisonRate: 0.1 }).records;
    // Act
    const response = invoke(task, kafkaEvent(records), env);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const keys = await listKeys(res.clients.s3, res.buckets.bronze, 'bronze/raw_events/');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/bundled\.raw-0-0-39\.parquet$/);
  });

  it('enrich: validates with its domain, writes silver, dead-letters poison and publishes through the bundled Kafka client', async () => {
    // Prepare
    const task = bundle('enrich');
    const id = randomUUID().slice(0, 8);
    const topics = { raw: `bundled-${id}.raw`, enriched: `bundled-${id}.enriched` };
    const admin = new Admin({ clientId: `bundled-${id}`, bootstrapBrokers: endpoints().kafkaBrokers });
    await ensureTopic(admin, topics.enriched, 1);
    await admin.close();
    const env = {
      ...functionEnv(),
      TIDEWATER_TOPIC_RAW_EVENTS: topics.raw,
      TIDEWATER_TOPIC_ENRICHED_EVENTS: topics.enriched,
    };
    const records = rawRecords(topics.raw, 60, 1, { seed: 6, poisonRate: 0.1 }).records;
    // Act
    const response = invoke(task, kafkaEvent(records), env);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const silver = await listKeys(res.clients.s3, res.buckets.silver, 'silver/events/');
    expect(silver.some((k) => k.includes(`${topics.raw}-0-0-59`))).toBe(true);
    const letters = await drainQueue(res.clients.sqs, res.queueUrl);
    expect(letters.length).toBeGreaterThan(0);
    expect(letters.every((l) => l.topic === topics.raw && typeof l.reason.code === 'string')).toBe(true);
  });
});
