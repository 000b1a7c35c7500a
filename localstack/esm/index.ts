/**
 * Local emulation of Lambda's Kafka event source mapping (provisioned mode), for the `local` stage.
 *
 * ```ts
 * const running = await startEventSourceMappings({ only: ['ingest'] });
 * // produce…
 * await running.waitUntilIdle({ timeoutMs: 60_000 });
 * console.log(running.stats());
 * await running.stop();
 * ```
 *
 * Each mapping of the synthesized `local` template (`cdk.out`) gets a consumer group on the broker
 * (its `ConsumerGroupId`), and its function's bundled handler runs in a worker thread of this
 * process with the function's environment resolved against the stacks deployed on the emulator
 * (see `deployLocal()`), unless a handler override is given.
 */
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { FUNCTION_ENV } from '../../lib/observability/metric-contract.ts';
import { awsClientConfig, type Endpoints, endpoints, externalServices } from '../endpoints.ts';
import { type DeployedState, deployLocal, describeDeployed, REPO_ROOT, resolveValue } from './deploy.ts';
import { INVOCATIONS_PER_POLLER } from './event.ts';
import { type FunctionIdentity, type Invoker, inProcessInvoker, workerInvoker } from './invoker.ts';
import { MappingRunner, type RunnerSettings } from './runner.ts';
import { type MappingDefinition, readMappings } from './template.ts';
import type { MappingStats, RunningMappings, StartEventSourceMappingsOptions } from './types.ts';

export { deployLocal } from './deploy.ts';
export { readMappings } from './template.ts';
export type {
  KafkaBatchItemFailures,
  LocalKafkaHandler,
  LocalLambdaContext,
  MappingSettingsOverride,
  MappingStats,
  RunningMappings,
  StartEventSourceMappingsOptions,
} from './types.ts';

const ACCOUNT = '000000000000';

/** Loopback addresses only (the `local` environment's `127.0.0.1:9092`): the broker of this machine's local stack. */
function isLoopback(servers: readonly string[]): boolean {
  return servers.every((s) => /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(s));
}

/**
 * The brokers a mapping polls: the caller's, else the local stack's (`endpoints()`: `KAFKA_BROKERS`,
 * or `127.0.0.1:${TIDEWATER_KAFKA_PORT}`) when the template names loopback servers or none (the
 * `local` environment says `127.0.0.1:9092`, the default port, whatever port this machine's stack
 * runs on), else the template's.
 */
function brokersFor(def: MappingDefinition, e: Endpoints, explicit: readonly string[] | undefined): string[] {
  if (explicit) return [...explicit];
  if (externalServices().kafka || isLoopback(def.bootstrapServers)) return [...e.kafkaBrokers];
  return [...def.bootstrapServers];
}

/** The function's Kafka producer goes where the mapping polls when the template named the loopback default. */
function withLocalBrokers(env: Record<string, string>, brokers: readonly string[]): Record<string, string> {
  const name = FUNCTION_ENV.kafkaBootstrapServers;
  const servers = env[name];
  if (servers === undefined || !isLoopback(servers.split(',').filter((x) => x !== ''))) return env;
  return { ...env, [name]: brokers.join(',') };
}

function resolveDefinition(
  def: MappingDefinition,
  state: DeployedState | undefined,
  envOverrides: Readonly<Record<string, string>>,
): {
  env: Record<string, string>;
  functionName: string;
  onFailure: string | null;
  eventSourceArn: string | undefined;
} {
  const env: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [name, value] of Object.entries(def.environment)) {
    if (name in envOverrides) continue;
    if (typeof value === 'string') env[name] = value;
    else if (state) env[name] = resolveValue(value, def.stackName, state);
    else unresolved.push(name);
  }
  Object.assign(env, envOverrides);
  if (unresolved.length > 0 && state === undefined) {
    // Without the deployed state, values that are CloudFormation references are left out.
    env['TIDEWATER_ESM_UNRESOLVED_ENV'] = unresolved.join(',');
  }
  const functionName = state
    ? resolveValue({ Ref: def.functionLogicalId }, def.stackName, state)
    : `${def.stackName}-${def.functionLogicalId}`;
  let onFailure: string | null = null;
  if (def.onFailureDestination !== undefined) {
    onFailure =
      typeof def.onFailureDestination === 'string'
        ? def.onFailureDestination
        : state
          ? resolveValue(def.onFailureDestination, def.stackName, state)
          : null;
  }
  // An Amazon MSK mapping's cluster ARN (self-managed Kafka has none); a reference needs the stacks.
  const arn = def.eventSourceArn;
  const eventSourceArn =
    arn === undefined
      ? undefined
      : typeof arn === 'string'
        ? arn
        : state
          ? resolveValue(arn, def.stackName, state)
          : undefined;
  return { env, functionName, onFailure, eventSourceArn };
}

