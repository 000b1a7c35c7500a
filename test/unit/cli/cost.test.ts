import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  readWorkProfile,
  type WorkProfile,
  workProfileFromMeasurement,
} from '../../../bench/work-profile.ts';
import { customMetricCount, parseEventsPerSecond } from '../../../cli/commands/cost.ts';
import { estimateCost, type LineItem } from '../../../cli/cost/model.ts';
import { type Prices, readPrices } from '../../../cli/cost/prices.ts';
import { UserError } from '../../../cli/errors.ts';
import { type EnvironmentConfig, parseEnvironmentConfig } from '../../../lib/config/environment-config.ts';

const BIN = fileURLToPath(new URL('../../../bin/tidewater.js', import.meta.url));

/** Round numbers so every expected figure below can be checked by hand. */
const PROFILE: WorkProfile = {
  version: 1,
  command: 'npm run bench -- local-stack --events 1000 --batch 1000',
  measuredAt: '2026-12-04',
  events: 1000,
  batchSize: 1000,
  pollers: 1,
  rawBytesPerEvent: 100,
  dynamodb: {
    wruPerEvent: 1,
    wruShareByCommand: { BatchWriteItem: 1 },
    rruPerEvent: 2,
    failedConditionalWruPerEvent: 0.5,
    deleteWruPerEvent: 0.5,
    requestsPerEvent: 0,
  },
  s3: { putPerEvent: 0.002, getPerEvent: 0.001, otherPerEvent: 0.001 },
  sqs: { requestsPerEvent: 0 },
  lambda: { invocationsPerEvent: 0.004, gbSecondsPerEvent: 0.001, memoryMiB: 1024, waitMsPerInvocation: 0 },
  kafka: { bytesInPerEvent: 200, bytesOutPerEvent: 400 },
  storage: { retainedStateBytesPerEvent: 1000, lakeBytesPerEvent: 50 },
  perInvocation: ['lambda.invocations', 's3.put', 's3.get', 's3.other'],
  notMetered: [],
  notes: [],
};

const src = { url: 'https://aws.amazon.com/pricing/', read: '2026-12-04', status: 'unverified' } as const;
const PRICES: Prices = {
  region: 'us-east-1',
  currency: 'USD',
  asOf: '2026-12-04',
  lambda: { source: src, perGbSecond: 0.00001, perMillionRequests: 0.2 },
  lambdaEventPollers: {
    source: src,
    perEpuHour: 0.1,
    pollersPerEpu: 10,
    throughputMBpsPerPoller: 5,
    concurrentInvocationsPerPoller: 5,
  },
  dynamodb: { source: src, perMillionWriteRequestUnits: 1, perMillionReadRequestUnits: 0.5 },
  dynamodbProvisioned: { source: src, perWcuHour: 0.001, perRcuHour: 0.0002, utilization: 0.7 },
  s3: { source: src, perThousandPutCopyPostList: 0.005, perThousandGetSelect: 0.0004, perGbMonth: 0.02 },
  sqs: { source: src, perMillionRequests: 0.4, requestChunkBytes: 65536 },
  kms: { source: src, perKeyMonth: 1, perTenThousandRequests: 0.03 },
  cloudwatch: {
    source: src,
    perMetricMonth: 0.3,
    perGbLogsIngested: 0.5,
    perGbMonthLogsStored: 0.03,
    perDashboardMonth: 3,
    perStandardAlarmMonth: 0.1,
  },
  athena: { source: src, perTbScanned: 5 },
  vpcInterfaceEndpoints: { source: src, perEndpointAzHour: 0.01, perGbProcessed: 0.01 },
  mskServerless: {
    source: { ...src, status: 'verified' },
    perClusterHour: 0.75,
    perPartitionHour: 0.0015,
    perGbIn: 0.1,
    perGbOut: 0.05,
    perGbMonthStorage: 0.1,
  },
  mskProvisioned: { source: src, perBrokerHour: { 'kafka.m7g.large': 0.2 }, perGbMonthStorage: 0.1 },
  mskExpress: {
    source: src,
    perBrokerHour: { 'express.m7g.large': 0.4 },
    perGbDataIn: 0.01,
    perGbMonthStorage: 0.1,
  },
  flink: {
    source: src,
    perKpuHour: 0.1,
    orchestrationKpusPerApplication: 1,
    runningStorageGbPerKpu: 50,
    perGbMonthRunningStorage: 0.1,
  },
  firehose: {
    source: src,
    perGbIngestedFromMsk: 0.05,
    perGbFormatConversion: 0.02,
    formatConversionIncrementBytes: 5120,
  },
};

