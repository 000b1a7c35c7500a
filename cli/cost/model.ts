/**
 * The monthly cost of a deployment at a sustained rate (`tidewater cost`), by line item, beside
 * the same job on Managed Service for Apache Flink and Firehose for bronze only. Pure: the
 * environment config, the work profile and the prices come in, line items come out.
 *
 * The model, per month of 730 hours (E = rate × 2,628,000 events):
 * - Work per event is the profile's, over the four consumers. Kinds in `profile.perInvocation`
 *   (Lambda requests, S3 requests) follow the number of invocations: each consumer carries a
 *   quarter of them, rescaled by `profile.batchSize / effective batch`, where a consumer's
 *   effective batch is `min(batchSize, rate × batching window / pollers)` (a window of 0 counts as
 *   Lambda's 0.5 s default). So small batches, or a rate too low to fill them in one window, cost
 *   more requests per event; latency is at most the window plus the invocation.
 * - Lambda GB-s per event = the profile's, × the consumer's memory / the profile's memory (same
 *   duration assumed: an upper bound when memory grows). Concurrency of a consumer = rate ×
 *   GB-s per event / 4 / GB of the profile's memory.
 * - Pollers per mapping = max(concurrency / invocations per poller, MB/s / MB/s per poller),
 *   between the mapping's minimum and maximum; billed as EPUs, ceil(pollers / pollers per EPU),
 *   at least one per mapping (no poller groups).
 * - Kafka bytes scale with `bytesPerEvent / profile.rawBytesPerEvent`; state and DynamoDB units
 *   do not (they follow ids and keys, not record size).
 * - MSK storage keeps `KAFKA_RETENTION_DAYS` of data in; stale state versions stay
 *   `noncurrentVersionExpirationDays` (steady state); the lake is priced as one month of new data.
 */

import type { WorkProfile } from '../../bench/work-profile.ts';
import {
  type ConsumerName,
  consumerSettings,
  type EnvironmentConfig,
} from '../../lib/config/environment-config.ts';
import type { PriceSection, PriceSource, Prices } from './prices.ts';

export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const GB = 1e9;
const CONSUMERS: readonly ConsumerName[] = ['ingest', 'enrich', 'windows', 'cep'];

/**
 * Assumptions that are not measured, named so the output can list them.
 * @see the README's Command line section
 */
export const ASSUMPTIONS = {
  /** Kafka's default `retention.ms` (7 days); the topics set none. */
  kafkaRetentionDays: 7,
  /** Lambda's START/END/REPORT lines, Powertools logs and EMF metric blobs per invocation. */
  logBytesPerInvocation: 2048,
  /** KMS requests per invocation: S3 bucket keys, SQS data key reuse and DynamoDB's cached table key keep it low. */
  kmsRequestsPerInvocation: 1,
  /** Athena scans this many times the month's new lake bytes (dashboards and ad-hoc queries over recent partitions). */
  athenaScansOfMonthlyLake: 10,
  /** Interface endpoints of the Network stack (Lambda, STS, SQS, X-Ray), one per AZ. */
  interfaceEndpoints: 4,
  /** Alarms of the Observability stack: 3 per consumer, the poison queue and the state table. */
  alarms: 3 * 4 + 2,
  /**
   * Managed Flink events/s per KPU (1 vCPU, 4 GB) for this job (decode, validate, enrich, dedup,
   * windows, CEP): the upper end of the 1,000-5,000 records/s per 1 vCPU + 4 GiB unit that Alibaba
   * Cloud's Realtime Compute for Apache Flink states for jobs with joins, GROUP BY and windows
   * (https://www.alibabacloud.com/help/en/realtime-compute-for-apache-flink/latest/billing-unit-and-billable-items).
   */
  flinkEventsPerKpu: 5000,
  /** The Flink file sink rolls one Parquet file per subtask per layer at each checkpoint (1 a minute). */
  flinkCheckpointsPerHour: 60,
} as const;

