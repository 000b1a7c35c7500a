/**
 * Typed, validated configuration of one deployment environment (`config/environments/<name>.yaml`).
 *
 * Validated once, at the edge (synth time), with zod; everything after this module works with the
 * inferred, readonly `EnvironmentConfig` type. Errors name the offending key path and value.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Where the environment files live, relative to the repository root. */
export const ENVIRONMENTS_DIR = join(import.meta.dirname, '..', '..', 'config', 'environments');

const ENV_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const HOST_PORT = /^[^\s:]+:\d{1,5}$/;

const topicSchema = z.strictObject({
  /** Kafka topic name: a contract with producers, so it is explicit (not CDK-generated). */
  name: z.string().regex(TOPIC_NAME, 'a Kafka topic name: letters, digits, ".", "_", "-"'),
  partitions: z.int().min(1).max(1000),
});

/** Event source mapping and function settings of one consumer; every key optional (falls back to the defaults). */
const consumerSchema = z.strictObject({
  batchSize: z.int().min(1).max(10_000).optional(),
  maxBatchingWindowSeconds: z.int().min(0).max(300).optional(),
  startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']).optional(),
  minimumPollers: z.int().min(1).max(200).optional(),
  maximumPollers: z.int().min(1).max(2000).optional(),
  /**
   * Provisioned poller group (`ProvisionedPollerConfig.PollerGroupName`): mappings of one group
   * (in the cluster's VPC) share event poller units, so four mappings that each need a poller or
   * two pay one EPU, not four. Up to 100 mappings per group; their maximum pollers add up to at most 2,000.
   */
  pollerGroupName: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,128}$/, 'letters, digits, "_" and "-", at most 128')
    .optional(),
  retryAttempts: z.int().min(0).max(10_000).optional(),
  maxRecordAgeSeconds: z.int().min(60).max(604_800).optional(),
  bisectBatchOnError: z.boolean().optional(),
  memoryMiB: z.int().min(128).max(10_240).optional(),
  timeoutSeconds: z.int().min(1).max(900).optional(),
});

/** Capacity units of a provisioned table, scaled by utilization between `min` and `max`. */
const capacitySchema = z.strictObject({
  min: z.int().min(1).max(40_000),
  max: z.int().min(1).max(40_000),
});

/**
 * Billing of the state table. On-demand (the default) follows any load; provisioned capacity with
 * auto scaling costs less under a steady one (about 2.4x less per write at 70 % utilization,
 * us-east-1 list prices: `bench/prices.json`) but throttles a burst until it scales.
 */
const stateTableSchema = z.discriminatedUnion('billing', [
  z.strictObject({ billing: z.literal('on-demand') }),
  z.strictObject({
    billing: z.literal('provisioned'),
    read: capacitySchema,
    write: capacitySchema,
    /** Consumed / provisioned capacity that auto scaling keeps. */
    targetUtilizationPercent: z.int().min(20).max(90).default(70),
  }),
]);

const consumersSchema = z.strictObject({
  defaults: consumerSchema.default({}),
  ingest: consumerSchema.default({}),
  enrich: consumerSchema.default({}),
  windows: consumerSchema.default({}),
  cep: consumerSchema.default({}),
});

const commonKafka = {
  replicationFactor: z.int().min(1).max(3).default(3),
  topics: z.strictObject({
    rawEvents: topicSchema,
    enrichedEvents: topicSchema,
    alerts: topicSchema,
  }),
};

const kafkaSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('serverless'), ...commonKafka }),
  z.strictObject({
    mode: z.enum(['provisioned', 'express']),
    ...commonKafka,
    /** Kafka version; 3.6 or later so that AWS::MSK::Topic can manage topics. */
    kafkaVersion: z
      .string()
      .regex(/^3\.(6|7|8|9)\.(x|\d+)$|^4\.\d+\.(x|\d+)$/, 'a Kafka version 3.6 or later, e.g. "3.9.x"'),
    brokerInstanceType: z
      .string()
      .regex(/^(kafka|express)\.[a-z0-9]+\.[a-z0-9]+$/, 'e.g. "express.m7g.large"'),
    brokersPerAz: z.int().min(1).max(10).default(1),
    /** EBS storage per broker (standard brokers only; Express brokers have no storage setting). */
    brokerStorageGiB: z.int().min(1).max(16_384).default(100),
  }),
  z.strictObject({
    mode: z.literal('self-managed'),
    ...commonKafka,
    bootstrapServers: z
      .array(z.string().regex(HOST_PORT, 'host:port, e.g. "127.0.0.1:9092"'))
      .min(1)
      .default(['127.0.0.1:9092']),
  }),
]);

