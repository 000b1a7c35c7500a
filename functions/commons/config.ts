import { FUNCTION_ENV } from '../../lib/observability/metric-contract.ts';

/**
 * The consumers' configuration, read once from the environment the processing stack sets
 * (`FUNCTION_ENV` in `lib/observability/metric-contract.ts`). A missing variable is a wiring bug:
 * the error names it.
 */
export interface ConsumerConfig {
  readonly env: string;
  readonly domain: string;
  readonly buckets: {
    readonly bronze: string;
    readonly silver: string;
    readonly gold: string;
    readonly ops: string;
  };
  readonly stateTable: string;
  readonly deadLetterQueueUrl: string;
  readonly topics: { readonly raw: string; readonly enriched: string; readonly alerts: string };
  readonly kafka: { readonly bootstrapServers: string[]; readonly auth: 'iam' | 'none' };
  /** Seconds small tables' rows wait in a partition's outbox (0: written with every batch). @default 60 */
  readonly smallTablesWriteSeconds: number;
}

type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function need(env: Env, name: string): string {
  const v = env[name]?.trim();
  if (!v)
    throw new ConfigError(
      `environment variable ${name} is not set (the processing stack sets it; see FUNCTION_ENV)`,
    );
  return v;
}

/** Reads what `consumer` needs; variables it does not need may be absent. */
export function readConfig(env: Env = process.env): ConsumerConfig {
  const opt = (name: string, fallback: string): string => env[name]?.trim() || fallback;
  const gold = opt(FUNCTION_ENV.goldBucket, '');
  const auth = opt(FUNCTION_ENV.kafkaAuth, 'none');
  if (auth !== 'iam' && auth !== 'none')
    throw new ConfigError(`${FUNCTION_ENV.kafkaAuth} must be 'iam' or 'none', got ${JSON.stringify(auth)}`);
  const smallTables = opt(FUNCTION_ENV.smallTablesWriteSeconds, '60');
  const smallTablesWriteSeconds = Number(smallTables);
  if (!/^\d+$/.test(smallTables) || smallTablesWriteSeconds > 3600)
    throw new ConfigError(
      `${FUNCTION_ENV.smallTablesWriteSeconds} must be whole seconds from 0 to 3600, got ${JSON.stringify(smallTables)}`,
    );
  return {
    env: opt(FUNCTION_ENV.env, 'local'),
    domain: opt(FUNCTION_ENV.domain, 'payments'),
    buckets: {
      bronze: opt(FUNCTION_ENV.bronzeBucket, ''),
      silver: opt(FUNCTION_ENV.silverBucket, ''),
      gold,
      ops: opt(FUNCTION_ENV.opsBucket, gold),
    },
    stateTable: opt(FUNCTION_ENV.stateTable, ''),
    deadLetterQueueUrl: opt(FUNCTION_ENV.deadLetterQueueUrl, ''),
    topics: {
      raw: opt(FUNCTION_ENV.rawEventsTopic, 'tidewater.raw-events'),
      enriched: opt(FUNCTION_ENV.enrichedEventsTopic, 'tidewater.enriched-events'),
      alerts: opt(FUNCTION_ENV.alertsTopic, 'tidewater.alerts'),
    },
    kafka: {
      bootstrapServers: opt(FUNCTION_ENV.kafkaBootstrapServers, '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
      auth,
    },
    smallTablesWriteSeconds,
  };
}

/** Throws a ConfigError naming the first missing setting among `names`. */
export function requireSettings(config: ConsumerConfig, names: ReadonlyArray<keyof typeof REQUIRED>): void {
  for (const n of names) {
    const [envName, get] = REQUIRED[n];
    if (get(config) === '') need({}, envName);
  }
}

const REQUIRED = {
  bronzeBucket: [FUNCTION_ENV.bronzeBucket, (c: ConsumerConfig) => c.buckets.bronze],
  silverBucket: [FUNCTION_ENV.silverBucket, (c: ConsumerConfig) => c.buckets.silver],
  goldBucket: [FUNCTION_ENV.goldBucket, (c: ConsumerConfig) => c.buckets.gold],
  stateTable: [FUNCTION_ENV.stateTable, (c: ConsumerConfig) => c.stateTable],
  deadLetterQueueUrl: [FUNCTION_ENV.deadLetterQueueUrl, (c: ConsumerConfig) => c.deadLetterQueueUrl],
  kafka: [FUNCTION_ENV.kafkaBootstrapServers, (c: ConsumerConfig) => c.kafka.bootstrapServers.join(',')],
} as const;