/** A price the model needs is missing from the price file. */
export class CostModelError extends Error {
  override readonly name = 'CostModelError';
}

export type Stack = 'tidewater' | 'flink' | 'firehose';

export interface LineItem {
  readonly stack: Stack;
  readonly service: string;
  readonly item: string;
  /** `fixed`: billed by the hour whatever flows; `variable`: per event (request, byte, GB-s). */
  readonly kind: 'fixed' | 'variable';
  readonly quantity: number;
  readonly unit: string;
  readonly unitPriceUsd: number;
  readonly usdPerMonth: number;
  readonly usdPerMillionEvents: number;
  /** The price file section the unit price comes from. */
  readonly priceSection: PriceSection;
  readonly priceVerified: boolean;
  readonly note?: string;
}

export interface CostInput {
  readonly config: EnvironmentConfig;
  readonly profile: WorkProfile;
  readonly prices: Prices;
  readonly ratePerSecond: number;
  /** @default profile.rawBytesPerEvent */
  readonly bytesPerEvent?: number;
  /** Custom metrics the consumers publish (metric × dimension values). */
  readonly customMetrics: number;
  /** @default ASSUMPTIONS.flinkEventsPerKpu */
  readonly flinkEventsPerKpu?: number;
}

export interface ConsumerPlan {
  readonly consumer: ConsumerName;
  readonly batchSize: number;
  readonly effectiveBatch: number;
  readonly concurrency: number;
  readonly pollers: number;
  readonly epus: number;
  readonly invocationsPerSecond: number;
}

export interface CostEstimate {
  readonly eventsPerMonth: number;
  readonly bytesPerEvent: number;
  readonly consumers: readonly ConsumerPlan[];
  readonly lineItems: readonly LineItem[];
  readonly totals: Readonly<Record<Stack, number>>;
  readonly warnings: readonly string[];
}

const rawPartitions = (c: EnvironmentConfig) => c.kafka.topics.rawEvents.partitions;