export const environmentConfigSchema = z
  .strictObject({
    /** Must equal the file name without `.yaml`. */
    name: z
      .string()
      .regex(ENV_NAME, 'lower-case letters, digits and "-", starting with a letter, ≤ 20 chars'),
    /** AWS account; falls back to CDK_DEFAULT_ACCOUNT, then environment-agnostic. */
    account: z
      .string()
      .regex(/^\d{12}$/, 'a 12-digit AWS account id')
      .optional(),
    /** AWS region; falls back to CDK_DEFAULT_REGION, then environment-agnostic. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as "eu-west-1"')
      .optional(),
    /** Event domain (`config/domains/<domain>.yaml`): its tables become the Glue tables. */
    domain: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/, 'a domain name such as "payments"')
      .default('payments'),
    /** `retain` keeps buckets, tables, queues and keys when a stack is deleted (use it for real data). */
    removalPolicy: z.enum(['retain', 'destroy']),
    network: z
      .strictObject({
        cidr: z
          .string()
          .regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, 'an IPv4 CIDR /16 to /24')
          .default('10.40.0.0/16'),
        maxAzs: z.int().min(2).max(3).default(2),
        /** Explicit AZs: set them when the stacks have a concrete account, so synth needs no AZ lookup. */
        availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/)).optional(),
      })
      .default({ cidr: '10.40.0.0/16', maxAzs: 2 }),
    kafka: kafkaSchema,
    consumers: consumersSchema.default({ defaults: {}, ingest: {}, enrich: {}, windows: {}, cep: {} }),
    stateTable: stateTableSchema.default({ billing: 'on-demand' }),
    lakehouse: z
      .strictObject({
        /** Glue database (and Athena schema) name. @default tidewater_<name with - as _> */
        databaseName: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,254}$/, 'lower-case letters, digits and "_"')
          .optional(),
        /** Athena per-query bytes-scanned cutoff. */
        bytesScannedCutoffMiB: z.int().min(10).max(1_048_576).default(10_240),
        /** Days after which objects move to S3 Intelligent-Tiering. */
        intelligentTieringAfterDays: z.int().min(0).max(3650).default(30),
        /** Days after which non-current object versions expire. */
        noncurrentVersionExpirationDays: z.int().min(1).max(3650).default(30),
        /** Days after which Athena query results expire. */
        athenaResultsExpirationDays: z.int().min(1).max(3650).default(7),
        /**
         * Seconds a partition holds the rows of its small tables (batch_quality, late_events,
         * gold/alerts: a row or a few per batch) before writing them as one object; 0 writes them
         * with every batch (an object per partition-batch each). The alerts topic is not delayed.
         */
        smallTablesWriteSeconds: z.int().min(0).max(3600).default(60),
      })
      .default({
        bytesScannedCutoffMiB: 10_240,
        intelligentTieringAfterDays: 30,
        noncurrentVersionExpirationDays: 30,
        athenaResultsExpirationDays: 7,
        smallTablesWriteSeconds: 60,
      }),
    observability: z
      .strictObject({
        logRetentionDays: z
          .union([
            z.literal(1),
            z.literal(3),
            z.literal(5),
            z.literal(7),
            z.literal(14),
            z.literal(30),
            z.literal(60),
            z.literal(90),
            z.literal(180),
            z.literal(365),
            z.literal(731),
            z.literal(1827),
            z.literal(3653),
          ])
          .default(30),
        /** Optional e-mail subscribed to the alarm topic. */
        alarmEmail: z.email().optional(),
        offsetLagAlarmThreshold: z.int().min(1).default(10_000),
        deadLetterDepthAlarmThreshold: z.int().min(1).default(1),
        /**
         * Throttled reads + writes of the state table per 5 minutes that raise the alarm. The
         * consumers retry throttling (nothing is lost), so a few are noise; many mean the table
         * cannot keep up and batches slow down.
         */
        stateThrottleAlarmThreshold: z.int().min(1).default(50),
        /**
         * p99 of event time to alert (ms, the cep consumer's `EventToOutputLatency` over 5
         * minutes) at or above which the alert-latency alarm fires. It includes two batching
         * windows (enrich, then cep) and the producers' own delay: keep it above
         * 2 × `maxBatchingWindowSeconds` plus a few seconds.
         */
        alertLatencyP99AlarmMs: z.int().min(100).max(3_600_000).default(10_000),
      })
      .default({
        logRetentionDays: 30,
        offsetLagAlarmThreshold: 10_000,
        deadLetterDepthAlarmThreshold: 1,
        stateThrottleAlarmThreshold: 50,
        alertLatencyP99AlarmMs: 10_000,
      }),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.kafka.mode === 'express' && !cfg.kafka.brokerInstanceType.startsWith('express.')) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'brokerInstanceType'],
        message: `mode "express" needs an express.* instance type, got "${cfg.kafka.brokerInstanceType}"`,
      });
    }
    if (cfg.kafka.mode === 'provisioned' && cfg.kafka.brokerInstanceType.startsWith('express.')) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'brokerInstanceType'],
        message: `mode "provisioned" needs a kafka.* instance type, got "${cfg.kafka.brokerInstanceType}"; use mode "express" for express.*`,
      });
    }
    if (
      (cfg.kafka.mode === 'express' || cfg.kafka.mode === 'serverless') &&
      cfg.kafka.replicationFactor !== 3
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'replicationFactor'],
        message: `MSK ${cfg.kafka.mode} fixes the replication factor at 3, got ${cfg.kafka.replicationFactor}; set 3 or remove the key`,
      });
    }
    if (cfg.stateTable.billing === 'provisioned') {
      for (const side of ['read', 'write'] as const) {
        const c = cfg.stateTable[side];
        if (c.min > c.max) {
          ctx.addIssue({
            code: 'custom',
            path: ['stateTable', side, 'max'],
            message: `max (${c.max}) must be ≥ min (${c.min})`,
          });
        }
      }
    }
    // An event reaches an alert through two batching windows (enrich, cep): a threshold below
    // them would keep the alert-latency alarm firing.
    const windowMs = (name: 'enrich' | 'cep') =>
      1000 * ({ ...cfg.consumers.defaults, ...cfg.consumers[name] }.maxBatchingWindowSeconds ?? 0.5);
    const floorMs = windowMs('enrich') + windowMs('cep');
    if (cfg.observability.alertLatencyP99AlarmMs <= floorMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['observability', 'alertLatencyP99AlarmMs'],
        message: `${cfg.observability.alertLatencyP99AlarmMs} ms is not above the two batching windows an alert waits for (enrich + cep: ${floorMs} ms); the alarm would always fire: raise it above ${floorMs}`,
      });
    }
    for (const [name, consumer] of Object.entries(cfg.consumers)) {
      const merged = { ...cfg.consumers.defaults, ...consumer };
      if (
        merged.minimumPollers !== undefined &&
        merged.maximumPollers !== undefined &&
        merged.minimumPollers > merged.maximumPollers
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['consumers', name, 'maximumPollers'],
          message: `maximumPollers (${merged.maximumPollers}) must be ≥ minimumPollers (${merged.minimumPollers})`,
        });
      }
    }
  });

