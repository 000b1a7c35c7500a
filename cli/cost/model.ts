/**
 * The monthly cost of a deployment at a sustained rate (`tidewater cost`), by line item, beside
 * the same job on Managed Service for Apache Flink and Firehose for bronze only. Pure: the
 * environment config, the work profile and the prices come in, line items come out.
 *
 * The model, per month of 730 hours (E = rate × 2,628,000 events):
 * - **Batches.** Lambda's Kafka mapping reads each partition in order; "a single Lambda payload can
 *   contain messages from multiple partitions" (Lambda developer guide, MSK). Assumed: each poller
 *   owns `ceil(N / P)` of the topic's N partitions (P pollers), and an invocation carries what its
 *   partitions brought within the batching window (a window of 0 counts as Lambda's 0.5 s), up to
 *   the batch size: `records = min(batchSize, rate × window / min(P, N))`. Each partition of an
 *   invocation runs its own batch: a **partition-batch** of `records / ceil(N / P)` records, with its
 *   own Parquet files, state delta and commit. At a low rate over many partitions, partition-batches
 *   are small and the requests per event many: the figure that matters most for cost.
 * - Work per event is the profile's, over the four consumers (each carries a quarter). The
 *   profile's run was a backlog (one partition per invocation: partition-batch = its batch size),
 *   so kinds that follow partition-batches (S3 requests, DynamoDB units: files and the commit of
 *   each) are rescaled by `profile.batchSize / partition-batch`; Lambda requests follow invocations.
 * - Lambda GB-s = the profile's CPU part per event (constant: below 1,769 MB CPU grows with
 *   memory, so a CPU-bound duration shrinks as GB grow) + each invocation's wait for AWS round trips
 *   (`profile.lambda.waitMsPerInvocation`) × its memory. Concurrency of a consumer = invocations/s
 *   × duration; pollers = max(concurrency / invocations per poller, MB/s / MB/s per poller), between
 *   the mapping's minimum and maximum; billed as EPUs, `ceil(pollers / pollers per EPU)` per
 *   mapping, or per poller group over its mappings (`pollerGroupName`), at least one.
 * - KMS: S3 Bucket Keys, DynamoDB's table key cache and SQS's data key reuse (5 minutes) make KMS
 *   requests follow execution environments, not requests: about one per key every 5 minutes per
 *   concurrent environment.
 * - Kafka bytes scale with `bytesPerEvent / profile.rawBytesPerEvent`; state and DynamoDB units
 *   do not (they follow ids and keys, not record size).
 * - MSK storage keeps `KAFKA_RETENTION_DAYS` of data in; stale state versions stay
 *   a day (the `ops/state/` bucket rule; steady state); the lake is priced as one month of new data.
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
  /** Days a superseded state object's version is kept: the gold bucket's `ops/state/` rule. */
  stateVersionDays: 1,
  /** Kafka's default `retention.ms` (7 days); the topics set none. */
  kafkaRetentionDays: 7,
  /** Lambda's START/END/REPORT lines, Powertools logs and EMF metric blobs per invocation. */
  logBytesPerInvocation: 2048,
  /**
   * KMS requests per concurrent execution environment per hour: its three keys (state table,
   * buckets, queues) each every 5 minutes (S3 Bucket Keys, DynamoDB's table key cache, SQS's
   * default data key reuse period).
   */
  kmsRequestsPerEnvironmentHour: 3 * 12,
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
  /** The domain's dedup horizon and per-partition cap (enrich's seen ids), for the warnings. */
  readonly dedup?: { readonly retentionMs: number; readonly maxEntries: number };
}

export interface ConsumerPlan {
  readonly consumer: ConsumerName;
  readonly batchSize: number;
  /** Batching window, s (0 counts as Lambda's 0.5 s). */
  readonly windowSeconds: number;
  readonly partitions: number;
  /** The function's memory, GB (its waits are billed at it). */
  readonly memoryGb: number;
  /** Records per invocation. */
  readonly invocationRecords: number;
  /** Partitions per invocation: those of one poller. */
  readonly partitionsPerInvocation: number;
  /** Records of one partition in one invocation: what its files and its state commit cover. */
  readonly partitionBatch: number;
  readonly concurrency: number;
  readonly pollers: number;
  readonly pollerGroup?: string;
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