function config(overrides: Record<string, unknown> = {}): EnvironmentConfig {
  return parseEnvironmentConfig(
    {
      name: 'fixture',
      removalPolicy: 'destroy',
      kafka: {
        mode: 'serverless',
        topics: {
          rawEvents: { name: 'raw', partitions: 2 },
          enrichedEvents: { name: 'enriched', partitions: 2 },
          alerts: { name: 'alerts', partitions: 1 },
        },
      },
      consumers: {
        // A poller per partition, each filling a 1,000-record batch in 2 s at 1,000 ev/s: the
        // profile's partition-batch, so the figures below are the profile's per event.
        defaults: { batchSize: 1000, maxBatchingWindowSeconds: 2, minimumPollers: 2, maximumPollers: 2 },
      },
      ...overrides,
    },
    'fixture',
  );
}

/** The estimate of `cfg` at `rate` ev/s, from the round-number profile and prices above. */
function estimateAt(
  rate: number,
  cfg: EnvironmentConfig = config(),
  extra: Partial<Omit<Parameters<typeof estimateCost>[0], 'config' | 'ratePerSecond'>> = {},
) {
  return estimateCost({
    config: cfg,
    profile: PROFILE,
    prices: PRICES,
    ratePerSecond: rate,
    customMetrics: 0,
    ...extra,
  });
}

function line(items: readonly LineItem[], stack: LineItem['stack'], prefix: string): LineItem {
  const found = items.filter((i) => i.stack === stack && `${i.service}: ${i.item}`.startsWith(prefix));
  expect(found, `${stack} ${prefix}`).toHaveLength(1);
  return found[0]!;
}

