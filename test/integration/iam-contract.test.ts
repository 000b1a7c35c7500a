/**
 * The IAM contract (issue 15): the emulator enforces no IAM and the local broker no Kafka
 * authorization, so a missing grant passes every other test and fails on AWS. Here the four Lambda
 * handlers run as Lambda runs them (middy, the runtime's own SDK clients, Kafka producer and admin
 * client), fed by the local event source mapping from the real broker; every AWS SDK call and every
 * Kafka request they (and the mapping's consumer, which on MSK uses the function's role) make is
 * recorded, mapped to the IAM permissions it needs, and checked against each function's execution
 * role in the synthesized dev and prod templates. The recorded calls and their mapping are written
 * to `.tidewater/iam-contract/` (JSON and a readable list).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceEvents } from '../../cli/commands/produce.ts';
import { GeneratorSource } from '../../functions/adapters/embedded/index.ts';
import { loadDomain } from '../../functions/core/index.ts';
import { closeRuntimes, runtimeFor } from '../../functions/handlers/lib/runtime.ts';
import { buildApp } from '../../lib/app.ts';
import { FUNCTION_ENV } from '../../lib/observability/metric-contract.ts';
import { REPO_ROOT } from '../../lib/stacks/processing-stack.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureLocalAssembly } from '../../localstack/esm/deploy.ts';
import { type LocalKafkaHandler, startEventSourceMappings } from '../../localstack/esm/index.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import { AGNOSTIC, type CfnTemplate, StageModel } from '../support/iam/cfn.ts';
import { type ContractResult, checkFunction, consumerFunction } from '../support/iam/contract.ts';
import { type Attribution, CallLog, KafkaRecorder, recordSdkClients } from '../support/iam/recorder.ts';
import { createResources } from './handlers.support.ts';

const CONSUMERS = ['ingest', 'enrich', 'windows', 'cep'] as const;
const HARNESS_CLIENTS = new Set(['iam-contract-harness', 'tidewater-produce', 'tidewater-cli-admin']);
const MSK_EXECUTION_ROLE = `arn:${AGNOSTIC.partition}:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole`;

/** The functions' own clients are `tidewater-<consumer>`, the local mapping's `tidewater-esm-<consumer>`. */
const attribute: Attribution = (clientId) => {
  if (HARNESS_CLIENTS.has(clientId)) return null;
  const m = /^tidewater-(esm-)?(ingest|enrich|windows|cep)$/.exec(clientId);
  if (!m) return undefined;
  return { consumer: m[2] as string, by: m[1] ? 'event-source-mapping' : 'function' };
};

const log = new CallLog();
const kafka = new KafkaRecorder(log, attribute);
const localEnv: Record<string, string> = {};
const groups: Record<string, string> = {};
let recordedMs = 0;

function stageModel(envName: string): StageModel {
  const { stage } = buildApp({ envName, bundle: false, nag: false });
  const templates: Record<string, CfnTemplate> = {};
  for (const s of stage.synth().stacks) templates[s.stackName] = s.template as CfnTemplate;
  return new StageModel(templates);
}

beforeAll(async () => {
  const t0 = Date.now();
  const id = `iam-${randomUUID().slice(0, 8)}`;
  const e = endpoints();
  const res = await createResources();
  const topics = { raw: `${id}.raw`, enriched: `${id}.enriched`, alerts: `${id}.alerts` };
  const admin = new Admin({ clientId: 'iam-contract-harness', bootstrapBrokers: e.kafkaBrokers });
  try {
    await ensureTopic(admin, topics.raw, 3);
    await ensureTopic(admin, topics.enriched, 3);
    await ensureTopic(admin, topics.alerts, 1);
  } finally {
    await admin.close();
  }
  // What the processing stack sets, with this run's resources (see FUNCTION_ENV).
  Object.assign(localEnv, {
    [FUNCTION_ENV.env]: 'local',
    [FUNCTION_ENV.domain]: 'payments',
    [FUNCTION_ENV.bronzeBucket]: res.buckets.bronze,
    [FUNCTION_ENV.silverBucket]: res.buckets.silver,
    [FUNCTION_ENV.goldBucket]: res.buckets.gold,
    [FUNCTION_ENV.opsBucket]: res.buckets.gold,
    [FUNCTION_ENV.stateTable]: res.table,
    [FUNCTION_ENV.deadLetterQueueUrl]: res.queueUrl,
    [FUNCTION_ENV.rawEventsTopic]: topics.raw,
    [FUNCTION_ENV.enrichedEventsTopic]: topics.enriched,
    [FUNCTION_ENV.alertsTopic]: topics.alerts,
    [FUNCTION_ENV.kafkaBootstrapServers]: e.kafkaBrokers.join(','),
    [FUNCTION_ENV.kafkaAuth]: 'none',
  });
  Object.assign(process.env, localEnv, {
    AWS_ENDPOINT_URL: e.awsEndpoint,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });

  // Record: the runtime's clients of each consumer, and every Kafka client.
  kafka.start();
  await closeRuntimes();
  for (const c of CONSUMERS) recordSdkClients(runtimeFor(c).clients, c, log);
  const handlers: Record<string, LocalKafkaHandler> = {};
  for (const c of CONSUMERS) {
    const { handler } = (await import(`../../functions/handlers/${c}.ts`)) as { handler: LocalKafkaHandler };
    handlers[c] = handler;
    groups[c] = `${id}-${c}`;
  }
  await ensureLocalAssembly();
  const mappings = await startEventSourceMappings({
    resolveEnv: false,
    kafkaBrokers: e.kafkaBrokers,
    handlerOverrides: handlers,
    mappingOverrides: Object.fromEntries(
      CONSUMERS.map((c) => [
        c,
        {
          topics: [c === 'ingest' || c === 'enrich' ? topics.raw : topics.enriched],
          consumerGroupId: groups[c] as string,
          onFailureDestination: null,
          batchSize: 500,
        },
      ]),
    ),
  });
  try {
    const domain = loadDomain('payments');
    const options = { seed: 15, anomalies: true, poisonRate: 0.01, duplicateRate: 0.01, topic: topics.raw };
    await produceEvents({
      source: new GeneratorSource(domain, 3_000, options),
      domain,
      topic: topics.raw,
      brokers: e.kafkaBrokers,
    });
    await mappings.waitUntilIdle({ timeoutMs: 60_000 });
  } finally {
    await mappings.stop();
    await closeRuntimes();
    kafka.stop();
  }
  recordedMs = Date.now() - t0;
});