export type EnvironmentConfig = z.output<typeof environmentConfigSchema>;
export type KafkaConfig = EnvironmentConfig['kafka'];
export type ConsumerName = Exclude<keyof EnvironmentConfig['consumers'], 'defaults'>;
export type ConsumerSettings = z.output<typeof consumerSchema>;

/** Raised for any configuration problem; the message says which file, which key, and what to do. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The environments that have a file in `dir`, sorted. */
export function listEnvironments(dir: string = ENVIRONMENTS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** Validates an already-parsed document; `source` names it in error messages. */
export function parseEnvironmentConfig(raw: unknown, source: string): EnvironmentConfig {
  const result = environmentConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      return `  - ${path}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid environment config ${source}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/**
 * Loads and validates `config/environments/<name>.yaml`.
 * @throws ConfigError for an unknown environment (listing the known ones) or an invalid file.
 */
export function loadEnvironmentConfig(name: string, dir: string = ENVIRONMENTS_DIR): EnvironmentConfig {
  const known = listEnvironments(dir);
  if (!known.includes(name)) {
    throw new ConfigError(
      `Unknown environment "${name}": no ${join(dir, `${name}.yaml`)}. Known environments: ${known.join(', ')}. ` +
        'Pass one with `-c env=<name>`.',
    );
  }
  const file = join(dir, `${name}.yaml`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Cannot parse ${file} as YAML: ${(error as Error).message}`);
  }
  const config = parseEnvironmentConfig(raw, file);
  if (config.name !== name) {
    throw new ConfigError(
      `Invalid environment config ${file}:\n  - name: must be "${name}" (the file name), got "${config.name}"`,
    );
  }
  return config;
}

/** Settings of one consumer: its own keys over the environment's defaults over the platform defaults. */
export function consumerSettings(config: EnvironmentConfig, consumer: ConsumerName): ConsumerSettings {
  return { ...config.consumers.defaults, ...config.consumers[consumer] };
}

/** Glue database name of the environment. */
export function databaseName(config: EnvironmentConfig): string {
  return config.lakehouse.databaseName ?? `tidewater_${config.name.replaceAll('-', '_')}`;
}