describe('tidewater cost: the model', () => {
  it('prices DynamoDB units per event, failed conditional writes and deletes included', () => {
    // Act
    const est = estimateAt(1000, config(), { customMetrics: 21 });

    // Assess: E = 1,000 × 2,628,000 = 2.628e9 events; (1 + 0.5 + 0.5) WRU each at $1/M; 2 RRU at $0.5/M
    expect(est.eventsPerMonth).toBe(2.628e9);
    const wru = line(est.lineItems, 'tidewater', 'DynamoDB: write');
    expect(wru.quantity).toBeCloseTo(5256, 6);
    expect(wru.usdPerMonth).toBeCloseTo(5256, 6);
    expect(wru.usdPerMillionEvents).toBeCloseTo(2, 9);
    expect(wru.kind).toBe('variable');
    expect(line(est.lineItems, 'tidewater', 'DynamoDB: read').usdPerMonth).toBeCloseTo(2628, 6);
  });

  it('prices fixed hours of the cluster and the pollers whatever the rate', () => {
    // Act
    const est = estimateAt(1000, config(), { customMetrics: 21 });

    // Assess: 730 h × $0.75; 5 partitions × 730 h × $0.0015; 4 mappings × 1 EPU × 730 h × $0.1
    const cluster = line(est.lineItems, 'tidewater', 'MSK Serverless: cluster-hours');
    expect(cluster).toMatchObject({ kind: 'fixed', quantity: 730, priceVerified: true });
    expect(cluster.usdPerMonth).toBeCloseTo(547.5, 9);
    expect(line(est.lineItems, 'tidewater', 'MSK Serverless: partition-hours').usdPerMonth).toBeCloseTo(
      5.475,
      9,
    );
    const pollers = line(est.lineItems, 'tidewater', 'Lambda: event poller units');
    expect(pollers).toMatchObject({ kind: 'fixed', quantity: 2920, priceVerified: false });
    expect(pollers.usdPerMonth).toBeCloseTo(292, 9);
    // MSK data: 200 B in and 400 B out per event → 525.6 GB × $0.1 and 1,051.2 GB × $0.05
    expect(line(est.lineItems, 'tidewater', 'MSK Serverless: data in').usdPerMonth).toBeCloseTo(52.56, 6);
    expect(line(est.lineItems, 'tidewater', 'MSK Serverless: data out').usdPerMonth).toBeCloseTo(52.56, 6);
  });

  it('charges more requests per event when the rate cannot fill a batch in one window', () => {
    // Act: at 1,000 ev/s each poller fills 1,000-record batches in its 2 s window; at 500 ev/s, half batches
    const full = estimateAt(1000, config(), { customMetrics: 0 });
    const half = estimateAt(500, config(), { customMetrics: 0 });

    // Assess: 2.628e9 × 0.004 = 10.512M requests; at 500 ev/s the same count for half the events
    expect(line(full.lineItems, 'tidewater', 'Lambda: requests').quantity).toBeCloseTo(10.512, 9);
    expect(line(half.lineItems, 'tidewater', 'Lambda: requests').quantity).toBeCloseTo(10.512, 9);
    expect(half.consumers.map((c) => c.partitionBatch)).toEqual([500, 500, 500, 500]);
    // S3 PUT + other: 0.003 per event → 7,884k requests × $0.005 = $39.42 at 1,000 ev/s
    expect(line(full.lineItems, 'tidewater', 'S3: PUT').usdPerMonth).toBeCloseTo(39.42, 6);
    expect(line(half.lineItems, 'tidewater', 'S3: PUT').usdPerMillionEvents).toBeCloseTo(
      2 * line(full.lineItems, 'tidewater', 'S3: PUT').usdPerMillionEvents,
      9,
    );
  });

  it('sizes Managed Flink in KPUs at the stated events/s per KPU, plus one orchestration KPU', () => {
    // Act
    const est = estimateAt(12_000, config(), { flinkEventsPerKpu: 5000 });

    // Assess: ceil(12,000 / 5,000) = 3 KPU × 730 h × $0.1 = $219; orchestration $73; storage 150 GB × $0.1
    expect(line(est.lineItems, 'flink', 'Managed Flink: KPU-hours').usdPerMonth).toBeCloseTo(219, 9);
    expect(line(est.lineItems, 'flink', 'Managed Flink: orchestration').usdPerMonth).toBeCloseTo(73, 9);
    expect(line(est.lineItems, 'flink', 'Managed Flink: running').usdPerMonth).toBeCloseTo(15, 9);
    // Flink still needs the cluster: its fixed hours are in its total too
    expect(line(est.lineItems, 'flink', 'MSK Serverless: cluster-hours').usdPerMonth).toBeCloseTo(547.5, 9);
    const sum = est.lineItems.filter((i) => i.stack === 'flink').reduce((n, i) => n + i.usdPerMonth, 0);
    expect(est.totals.flink).toBeCloseTo(sum, 9);
  });

  it('bills Firehose format conversion per 5 KB record and ingestion per byte', () => {
    // Act
    const est = estimateAt(1000, config(), { customMetrics: 0 });

    // Assess: 2.628e9 × 100 B = 262.8 GB × $0.05; 2.628e9 × 5,120 B = 13,455.36 GB × $0.02
    expect(line(est.lineItems, 'firehose', 'Firehose: ingestion').usdPerMonth).toBeCloseTo(13.14, 6);
    expect(line(est.lineItems, 'firehose', 'Firehose: format conversion').usdPerMonth).toBeCloseTo(
      269.1072,
      6,
    );
    expect(est.totals.firehose).toBeCloseTo(13.14 + 269.1072, 6);
  });

  it('scales Kafka bytes with --bytes-per-event but not the DynamoDB units', () => {
    // Act
    const est = estimateAt(1000, config(), { customMetrics: 0, bytesPerEvent: 300 });

    // Assess: 3x the profile's 100 B
    expect(line(est.lineItems, 'tidewater', 'MSK Serverless: data in').usdPerMonth).toBeCloseTo(3 * 52.56, 6);
    expect(line(est.lineItems, 'tidewater', 'DynamoDB: write').usdPerMonth).toBeCloseTo(5256, 6);
  });

  it('prices a provisioned state table by the capacity the rate needs, and warns above its max', () => {
    // Prepare: 1,000 ev/s × 2 WRU = 2,000 WCU/s at 70 % → 2,858 WCU, above max 1,000
    const cfg = config({
      stateTable: { billing: 'provisioned', read: { min: 5, max: 10_000 }, write: { min: 5, max: 1000 } },
    });

    // Act
    const est = estimateAt(1000, cfg, { customMetrics: 0 });

    // Assess: capped at 1,000 WCU × 730 h × $0.001; reads 2,000/0.7 → 2,858 RCU × 730 × $0.0002
    const wcu = line(est.lineItems, 'tidewater', 'DynamoDB: provisioned write');
    expect(wcu).toMatchObject({ kind: 'fixed', quantity: 730_000 });
    expect(wcu.usdPerMonth).toBeCloseTo(730, 9);
    expect(line(est.lineItems, 'tidewater', 'DynamoDB: provisioned read').usdPerMonth).toBeCloseTo(
      2858 * 730 * 0.0002,
      9,
    );
    expect(est.warnings.join('\n')).toMatch(/stateTable\.write\.max 1000 is below the 2858 units/);
  });

  it('warns when a mapping needs more pollers or concurrency than it may have', () => {
    // Act: 50 concurrent invocations per consumer (200k ev/s × 0.001 GB-s / 4 / 1 GB)
    const est = estimateAt(200_000, config(), { customMetrics: 0 });

    // Assess
    expect(est.warnings.join('\n')).toMatch(/ingest: needs 10 pollers at this rate, above maximumPollers 2/);
    expect(est.warnings.join('\n')).toMatch(
      /cep: needs 50\.0 concurrent invocations, above its 2 partitions/,
    );
  });

  it('charges per partition-batch: an invocation spreads its records over the poller’s partitions', () => {
    // Prepare: 8 partitions, 2 pollers: an invocation carries 4 partitions' records
    const topics = {
      rawEvents: { name: 'raw', partitions: 8 },
      enrichedEvents: { name: 'enriched', partitions: 8 },
      alerts: { name: 'alerts', partitions: 1 },
    };
    const cfg = config({ kafka: { mode: 'serverless', topics } });

    // Act
    const est = estimateAt(1000, cfg, { customMetrics: 0 });

    // Assess: 1,000 records per invocation / 4 partitions = 250-record partition-batches, a
    // quarter of the profile's 1,000: 4× its S3 requests and DynamoDB units per event, the same
    // Lambda requests (invocations still hold 1,000 records)
    expect(est.consumers.map((c) => [c.partitionsPerInvocation, c.partitionBatch])).toEqual(
      Array.from({ length: 4 }, () => [4, 250]),
    );
    expect(line(est.lineItems, 'tidewater', 'S3: PUT').usdPerMonth).toBeCloseTo(4 * 39.42, 6);
    expect(line(est.lineItems, 'tidewater', 'DynamoDB: write').usdPerMonth).toBeCloseTo(4 * 5256, 6);
    expect(line(est.lineItems, 'tidewater', 'Lambda: requests').quantity).toBeCloseTo(10.512, 9);
  });

  it('bills one poller group’s pollers together, and each invocation’s wait at its memory', () => {
    // Prepare: every mapping in group "g" (2 pollers each: 8 ≤ 10 per EPU); 100 ms of waits
    const cfg = config({
      consumers: {
        defaults: {
          batchSize: 1000,
          maxBatchingWindowSeconds: 2,
          minimumPollers: 2,
          maximumPollers: 2,
          pollerGroupName: 'g',
        },
      },
    });
    const profile = { ...PROFILE, lambda: { ...PROFILE.lambda, waitMsPerInvocation: 100 } };

    // Act
    const est = estimateAt(1000, cfg, { profile });

    // Assess: 1 EPU × 730 h; GB-s = the CPU part (0.001 − 0.004 × 0.1 s = 0.0006 per event)
    // × 2.628e9 + 4 invocations/s × 2,628,000 s × 0.1 s × 1 GB
    expect(line(est.lineItems, 'tidewater', 'Lambda: event poller units').quantity).toBe(730);
    expect(line(est.lineItems, 'tidewater', 'Lambda: compute').quantity).toBeCloseTo(
      0.0006 * 2.628e9 + 4 * 2_628_000 * 0.1,
      3,
    );
  });

  it('counts the custom metric series of the contract', () => {
    // 3 layers × 2 + 5 patterns + windows + DeadLettered + Duplicates + 4 consumers' conflicts
    // + 3 stateful consumers' cold loads and snapshots
    expect(customMetricCount(3)).toBe(26);
    expect(customMetricCount(0)).toBe(23);
  });
});