const results: Record<string, ContractResult[]> = {};

afterAll(() => {
  const dir = join(REPO_ROOT, '.tidewater', 'iam-contract');
  mkdirSync(dir, { recursive: true });
  const recorded = Object.fromEntries(CONSUMERS.map((c) => [c, log.of(c)]));
  writeFileSync(join(dir, 'contract.json'), JSON.stringify({ recordedMs, recorded, results }, null, 2));
  const lines: string[] = [];
  for (const [env, list] of Object.entries(results)) {
    for (const r of list) {
      lines.push(`## ${env} ${r.consumer} (${r.role})`);
      for (const row of r.rows) {
        lines.push(`- ${row.call} [${row.by}${row.count ? `, ${row.count}×` : ''}]`);
        for (const p of row.permissions) lines.push(`  - ${p.pattern} → ${p.decision} (${p.by.join(', ')})`);
      }
      if (r.unresolvedManagedPolicies.length > 0)
        lines.push(`- managed policies not evaluated: ${r.unresolvedManagedPolicies.join(', ')}`);
      lines.push(
        `- granted, never needed by a recorded call: ${r.unusedGrants.map((g) => `${g.action} ${g.resource}`).join('; ')}`,
      );
      lines.push('');
    }
  }
  writeFileSync(join(dir, 'contract.md'), `${lines.join('\n')}\n`);
});

describe('the recording of the handlers on the local stack', () => {
  it('attributes every Kafka client to a function or to the test harness', () => {
    // Assess
    expect([...kafka.unattributed]).toEqual([]);
  });

  it('sees the calls each function is known to make', () => {
    // Assess
    const calls = (c: string) =>
      log.of(c).map((x) => `${x.by} ${x.service}:${x.operation}${x.topic ? ` ${x.topic}` : ''}`);
    expect(calls('ingest')).toContain('function s3:PutObject');
    expect(calls('enrich')).toContain('function sqs:SendMessageBatch');
    expect(calls('enrich')).toContain('function kafka:InitProducerId');
    expect(calls('enrich')).toContain(`function kafka:Produce ${localEnv[FUNCTION_ENV.enrichedEventsTopic]}`);
    expect(calls('cep')).toContain('function kafka:InitProducerId');
    expect(calls('cep')).toContain(`function kafka:Produce ${localEnv[FUNCTION_ENV.alertsTopic]}`);
    expect(calls('windows')).toContain(`function kafka:Metadata ${localEnv[FUNCTION_ENV.rawEventsTopic]}`);
    for (const c of CONSUMERS) {
      expect(calls(c)).toContain('function dynamodb:UpdateItem');
      expect(calls(c)).toContain(
        `event-source-mapping kafka:OffsetCommit ${localEnv[FUNCTION_ENV[c === 'ingest' || c === 'enrich' ? 'rawEventsTopic' : 'enrichedEventsTopic']]}`,
      );
    }
  });
});

describe.each(['dev', 'prod'])('the execution roles in %s', (envName) => {
  let model: StageModel;
  beforeAll(() => {
    model = stageModel(envName);
    results[envName] = [];
  });

  it.each(CONSUMERS)('allow every call %s made, unconditionally', (consumer) => {
    // Act
    const fn = consumerFunction(model, consumer);
    const result = checkFunction(model, fn, log.of(consumer), {
      environment: localEnv,
      consumerGroupId: groups[consumer] as string,
    });
    results[envName]?.push(result);
    // Assess
    expect(result.failures).toEqual([]);
    expect(result.rows.flatMap((r) => r.permissions.flatMap((p) => p.conditions))).toEqual([]);
    // AWSLambdaMSKExecutionRole is AWS's, its document is not in the template: nothing relies on it.
    expect(result.unresolvedManagedPolicies).toEqual([MSK_EXECUTION_ROLE]);
  });
});
