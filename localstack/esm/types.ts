/**
 * Public types of the local Kafka event source mapping (see `index.ts`).
 */
import type { LambdaKafkaEvent } from '../../functions/core/kafka.ts';

/** The subset of the Lambda context a handler can rely on locally. */
export interface LocalLambdaContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  /** Milliseconds left before the function's `Timeout` (from the template) elapses. */
  getRemainingTimeInMillis(): number;
  done(error?: Error, result?: unknown): void;
  fail(error: Error | string): void;
  succeed(messageOrObject: unknown): void;
}

/** A Lambda handler as the mapping invokes it. The result may be a Kafka partial batch response. */
export type LocalKafkaHandler = (
  event: LambdaKafkaEvent,
  context: LocalLambdaContext,
) => Promise<unknown> | unknown;

/**
 * A Kafka partial batch response (`FunctionResponseTypes: [ReportBatchItemFailures]`): the one
 * definition the handlers answer with (`functions/core/batch-response.ts`).
 */
export type { KafkaBatchResponse as KafkaBatchItemFailures } from '../../functions/core/batch-response.ts';

export interface StartEventSourceMappingsOptions {
  /** Cloud assembly folder. @default `<repo>/cdk.out` (synthesized with `cdk synth -c env=local` when missing) */
  readonly cdkOut?: string;
  /** Stage to read. @default 'local' */
  readonly stage?: 'local';
  /**
   * Brokers to poll. @default the local stack's (`endpoints().kafkaBrokers`, which honours
   * `KAFKA_BROKERS` and `TIDEWATER_KAFKA_PORT`) when the template's servers are loopback addresses
   * (the `local` environment's) or absent, else the template's. A bundled function whose
   * `TIDEWATER_KAFKA_BOOTSTRAP_SERVERS` is loopback gets the same brokers.
   */
  readonly kafkaBrokers?: string[];
  /** AWS emulator endpoint, for resolving physical names and the on-failure SQS destination. @default `endpoints().awsEndpoint` */
  readonly awsEndpoint?: string;
  /**
   * Environment variables set (over the template's, resolved against the deployed stacks) while a
   * function runs. Keyed by function id (`ingest`, `enrich`, `windows`, `cep`) or `'*'` for all.
   */
  readonly envOverrides?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Handlers to invoke instead of the bundled asset, keyed by function id. */
  readonly handlerOverrides?: Readonly<Record<string, LocalKafkaHandler>>;
  /** Run only these function ids. @default every function with a Kafka mapping */
  readonly only?: readonly string[];
  /**
   * Per-mapping settings to override the template's (tests use small windows, other topics).
   * Keyed by function id.
   */
  readonly mappingOverrides?: Readonly<Record<string, Partial<MappingSettingsOverride>>>;
  /**
   * Resolve `Ref`/`GetAtt` env values against the stacks deployed on the emulator (running
   * `deployLocal()` first when they are missing or stale). Set false to skip (then unresolved
   * values are left out, and `envOverrides` must supply them). @default true
   */
  readonly resolveEnv?: boolean;
  /** Log a line per invocation to stderr. @default false */
  readonly verbose?: boolean;
}

/** Mapping settings a caller may override (same names as the CloudFormation properties). */
export interface MappingSettingsOverride {
  topics: string[];
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  maximumRetryAttempts: number;
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
  consumerGroupId: string;
  /** SQS queue URL or ARN, or null for none. */
  onFailureDestination: string | null;
  /**
   * Event pollers. @default the template's `ProvisionedPollerConfig.MaximumPollers` (no scaling
   * here). Partitions are assigned to pollers round-robin.
   */
  pollers: number;
  /**
   * Concurrent invocations one poller runs, each over partitions of its own; one partition is
   * never in two concurrent invocations. @default 5 ("Each event poller supports up to 5
   * concurrent Lambda invocations", https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-low-latency.html);
   * 1 gives the emulator's former one-batch-at-a-time poller.
   */
  invocationsPerPoller: number;
  /** Function timeout, seconds. */
  timeoutSeconds: number;
}

export interface MappingStats {
  /** Function id (`ingest`, …). */
  readonly functionId: string;
  readonly consumerGroupId: string;
  readonly topics: readonly string[];
  readonly invocations: number;
  /** Records in successful invocations (each record counted once per success). */
  readonly records: number;
  /** Invocations that threw (or timed out) or reported item failures. */
  readonly failures: number;
  /** Invocations that were retries of a failed batch (including bisected halves and partial-failure retries). */
  readonly retries: number;
  /** Records sent to the on-failure destination (retries exhausted or too old). */
  readonly sentToOnFailure: number;
  /** Records skipped with no on-failure destination (retries exhausted or too old). */
  readonly discarded: number;
  /** Last committed offset (the next offset to read) per `"<topic>-<partition>"`. */
  readonly committed: Readonly<Record<string, number>>;
}

export interface RunningMappings {
  /** Stops polling, waits for in-flight invocations, closes consumers. Committed offsets are kept. */
  stop(): Promise<void>;
  /** Resolves when every mapping has consumed (and committed) up to the high watermark and nothing is in flight. */
  waitUntilIdle(opts?: { timeoutMs?: number }): Promise<void>;
  stats(): MappingStats[];
}