  // Consumers: pollers, partition-batches, invocations.
  const lp = prices.lambdaEventPollers;
  const waitS = (profile.lambda.waitMsPerInvocation ?? 0) / 1000;
  const profileMemGb = profile.lambda.memoryMiB / 1024;
  // The profile's GB-s less its invocations' waits: the CPU part, per event, all consumers.
  const cpuGbS = Math.max(
    0,
    profile.lambda.gbSecondsPerEvent - profile.lambda.invocationsPerEvent * waitS * profileMemGb,
  );
  const consumers: ConsumerPlan[] = CONSUMERS.map((consumer) => {
    const s = consumerSettings(config, consumer);
    const batchSize = s.batchSize ?? 100;
    const windowSeconds = s.maxBatchingWindowSeconds === 0 ? 0.5 : (s.maxBatchingWindowSeconds ?? 1);
    const minimumPollers = s.minimumPollers ?? 1;
    const maximumPollers = s.maximumPollers ?? 2;
    const memGb = (s.memoryMiB ?? 1024) / 1024;
    const partitions =
      consumer === 'ingest' || consumer === 'enrich'
        ? rawPartitions(config)
        : config.kafka.topics.enrichedEvents.partitions;
    const plan = (pollers: number) => {
      const owners = Math.min(pollers, partitions);
      const partitionsPerInvocation = Math.ceil(partitions / owners);
      const invocationRecords = Math.max(1, Math.min(batchSize, (rate * windowSeconds) / owners));
      const invocationsPerSecond = rate > 0 ? rate / invocationRecords : 0;
      const seconds = (invocationRecords * cpuGbS) / CONSUMERS.length / memGb + waitS;
      return {
        partitionsPerInvocation,
        invocationRecords,
        partitionBatch: Math.max(1, invocationRecords / partitionsPerInvocation),
        invocationsPerSecond,
        concurrency: invocationsPerSecond * seconds,
      };
    };
    const mbps = (rate * bytesPerEvent) / 1e6;
    const neededFor = (concurrency: number) =>
      Math.max(
        1,
        Math.ceil(concurrency / lp.concurrentInvocationsPerPoller),
        Math.ceil(mbps / lp.throughputMBpsPerPoller),
      );
    // More pollers make smaller invocations (more of them): settle in two passes.
    let pollers = Math.min(
      maximumPollers,
      Math.max(minimumPollers, neededFor(plan(minimumPollers).concurrency)),
    );
    const needed = neededFor(plan(pollers).concurrency);
    pollers = Math.min(maximumPollers, Math.max(pollers, needed));
    const p = plan(pollers);
    if (needed > maximumPollers)
      warnings.push(
        `${consumer}: needs ${needed} pollers at this rate, above maximumPollers ${maximumPollers}: it would lag`,
      );
    if (p.concurrency > partitions)
      warnings.push(
        `${consumer}: needs ${p.concurrency.toFixed(1)} concurrent invocations, above its ${partitions} partitions (one invocation per partition at a time): it would lag`,
      );
    return {
      consumer,
      batchSize,
      windowSeconds,
      partitions,
      memoryGb: memGb,
      pollers,
      ...(s.pollerGroupName === undefined ? {} : { pollerGroup: s.pollerGroupName }),
      ...p,
    };
  });
  // enrich's seen ids per partition: 16 B each in a snapshot (core/dedup-hashes.ts), capped.
  if (input.dedup !== undefined && rate > 0) {
    const idsPerSecond = rate / rawPartitions(config);
    const perPartition = idsPerSecond * (input.dedup.retentionMs / 1000);
    const kept = Math.min(perPartition, input.dedup.maxEntries);
    if (perPartition > input.dedup.maxEntries)
      warnings.push(
        `enrich: a partition sees ${Math.round(perPartition).toLocaleString('en-US')} ids per dedup horizon, above the domain's dedup.max_entries ${input.dedup.maxEntries.toLocaleString('en-US')}: duplicates older than about ${(input.dedup.maxEntries / idsPerSecond / 3600).toFixed(1)} h are not caught`,
      );
    if (kept * 16 > 64 * 1024 * 1024)
      warnings.push(
        `enrich: a partition's seen ids take about ${Math.round((kept * 16) / 1024 / 1024)} MB: an execution environment without it warm reads that from S3 before its batch`,
      );
  }
  // Partition-batch-bound work relative to the profile's (a backlog: partition-batch = its batch).
  const batchScale =
    consumers.reduce((n, c) => n + profile.batchSize / c.partitionBatch, 0) / consumers.length;
  const scaled = (kind: WorkProfile['perInvocation'][number], perEvent: number) =>
    profile.perInvocation.includes(kind) ? perEvent * batchScale : perEvent;
  const invocations = consumers.reduce((n, c) => n + c.invocationsPerSecond, 0) * SECONDS_PER_MONTH;

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
  const groups = new Map<string, number>();
  let epus = 0;
  for (const c of consumers) {
    if (c.pollerGroup === undefined) epus += Math.max(1, Math.ceil(c.pollers / lp.pollersPerEpu));
    else groups.set(c.pollerGroup, (groups.get(c.pollerGroup) ?? 0) + c.pollers);
  }
  for (const pollers of groups.values()) epus += Math.max(1, Math.ceil(pollers / lp.pollersPerEpu));
  const grouped = groups.size > 0 ? `; poller group ${[...groups.keys()].join(', ')}` : '';
  add(
    'tidewater',
    'Lambda',
    `event poller units (pollers ${consumers.map((c) => `${c.consumer} ${c.pollers}`).join(', ')}${grouped})`,
    'fixed',
    epus * HOURS_PER_MONTH,
    'EPU-h',
    lp.perEpuHour,
    'lambdaEventPollers',
  );
  add(
    'tidewater',
    'Lambda',
    `requests (partition-batches ${consumers.map((c) => Math.round(c.partitionBatch)).join('/')} records)`,
    'variable',
    invocations / 1e6,
    'M requests',
    prices.lambda.perMillionRequests,
    'lambda',
  );
  const gbSeconds =
    E * cpuGbS +
    consumers.reduce((n, c) => n + c.invocationsPerSecond * SECONDS_PER_MONTH * waitS * c.memoryGb, 0);
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
  // One commit (intent + commit) per partition-batch: units follow partition-batches.
  const d = profile.dynamodb;
  const wruPerEvent = (d.wruPerEvent + d.failedConditionalWruPerEvent + d.deleteWruPerEvent) * batchScale;
  const rruPerEvent = d.rruPerEvent * batchScale;
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
      (E * rruPerEvent) / 1e6,
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
    const rcu = capacity('read', rate * rruPerEvent);
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
  // State objects (`ops/state/`) are deleted once superseded; their versions expire after a day
  // (the gold bucket's rule for that prefix: lib/stacks/lakehouse-stack.ts).
  const versionDays = ASSUMPTIONS.stateVersionDays;
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
    (consumers.reduce((n, c) => n + Math.max(1, Math.ceil(c.concurrency)), 0) *
      ASSUMPTIONS.kmsRequestsPerEnvironmentHour *
      HOURS_PER_MONTH) /
      1e4,
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