/**
 * What the Lambda runtime adds to a function's environment, pointed at the emulator: region,
 * credentials and `AWS_ENDPOINT_URL` (so SDK clients reach the emulator, never AWS).
 */
function lambdaRuntimeEnv(e: Endpoints, identity: FunctionIdentity): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: e.awsEndpoint,
    AWS_REGION: e.region,
    AWS_DEFAULT_REGION: e.region,
    AWS_ACCESS_KEY_ID: e.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: e.credentials.secretAccessKey,
    ...(e.credentials.sessionToken ? { AWS_SESSION_TOKEN: e.credentials.sessionToken } : {}),
    AWS_LAMBDA_FUNCTION_NAME: identity.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(identity.memorySizeMiB),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${identity.functionName}`,
  };
}

/**
 * The environment each function gets (the runtime's variables pointed at the emulator, then the
 * template's), resolved against the stacks deployed on the emulator
 * (deploying first when they are missing or stale), keyed by function id. For callers that run a
 * handler in-process (`handlerOverrides`) and need its environment before importing it.
 */
export async function resolveFunctionEnvironments(
  options: Pick<
    StartEventSourceMappingsOptions,
    'cdkOut' | 'stage' | 'awsEndpoint' | 'envOverrides' | 'only'
  > = {},
): Promise<Record<string, Record<string, string>>> {
  const stage = options.stage ?? 'local';
  const cdkOut = options.cdkOut ?? join(REPO_ROOT, 'cdk.out');
  const e = endpoints(
    options.awsEndpoint ? { ...process.env, AWS_ENDPOINT_URL: options.awsEndpoint } : process.env,
  );
  await deployLocal({ cdkOut, stage, endpoints: e });
  const only = options.only ? new Set(options.only) : undefined;
  const defs = readMappings(cdkOut, stage).filter((d) => !only || only.has(d.functionId));
  const state = await describeDeployed(
    defs.map((d) => d.stackName),
    e,
  );
  const out: Record<string, Record<string, string>> = {};
  for (const def of defs) {
    const overrides = { ...options.envOverrides?.['*'], ...options.envOverrides?.[def.functionId] };
    const r = resolveDefinition(def, state, overrides);
    const identity: FunctionIdentity = {
      functionName: r.functionName,
      functionArn: `arn:aws:lambda:${e.region}:${ACCOUNT}:function:${r.functionName}`,
      memorySizeMiB: def.memorySizeMiB,
      timeoutSeconds: def.timeoutSeconds,
    };
    out[def.functionId] = withLocalBrokers(
      { ...lambdaRuntimeEnv(e, identity), ...r.env },
      brokersFor(def, e, undefined),
    );
  }
  return out;
}

/** Reads the mappings from the synthesized `local` template and starts polling the broker. */
export async function startEventSourceMappings(
  options: StartEventSourceMappingsOptions = {},
): Promise<RunningMappings> {
  const stage = options.stage ?? 'local';
  const cdkOut = options.cdkOut ?? join(REPO_ROOT, 'cdk.out');
  const e = endpoints(
    options.awsEndpoint ? { ...process.env, AWS_ENDPOINT_URL: options.awsEndpoint } : process.env,
  );
  const log = (line: string) => process.stderr.write(`[esm] ${line}\n`);
  const resolveEnv = options.resolveEnv ?? true;
  if (resolveEnv) await deployLocal({ cdkOut, stage, endpoints: e });
  const only = options.only ? new Set(options.only) : undefined;
  const defs = readMappings(cdkOut, stage).filter((d) => !only || only.has(d.functionId));
  if (only) {
    const missing = [...only].filter((id) => !defs.some((d) => d.functionId === id));
    if (missing.length > 0) {
      throw new Error(
        `startEventSourceMappings: no Kafka mapping for ${missing.join(', ')} in the ${stage} template`,
      );
    }
  }
  const state = resolveEnv
    ? await describeDeployed(
        defs.map((d) => d.stackName),
        e,
      )
    : undefined;
  const sqs = new SQSClient(awsClientConfig(e));
  const runners: MappingRunner[] = [];
  try {
    for (const def of defs) {
      const o = options.mappingOverrides?.[def.functionId] ?? {};
      const envOverrides = { ...options.envOverrides?.['*'], ...options.envOverrides?.[def.functionId] };
      const r = resolveDefinition(def, state, envOverrides);
      const identity: FunctionIdentity = {
        functionName: r.functionName,
        functionArn: `arn:aws:lambda:${e.region}:${ACCOUNT}:function:${r.functionName}`,
        memorySizeMiB: def.memorySizeMiB,
        timeoutSeconds: o.timeoutSeconds ?? def.timeoutSeconds,
      };
      const brokers = brokersFor(def, e, options.kafkaBrokers);
      const override = options.handlerOverrides?.[def.functionId];
      const invoker: Invoker = override
        ? inProcessInvoker(identity, override)
        : workerInvoker(
            identity,
            def.handlerFile,
            def.handlerExport,
            withLocalBrokers({ ...lambdaRuntimeEnv(e, identity), ...r.env }, brokers),
          );
      const settings: RunnerSettings = {
        functionId: def.functionId,
        functionArn: identity.functionArn,
        topics: o.topics ?? def.topics,
        brokers,
        consumerGroupId: o.consumerGroupId ?? def.consumerGroupId,
        batchSize: o.batchSize ?? def.batchSize,
        batchingWindowMs: (o.maximumBatchingWindowInSeconds ?? def.maximumBatchingWindowInSeconds) * 1000,
        startingPosition: o.startingPosition ?? def.startingPosition,
        maximumRetryAttempts: o.maximumRetryAttempts ?? def.maximumRetryAttempts,
        maximumRecordAgeInSeconds: o.maximumRecordAgeInSeconds ?? def.maximumRecordAgeInSeconds,
        bisectBatchOnFunctionError: o.bisectBatchOnFunctionError ?? def.bisectBatchOnFunctionError,
        reportBatchItemFailures: o.reportBatchItemFailures ?? def.reportBatchItemFailures,
        onFailureDestination: o.onFailureDestination === undefined ? r.onFailure : o.onFailureDestination,
        pollers: o.pollers ?? def.maximumPollers,
        invocationsPerPoller: o.invocationsPerPoller ?? INVOCATIONS_PER_POLLER,
        eventSourceArn: r.eventSourceArn,
      };
      const runner = new MappingRunner(settings, invoker, sqs, options.verbose ? log : () => undefined);
      runners.push(runner);
      await runner.start();
    }
  } catch (error) {
    await Promise.allSettled(runners.map((r) => r.stop()));
    sqs.destroy();
    throw error;
  }

  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(runners.map((r) => r.stop()));
      sqs.destroy();
    },
    async waitUntilIdle(opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 60_000;
      const deadline = Date.now() + timeoutMs;
      let streak = 0;
      for (;;) {
        const caughtUp = await Promise.all(runners.map((r) => r.isCaughtUp()));
        // Two consecutive checks, so a record fetched between the watermark read and the check counts.
        streak = caughtUp.every(Boolean) ? streak + 1 : 0;
        if (streak >= 2) return;
        if (Date.now() > deadline) {
          throw new Error(
            `waitUntilIdle: not idle after ${timeoutMs} ms: ${JSON.stringify(runners.map((r) => r.stats()))}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stats(): MappingStats[] {
      return runners.map((r) => r.stats());
    },
  };
}