describe('tidewater cost: inputs', () => {
  it.each([
    ['10000', 10_000],
    ['10_000', 10_000],
    ['10k', 10_000],
    ['1.5M', 1_500_000],
    ['0.5', 0.5],
  ])('reads the rate %j', (text, expected) => {
    expect(parseEventsPerSecond(text)).toBe(expected);
  });

  it.each(['0', '-5', 'abc', '10x', ''])('refuses the rate %j, showing it', (text) => {
    expect(() => parseEventsPerSecond(text)).toThrow(UserError);
    expect(() => parseEventsPerSecond(text)).toThrow(`got "${text}"`);
  });

  it('reads the committed work profile and price file', () => {
    const profile = readWorkProfile(
      fileURLToPath(new URL('../../../bench/work-profile.json', import.meta.url)),
    );
    expect(profile.batchSize).toBe(2000);
    expect(profile.dynamodb.wruPerEvent).toBeGreaterThan(0);
    const prices = readPrices();
    expect(prices.mskExpress.perBrokerHour['express.m7g.large']).toBeGreaterThan(0);
    expect(prices.mskProvisioned.perBrokerHour['kafka.m7g.large']).toBeGreaterThan(0);
  });

  it('writes the profile of a bench run from its meter, listing what was not metered', () => {
    // Act
    const profile = workProfileFromMeasurement({
      command: 'npm run bench -- local-stack --events 50000 --batch 2000 --pollers 3',
      events: 50_000,
      batchSize: 2000,
      pollers: 3,
      rawBytes: 9_300_000,
      meter: {
        wru: 94_000,
        wruByCommand: { BatchWriteItem: 94_000 },
        rru: 93_500,
        s3Put: 221,
        s3Get: 87,
        s3Other: 59,
        sqsChunks: 0,
      },
      invocations: 136,
      gbSeconds: 253.1,
      memoryMiB: 1024,
      measuredAt: '2026-12-04',
    });

    // Assess
    expect(profile.dynamodb.wruPerEvent).toBeCloseTo(1.88, 9);
    expect(profile.dynamodb.wruShareByCommand).toEqual({ BatchWriteItem: 1 });
    expect(profile.s3.putPerEvent).toBeCloseTo(0.00442, 9);
    expect(profile.lambda.invocationsPerEvent).toBeCloseTo(0.00272, 9);
    expect(profile.lambda.gbSecondsPerEvent * 1e6).toBeCloseTo(5062, 6);
    expect(profile.kafka).toEqual({ bytesInPerEvent: 372, bytesOutPerEvent: 744 });
    expect(profile.notMetered).toEqual([
      'dynamodb.failedConditionalWru',
      'dynamodb.deleteWru',
      'storage.retainedStateBytes',
      'storage.lakeBytes',
    ]);
  });
});

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function tidewater(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tidewater cost: the command', () => {
  it('prints exactly one JSON object with the three totals and the line items', async () => {
    // Act
    const o = await tidewater('cost', '--env', 'prod', '--rate', '10000', '--json');

    // Assess
    expect(o.code).toBe(0);
    const lines = o.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as Record<string, unknown> & { line_items: Record<string, unknown>[] };
    for (const key of ['tidewater_usd_per_month', 'flink_usd_per_month', 'firehose_bronze_usd_per_month'])
      expect(out[key]).toBeGreaterThan(0);
    const sum = out.line_items
      .filter((i) => i['stack'] === 'tidewater')
      .reduce((n, i) => n + (i['usd_per_month'] as number), 0);
    expect(out['tidewater_usd_per_month']).toBeCloseTo(sum, 6);
    expect(new Set(out.line_items.map((i) => i['kind']))).toEqual(new Set(['fixed', 'variable']));
    expect(out.line_items.find((i) => String(i['item']).startsWith('broker-hours'))).toMatchObject({
      service: 'MSK Express',
      kind: 'fixed',
      quantity: 3 * 730,
    });
  });

  it('names the missing environment file, on one line, with exit code 2', async () => {
    const o = await tidewater('cost', '--env', 'nope', '--rate', '10');
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(
      /^tidewater: unknown environment "nope": no \S*config\/environments\/nope\.yaml/,
    );
    expect(o.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('shows a bad rate, on one line, with exit code 2 and no stack trace', async () => {
    const o = await tidewater('cost', '--env', 'prod', '--rate', 'fast');
    expect(o.code).toBe(2);
    expect(o.stderr.trim()).toBe(
      'tidewater: --rate expects a number of events per second above 0, e.g. 10000 or 10k, got "fast"',
    );
  });

  it('names the file of an invalid work profile', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'tw-cost-'));
    const file = join(dir, 'profile.json');
    writeFileSync(file, JSON.stringify({ ...PROFILE, batchSize: 0 }));

    // Act
    const o = await tidewater('cost', '--env', 'dev', '--rate', '10', '--profile', file);

    // Assess
    expect(o.code).toBe(2);
    expect(o.stderr.trim()).toMatch(new RegExp(`^tidewater: invalid work profile ${file}: batchSize: `));
  });
});