export function estimateCost(input: CostInput): CostEstimate {
  const { config, profile, prices, ratePerSecond: rate } = input;
  const bytesPerEvent = input.bytesPerEvent ?? profile.rawBytesPerEvent;
  const byteScale = bytesPerEvent / profile.rawBytesPerEvent;
  const E = rate * SECONDS_PER_MONTH;
  const perMillion = (usd: number) => (E > 0 ? (usd * 1e6) / E : 0);
  const warnings: string[] = [];
  const items: LineItem[] = [];
  const add = (
    stack: Stack,
    service: string,
    item: string,
    kind: LineItem['kind'],
    quantity: number,
    unit: string,
    unitPriceUsd: number,
    priceSection: PriceSection,
    note?: string,
  ) => {
    const usdPerMonth = quantity * unitPriceUsd;
    const source: PriceSource = prices[priceSection].source;
    items.push({
      stack,
      service,
      item,
      kind,
      quantity,
      unit,
      unitPriceUsd,
      usdPerMonth,
      usdPerMillionEvents: perMillion(usdPerMonth),
      priceSection,
      priceVerified: source.status === 'verified',
      ...(note === undefined ? {} : { note }),
    });
  };

  // Consumers: pollers, effective batches, invocations.
  const lp = prices.lambdaEventPollers;
  const profileMemGb = profile.lambda.memoryMiB / 1024;
  const consumers: ConsumerPlan[] = CONSUMERS.map((consumer) => {
    const s = consumerSettings(config, consumer);
    const batchSize = s.batchSize ?? 100;
    const windowSeconds = s.maxBatchingWindowSeconds === 0 ? 0.5 : (s.maxBatchingWindowSeconds ?? 1);
    const minimumPollers = s.minimumPollers ?? 1;
    const maximumPollers = s.maximumPollers ?? 2;
    const concurrency = (rate * profile.lambda.gbSecondsPerEvent) / CONSUMERS.length / profileMemGb;
    const mbps = (rate * bytesPerEvent) / 1e6;
    const needed = Math.max(
      1,
      Math.ceil(concurrency / lp.concurrentInvocationsPerPoller),
      Math.ceil(mbps / lp.throughputMBpsPerPoller),
    );
    if (needed > maximumPollers)
      warnings.push(
        `${consumer}: needs ${needed} pollers at this rate, above maximumPollers ${maximumPollers}: it would lag`,
      );
    const partitions =
      consumer === 'ingest' || consumer === 'enrich'
        ? rawPartitions(config)
        : config.kafka.topics.enrichedEvents.partitions;
    if (concurrency > partitions)
      warnings.push(
        `${consumer}: needs ${concurrency.toFixed(1)} concurrent invocations, above its ${partitions} partitions (one invocation per partition at a time): it would lag`,
      );
    const pollers = Math.min(maximumPollers, Math.max(minimumPollers, needed));
    const effectiveBatch = Math.max(1, Math.min(batchSize, (rate * windowSeconds) / pollers));
    return {
      consumer,
      batchSize,
      effectiveBatch,
      concurrency,
      pollers,
      epus: Math.max(1, Math.ceil(pollers / lp.pollersPerEpu)),
      invocationsPerSecond: rate > 0 ? rate / effectiveBatch : 0,
    };
  });
  // Invocation-bound work relative to the bench's: each consumer carries a quarter of it.
  const invocationScale =
    consumers.reduce((n, c) => n + profile.batchSize / c.effectiveBatch, 0) / consumers.length;
  const scaled = (kind: WorkProfile['perInvocation'][number], perEvent: number) =>
    profile.perInvocation.includes(kind) ? perEvent * invocationScale : perEvent;
  const invocations = E * scaled('lambda.invocations', profile.lambda.invocationsPerEvent);

  // Kafka.
  const kafkaIn = (E * profile.kafka.bytesInPerEvent * byteScale) / GB;
  const kafkaOut = (E * profile.kafka.bytesOutPerEvent * byteScale) / GB;
  const rawGb = (E * bytesPerEvent) / GB;
  const mskLines = (stack: Stack, gbIn: number, gbOut: number, partitions: number) => {
    const k = config.kafka;
    const storedGbMonth = (gbIn * ASSUMPTIONS.kafkaRetentionDays * 24) / HOURS_PER_MONTH;
    if (k.mode === 'serverless') {
      const p = prices.mskServerless;
      add(
        stack,
        'MSK Serverless',
        'cluster-hours',
        'fixed',
        HOURS_PER_MONTH,
        'h',
        p.perClusterHour,
        'mskServerless',
      );
      add(
        stack,
        'MSK Serverless',
        `partition-hours (${partitions} partitions)`,
        'fixed',
        partitions * HOURS_PER_MONTH,
        'partition-h',
        p.perPartitionHour,
        'mskServerless',
      );
      add(stack, 'MSK Serverless', 'data in', 'variable', gbIn, 'GB', p.perGbIn, 'mskServerless');
      add(stack, 'MSK Serverless', 'data out', 'variable', gbOut, 'GB', p.perGbOut, 'mskServerless');
      add(
        stack,
        'MSK Serverless',
        `storage (${ASSUMPTIONS.kafkaRetentionDays} days retained)`,
        'variable',
        storedGbMonth,
        'GB-month',
        p.perGbMonthStorage,
        'mskServerless',
      );
    } else if (k.mode === 'provisioned' || k.mode === 'express') {
      const section = k.mode === 'express' ? 'mskExpress' : 'mskProvisioned';
      const p = prices[section];
      const perHour = p.perBrokerHour[k.brokerInstanceType];
      if (perHour === undefined)
        throw new CostModelError(
          `no broker-hour price for ${k.brokerInstanceType} in ${section}.perBrokerHour of the price file: add it`,
        );
      const brokers = k.brokersPerAz * config.network.maxAzs;
      const service = k.mode === 'express' ? 'MSK Express' : 'MSK provisioned';
      add(
        stack,
        service,
        `broker-hours (${brokers} × ${k.brokerInstanceType})`,
        'fixed',
        brokers * HOURS_PER_MONTH,
        'broker-h',
        perHour,
        section,
      );
      if (k.mode === 'express') {
        add(stack, service, 'data in', 'variable', gbIn, 'GB', prices.mskExpress.perGbDataIn, 'mskExpress');
        add(
          stack,
          service,
          `storage (${ASSUMPTIONS.kafkaRetentionDays} days retained)`,
          'variable',
          storedGbMonth,
          'GB-month',
          prices.mskExpress.perGbMonthStorage,
          'mskExpress',
        );
      } else {
        add(
          stack,
          service,
          `EBS storage (${brokers} × ${k.brokerStorageGiB} GiB)`,
          'fixed',
          brokers * k.brokerStorageGiB,
          'GB-month',
          prices.mskProvisioned.perGbMonthStorage,
          'mskProvisioned',
        );
      }
    }
  };
  const t = config.kafka.topics;
  mskLines(
    'tidewater',
    kafkaIn,
    kafkaOut,
    t.rawEvents.partitions + t.enrichedEvents.partitions + t.alerts.partitions,
  );
  if (config.kafka.mode === 'self-managed')
    warnings.push('kafka.mode self-managed: no MSK line items (the cluster is not AWS-billed here)');

  // Lambda.
  const epus = consumers.reduce((n, c) => n + c.epus, 0);
  add(
    'tidewater',
    'Lambda',
    `event poller units (pollers ${consumers.map((c) => `${c.consumer} ${c.pollers}`).join(', ')})`,
    'fixed',
    epus * HOURS_PER_MONTH,
    'EPU-h',
    lp.perEpuHour,
    'lambdaEventPollers',
  );
  add(
    'tidewater',
    'Lambda',
    `requests (effective batches ${consumers.map((c) => Math.round(c.effectiveBatch)).join('/')})`,
    'variable',
    invocations / 1e6,
    'M requests',
    prices.lambda.perMillionRequests,
    'lambda',
  );
  const gbSeconds = consumers.reduce((n, c) => {
    const mem = consumerSettings(config, c.consumer).memoryMiB ?? 1024;
    return n + (E * profile.lambda.gbSecondsPerEvent * mem) / profile.lambda.memoryMiB / CONSUMERS.length;
  }, 0);
  add(
    'tidewater',
    'Lambda',
    'compute (arm64)',
    'variable',
    gbSeconds,
    'GB-s',
    prices.lambda.perGbSecond,
    'lambda',
  );

  // DynamoDB.
  const d = profile.dynamodb;
  const wruPerEvent = d.wruPerEvent + d.failedConditionalWruPerEvent + d.deleteWruPerEvent;
  if (config.stateTable.billing === 'on-demand') {
    const p = prices.dynamodb;
    add(
      'tidewater',
      'DynamoDB',
      'write request units (failed conditional writes and deletes included)',
      'variable',
      (E * wruPerEvent) / 1e6,
      'M WRU',
      p.perMillionWriteRequestUnits,
      'dynamodb',
    );
    add(
      'tidewater',
      'DynamoDB',
      'read request units',
      'variable',
      (E * d.rruPerEvent) / 1e6,
      'M RRU',
      p.perMillionReadRequestUnits,
      'dynamodb',
    );
  } else {
    const st = config.stateTable;
    const util = st.targetUtilizationPercent / 100;
    const capacity = (side: 'read' | 'write', perSecond: number) => {
      const needed = Math.ceil(perSecond / util);
      if (needed > st[side].max)
        warnings.push(
          `stateTable.${side}.max ${st[side].max} is below the ${needed} units this rate needs: it would throttle`,
        );
      return Math.min(st[side].max, Math.max(st[side].min, needed));
    };
    const p = prices.dynamodbProvisioned;
    const wcu = capacity('write', rate * wruPerEvent);
    const rcu = capacity('read', rate * d.rruPerEvent);
    add(
      'tidewater',
      'DynamoDB',
      `provisioned write capacity (${wcu} WCU at ${st.targetUtilizationPercent} %)`,
      'fixed',
      wcu * HOURS_PER_MONTH,
      'WCU-h',
      p.perWcuHour,
      'dynamodbProvisioned',
    );
    add(
      'tidewater',
      'DynamoDB',
      `provisioned read capacity (${rcu} RCU)`,
      'fixed',
      rcu * HOURS_PER_MONTH,
      'RCU-h',
      p.perRcuHour,
      'dynamodbProvisioned',
    );
  }

  // S3.
  const s3 = prices.s3;
  const putsAndOther =
    E * (scaled('s3.put', profile.s3.putPerEvent) + scaled('s3.other', profile.s3.otherPerEvent));
  const gets = E * scaled('s3.get', profile.s3.getPerEvent);
  add(
    'tidewater',
    'S3',
    'PUT/LIST/other requests',
    'variable',
    putsAndOther / 1000,
    'k requests',
    s3.perThousandPutCopyPostList,
    's3',
  );
  add(
    'tidewater',
    'S3',
    'GET requests',
    'variable',
    gets / 1000,
    'k requests',
    s3.perThousandGetSelect,
    's3',
  );
  const versionDays = config.lakehouse.noncurrentVersionExpirationDays;
  add(
    'tidewater',
    'S3',
    `stale state versions (kept ${versionDays} days)`,
    'variable',
    (rate * profile.storage.retainedStateBytesPerEvent * versionDays * 86_400) / GB,
    'GB-month',
    s3.perGbMonth,
    's3',
  );
  const lakeGb = (E * profile.storage.lakeBytesPerEvent * byteScale) / GB;
  const lakeLine = (stack: Stack) =>
    add(
      stack,
      'S3',
      "lake Parquet, the month's new data (adds this every month)",
      'variable',
      lakeGb,
      'GB-month',
      s3.perGbMonth,
      's3',
    );
  lakeLine('tidewater');

  // SQS, KMS, CloudWatch, VPC endpoints, Athena.
  add(
    'tidewater',
    'SQS',
    'requests (poison records, 64 KB chunks)',
    'variable',
    (E * scaled('sqs.requests', profile.sqs.requestsPerEvent)) / 1e6,
    'M requests',
    prices.sqs.perMillionRequests,
    'sqs',
  );
  const managedKafka = config.kafka.mode !== 'self-managed';
  const keys = 3 + (managedKafka ? 1 : 0);
  add(
    'tidewater',
    'KMS',
    `customer managed keys (${keys})`,
    'fixed',
    keys,
    'key-month',
    prices.kms.perKeyMonth,
    'kms',
  );
  add(
    'tidewater',
    'KMS',
    'requests',
    'variable',
    (invocations * ASSUMPTIONS.kmsRequestsPerInvocation) / 1e4,
    '10k requests',
    prices.kms.perTenThousandRequests,
    'kms',
  );
  const cw = prices.cloudwatch;
  add(
    'tidewater',
    'CloudWatch',
    'custom metrics',
    'fixed',
    input.customMetrics,
    'metric-month',
    cw.perMetricMonth,
    'cloudwatch',
  );
  const logGb = (invocations * ASSUMPTIONS.logBytesPerInvocation) / GB;
  add(
    'tidewater',
    'CloudWatch',
    'logs ingested',
    'variable',
    logGb,
    'GB',
    cw.perGbLogsIngested,
    'cloudwatch',
  );
  const retention = config.observability.logRetentionDays;
  add(
    'tidewater',
    'CloudWatch',
    `logs stored (${retention} days retention)`,
    'variable',
    (logGb * retention) / 30,
    'GB-month',
    cw.perGbMonthLogsStored,
    'cloudwatch',
  );
  add(
    'tidewater',
    'CloudWatch',
    'dashboard',
    'fixed',
    1,
    'dashboard-month',
    cw.perDashboardMonth,
    'cloudwatch',
  );
  add(
    'tidewater',
    'CloudWatch',
    'alarms',
    'fixed',
    ASSUMPTIONS.alarms,
    'alarm-month',
    cw.perStandardAlarmMonth,
    'cloudwatch',
  );
  if (managedKafka) {
    const endpointAzs = ASSUMPTIONS.interfaceEndpoints * config.network.maxAzs;
    add(
      'tidewater',
      'VPC',
      `interface endpoints (${ASSUMPTIONS.interfaceEndpoints} × ${config.network.maxAzs} AZs)`,
      'fixed',
      endpointAzs * HOURS_PER_MONTH,
      'endpoint-AZ-h',
      prices.vpcInterfaceEndpoints.perEndpointAzHour,
      'vpcInterfaceEndpoints',
    );
  }
  const athenaLine = (stack: Stack) =>
    add(
      stack,
      'Athena',
      `queries (scan ${ASSUMPTIONS.athenaScansOfMonthlyLake}× the month's lake)`,
      'variable',
      (lakeGb * ASSUMPTIONS.athenaScansOfMonthlyLake) / 1000,
      'TB scanned',
      prices.athena.perTbScanned,
      'athena',
    );
  athenaLine('tidewater');

  // Managed Service for Apache Flink, the same job: reads raw events, writes the three layers and alerts.
  const f = prices.flink;
  const eventsPerKpu = input.flinkEventsPerKpu ?? ASSUMPTIONS.flinkEventsPerKpu;
  const kpus = Math.max(1, Math.ceil(rate / eventsPerKpu));
  add(
    'flink',
    'Managed Flink',
    `KPU-hours (${kpus} KPU at ${eventsPerKpu.toLocaleString('en-US')} ev/s per KPU)`,
    'fixed',
    kpus * HOURS_PER_MONTH,
    'KPU-h',
    f.perKpuHour,
    'flink',
  );
  add(
    'flink',
    'Managed Flink',
    'orchestration KPU (one per application)',
    'fixed',
    f.orchestrationKpusPerApplication * HOURS_PER_MONTH,
    'KPU-h',
    f.perKpuHour,
    'flink',
  );
  add(
    'flink',
    'Managed Flink',
    `running application storage (${f.runningStorageGbPerKpu} GB per KPU)`,
    'fixed',
    kpus * f.runningStorageGbPerKpu,
    'GB-month',
    f.perGbMonthRunningStorage,
    'flink',
  );
  mskLines('flink', rawGb, rawGb, t.rawEvents.partitions + t.alerts.partitions);
  add(
    'flink',
    'S3',
    'PUT requests (a Parquet file per subtask and layer at each checkpoint)',
    'fixed',
    (kpus * 3 * ASSUMPTIONS.flinkCheckpointsPerHour * HOURS_PER_MONTH) / 1000,
    'k requests',
    s3.perThousandPutCopyPostList,
    's3',
  );
  lakeLine('flink');
  athenaLine('flink');

  // Firehose, bronze only: reads the raw topic, converts to Parquet, writes S3.
  const fh = prices.firehose;
  add(
    'firehose',
    'Firehose',
    'ingestion from MSK',
    'variable',
    rawGb,
    'GB',
    fh.perGbIngestedFromMsk,
    'firehose',
  );
  const billedRecord =
    Math.ceil(bytesPerEvent / fh.formatConversionIncrementBytes) * fh.formatConversionIncrementBytes;
  add(
    'firehose',
    'Firehose',
    `format conversion to Parquet (records billed as ${billedRecord / 1024} KB)`,
    'variable',
    (E * billedRecord) / GB,
    'GB',
    fh.perGbFormatConversion,
    'firehose',
  );

  const totals = { tidewater: 0, flink: 0, firehose: 0 };
  for (const i of items) totals[i.stack] += i.usdPerMonth;
  return { eventsPerMonth: E, bytesPerEvent, consumers, lineItems: items, totals, warnings };
}
