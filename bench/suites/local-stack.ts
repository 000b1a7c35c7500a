/**
 * End to end on the local stack (issue 6): generated events produced to the real broker, consumed
 * by the local event source mapping through the four consumers on the emulator, until idle.
 * Reports events/s end to end, DynamoDB write/read units per event, S3 PUTs per 1k events, and
 * the AWS variable cost per million events from `bench/prices.json`.
 *
 *   npm run bench -- local-stack [--events 50000] [--batch 500] [--pollers N] [--invocations-per-poller N]
 *     [--env prod] [--json] [--write-profile <path>]
 *
 * `--env` names the deployment the run is priced as (its Kafka cluster's per-byte prices; prod:
 * MSK Express). Counts are taken while the events flow: the end-of-run flush that makes the run's
 * gold complete (open windows and sessions, deferred rows) is the bench's, not a deployment's (a
 * stream has no end), and is reported apart (`final_flush_s3_puts`).
 *
 * `--pollers N` runs every mapping with N event pollers (default 1, the `local` environment's).
 * Each poller runs up to 5 invocations at once over partitions of its own, as on AWS, so the
 * partitions are invoked concurrently either way, which is when the windows consumer's shared
 * state is contended: its invocations take turns with a lease, and `state write conflicts` shows
 * any attempt still redone.
 *
 * Uses the local stack that answers, or starts it like `tidewater stack up` (and leaves it
 * running: `tidewater stack down` stops it).
 *
 * How the counts are taken: SDK middleware on the consumers' clients counts every request.
 * Capacity units are computed as DynamoDB bills them (the emulator reports none): a write costs
 * ceil(item size / 1 KB) WRU, an UpdateItem the larger of the item before and after; a strongly
 * consistent read ceil(size / 4 KB) RRU. Lambda GB-s use the template's 1024 MiB and the process's
 * CPU time while the consumers ran (concurrent invocations wait for the 2 shared cores here, so
 * their wall times overstate the work), scaled to the 0.58 vCPU of a 1 GB function, plus an assumed
 * 110 ms of AWS round trips per invocation. Kafka counts raw bytes twice (raw + enriched topics; an enriched record is about
 * the size of its raw record), each read by two consumers, and leaves out fixed hours.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import { produceEvents } from '../../cli/commands/produce.ts';
import {
  CONSUMER_IDS,
  type ConsumerId,
  createLocalResources,
  localClients,
  startLocalPipeline,
} from '../../cli/commands/run-local.ts';
import { GeneratorSource } from '../../functions/adapters/embedded/index.ts';
import { MetricsCollector } from '../../functions/adapters/embedded/metrics-collector.ts';
import type { AwsClients } from '../../functions/commons/clients.ts';
import { generateEvents, type LambdaKafkaEvent, loadDomain } from '../../functions/core/index.ts';
import { flushRun } from '../../functions/handlers/lib/consumers.ts';
import { type EnvironmentConfig, loadEnvironmentConfig } from '../../lib/config/environment-config.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import type { LocalKafkaHandler } from '../../localstack/esm/index.ts';
import { InvocationTimeline } from '../../localstack/esm/timeline.ts';
import { ensureStack } from '../../localstack/stack.ts';
import { ensurePipelineTopics } from '../../localstack/topics.ts';
import { argValue, type BenchSuite } from '../suite.ts';

type KafkaMode = EnvironmentConfig['kafka']['mode'];

import { writeWorkProfile } from '../work-profile.ts';

interface Prices {
  region: string;
  asOf: string;
  lambda: { perGbSecond: number; perMillionRequests: number };
  dynamodb: { perMillionWriteRequestUnits: number; perMillionReadRequestUnits: number };
  dynamodbProvisioned: { perWcuHour: number; perRcuHour: number; utilization: number };
  s3: { perThousandPutCopyPostList: number; perThousandGetSelect: number };
  sqs: { perMillionRequests: number; requestChunkBytes: number };
  mskServerless: { perGbIn: number; perGbOut: number; perGbMonthStorage: number };
  mskExpress: { perGbDataIn: number; perGbMonthStorage: number };
}

/** A function's share of a vCPU at 1024 MB: Lambda gives one vCPU at 1,769 MB, in proportion below. */
const LAMBDA_VCPU_AT_1GB = 1024 / 1769;

/**
 * What one invocation waits for AWS, ms (assumed, not measured: the emulator answers on loopback):
 * the commit point's three DynamoDB round trips (~10 ms each), one round of parallel S3 PUTs
 * (~60 ms) and a Kafka produce (~20 ms), typical same-region latencies.
 */
const LAMBDA_AWS_WAIT_MS = 110;

/** Days of Kafka retention the topics keep (Kafka's default `retention.ms`; the topics set none). */
const KAFKA_RETENTION_DAYS = 7;

/**
 * The variable Kafka cost of `bytesIn` written (raw + enriched topics) and `bytesOut` read, as the
 * environment's cluster bills it: Serverless per GB in and out and stored; Express per GB in and
 * stored; provisioned and self-managed nothing per byte (broker-hours and disks are fixed).
 */
export function kafkaVariableUsd(
  mode: KafkaMode,
  bytesIn: number,
  bytesOut: number,
  prices: Pick<Prices, 'mskServerless' | 'mskExpress'>,
): number {
  const gbIn = bytesIn / 1e9;
  const storedGbMonths = (gbIn * KAFKA_RETENTION_DAYS) / (365 / 12);
  if (mode === 'serverless') {
    const p = prices.mskServerless;
    return gbIn * p.perGbIn + (bytesOut / 1e9) * p.perGbOut + storedGbMonths * p.perGbMonthStorage;
  }
  if (mode === 'express') {
    const p = prices.mskExpress;
    return gbIn * p.perGbDataIn + storedGbMonths * p.perGbMonthStorage;
  }
  return 0;
}

const PRICES = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'prices.json'), 'utf8'),
) as Prices;

/** DynamoDB's item size: attribute names plus values (numbers ~ digits/2 + 1, binary its bytes). */
export function attributeSize(v: AttributeValue | undefined): number {
  if (v === undefined) return 0;
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined) return 3 + v.L.reduce((n, x) => n + 1 + attributeSize(x), 0);
  if (v.M !== undefined)
    return 3 + Object.entries(v.M).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + attributeSize(x), 0);
  return 0;
}

export function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + attributeSize(v), 0);
}

interface Meter {
  wru: number;
  /** WRU by state item owner (`pk` = `state#<consumer>`) and by command. */
  wruBy: Record<string, number>;
  wruByCommand: Record<string, number>;
  rru: number;
  dynamoRequests: number;
  s3Put: number;
  s3Get: number;
  s3Other: number;
  /** DeleteObject(s): free on S3, counted apart. */
  s3Delete: number;
  /** PUTs of state objects (`ops/state/`) and of window partials (`ops/partials/`). */
  s3StatePut: number;
  /** PUTs by key prefix (the table, or `ops/<kind>/<consumer>`): where the requests go. */
  s3PutBy: Record<string, number>;
  /** Bytes of state objects written: each is superseded in time and kept as a noncurrent version. */
  stateBytes: number;
  /** Write units of conditional writes that failed (billed all the same). */
  failedWru: number;
  /** Parquet bytes written to the layers (bronze, silver, gold; ops/ aside). */
  lakeBytes: number;
  sqsRequests: number;
  sqsChunks: number;
}

/** A PUT's key, cut to what it writes: `silver/events`, `ops/state/enrich`, `ops/partials`. */
export function putPrefix(key: string): string {
  const parts = key.split('/');
  return parts.slice(0, parts[0] === 'ops' && parts[1] === 'state' ? 3 : 2).join('/');
}

/** `a 60%, b 40%`: each part's share of `total`, largest first. */
function shares(parts: Record<string, number>, total: number): string {
  return Object.entries(parts)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${Math.round((100 * n) / Math.max(1, total))}%`)
    .join(', ');
}

function meteredClients(meter: Meter): AwsClients {
  const c = localClients();
  const sizes = new Map<string, number>();
  const keyOf = (k: Record<string, AttributeValue> | undefined) => `${k?.['pk']?.S}|${k?.['sk']?.S}`;
  const charge = (k: Record<string, AttributeValue> | undefined, command: string, wru: number): void => {
    meter.wru += wru;
    meter.wruByCommand[command] = (meter.wruByCommand[command] ?? 0) + wru;
    // `state#enrich` -> enrich; the items per event id (`dedup#...`) and per CEP key (`cep#...`);
    // the windows consumer's shared state (`<topic>#*`) apart from its per-partition sessions.
    const pk = k?.['pk']?.S ?? '?';
    const owner =
      pk === 'state#windows'
        ? k?.['sk']?.S?.endsWith('#*')
          ? 'windows shared'
          : 'windows sessions'
        : pk
            .replace(/^state#/, '')
            .replace(/^dedup#.*/, 'dedup ids')
            .replace(/^cep#.*/, 'cep keys');
    meter.wruBy[owner] = (meter.wruBy[owner] ?? 0) + wru;
  };
  const at = { step: 'initialize', name: 'meter' } as const;
  c.dynamodb.middlewareStack.add(
    (next, ctx) => async (args) => {
      meter.dynamoRequests++;
      const input = args.input as {
        Item?: Record<string, AttributeValue>;
        Key?: Record<string, AttributeValue>;
        ExpressionAttributeValues?: Record<string, AttributeValue>;
      };
      let out: Awaited<ReturnType<typeof next>>;
      try {
        out = await next(args);
      } catch (err) {
        // A failed condition is billed like the write (at least 1 unit).
        if ((err as Error).name === 'ConditionalCheckFailedException') {
          const size = input.Item ? itemSize(input.Item) : (sizes.get(keyOf(input.Key)) ?? 0);
          meter.failedWru += Math.max(1, Math.ceil(size / 1024));
        }
        throw err;
      }
      if (ctx.commandName === 'PutItemCommand' && input.Item) {
        const size = itemSize(input.Item);
        sizes.set(keyOf(input.Item), size);
        charge(input.Item, 'PutItem', Math.max(1, Math.ceil(size / 1024)));
      } else if (ctx.commandName === 'UpdateItemCommand') {
        const before = sizes.get(keyOf(input.Key)) ?? 0;
        const added = Object.values(input.ExpressionAttributeValues ?? {}).reduce(
          (n, v) => n + attributeSize(v),
          0,
        );
        const after = before + added;
        sizes.set(keyOf(input.Key), after);
        charge(input.Key, 'UpdateItem', Math.max(1, Math.ceil(Math.max(before, after) / 1024)));
      } else if (ctx.commandName === 'GetItemCommand') {
        const item = (out.output as { Item?: Record<string, AttributeValue> }).Item;
        meter.rru += Math.max(1, Math.ceil((item ? itemSize(item) : 0) / 4096));
      } else if (ctx.commandName === 'BatchWriteItemCommand') {
        // Each put of the request that was processed (unprocessed ones come back and are resent).
        const requests = (args.input as { RequestItems?: Record<string, WriteRequest[]> }).RequestItems ?? {};
        const unprocessed = new Set(
          Object.values(
            (out.output as { UnprocessedItems?: Record<string, WriteRequest[]> }).UnprocessedItems ?? {},
          )
            .flat()
            .map((r) => keyOf(r.PutRequest?.Item)),
        );
        for (const r of Object.values(requests).flat()) {
          const item = r.PutRequest?.Item;
          if (item === undefined || unprocessed.has(keyOf(item))) continue;
          charge(item, 'BatchWriteItem', Math.max(1, Math.ceil(itemSize(item) / 1024)));
        }
      } else if (ctx.commandName === 'BatchGetItemCommand') {
        // A consistent read of every key asked for, found or not (at least 1 unit each).
        const requests =
          (args.input as { RequestItems?: Record<string, { Keys?: unknown[] }> }).RequestItems ?? {};
        const asked = Object.values(requests).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
        const left = Object.values(
          (out.output as { UnprocessedKeys?: Record<string, { Keys?: unknown[] }> }).UnprocessedKeys ?? {},
        ).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
        meter.rru += asked - left;
      }
      return out;
    },
    at,
  );
  c.s3.middlewareStack.add(
    (next, ctx) => async (args) => {
      const input = args.input as { Key?: string; Body?: Uint8Array };
      if (ctx.commandName === 'PutObjectCommand') {
        meter.s3Put++;
        const prefix = putPrefix(input.Key ?? '');
        meter.s3PutBy[prefix] = (meter.s3PutBy[prefix] ?? 0) + 1;
        if (input.Key?.startsWith('ops/state/') || input.Key?.startsWith('ops/partials/')) meter.s3StatePut++;
        if (input.Key?.startsWith('ops/state/')) meter.stateBytes += input.Body?.byteLength ?? 0;
        else if (!input.Key?.startsWith('ops/')) meter.lakeBytes += input.Body?.byteLength ?? 0;
      } else if (ctx.commandName === 'GetObjectCommand') meter.s3Get++;
      else if (ctx.commandName === 'DeleteObjectCommand' || ctx.commandName === 'DeleteObjectsCommand')
        meter.s3Delete++;
      else meter.s3Other++;
      return next(args);
    },
    at,
  );
  c.sqs.middlewareStack.add(
    (next) => async (args) => {
      meter.sqsRequests++;
      const entries = (args.input as { Entries?: { MessageBody?: string }[] }).Entries ?? [];
      const bytes = entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? ''), 0);
      meter.sqsChunks += Math.max(1, Math.ceil(bytes / PRICES.sqs.requestChunkBytes));
      return next(args);
    },
    at,
  );
  return c;
}

let lastSummary: Record<string, unknown> | undefined;

export const suite: BenchSuite = {
  name: 'local-stack',
  summary: () => lastSummary,
  description:
    'end to end on the local stack (broker + local ESM + emulator): events/s, DynamoDB units, S3 PUTs, AWS cost',
  async run(ctx) {
    const events = Number(argValue(ctx.args, 'events', '50000'));
    const batch = Number(argValue(ctx.args, 'batch', '500'));
    const pollers = Number(argValue(ctx.args, 'pollers', '1'));
    // 1: each mapping invokes one batch at a time (per-batch times without sibling invocations).
    const invocationsPerPoller = Number(argValue(ctx.args, 'invocations-per-poller', '5'));
    // The deployment the run is priced as: its Kafka cluster's per-byte prices (prod: MSK Express).
    const envName = argValue(ctx.args, 'env', 'prod');
    const kafkaMode = loadEnvironmentConfig(envName).kafka.mode;
    const domain = loadDomain('payments');
    const gen = { seed: 1, poisonRate: 0.001, duplicateRate: 0.002, anomalies: true } as const;
    await ensureStack((line) => ctx.log(`[local stack] ${line}`));
    const { kafkaBrokers } = endpoints();
    const id = `bench-${randomUUID().slice(0, 8)}`;
    const topics = await ensurePipelineTopics(id, kafkaBrokers);
    const plain = localClients();
    const resources = await createLocalResources(plain, id);
    const meter: Meter = {
      wru: 0,
      wruBy: {},
      wruByCommand: {},
      rru: 0,
      dynamoRequests: 0,
      s3Put: 0,
      s3Get: 0,
      s3Other: 0,
      s3Delete: 0,
      s3StatePut: 0,
      s3PutBy: {},
      stateBytes: 0,
      failedWru: 0,
      lakeBytes: 0,
      sqsRequests: 0,
      sqsChunks: 0,
    };
    const lambda = { invocations: 0, ms: 0 };
    /** Per consumer: invocations, records and in-process ms (the ceiling estimate). */
    const byConsumer: Record<string, { invocations: number; records: number; ms: number }> = {};
    const metered = meteredClients(meter);
    // Windows invocations on a timeline: do those of different partitions overlap (no waiting)?
    const timeline = new InvocationTimeline();
    const wrap = (id: ConsumerId, h: LocalKafkaHandler): LocalKafkaHandler => {
      const timed: LocalKafkaHandler = async (event, context) => {
        const t0 = performance.now();
        try {
          return await h(event, context);
        } finally {
          const ms = performance.now() - t0;
          lambda.invocations++;
          lambda.ms += ms;
          const c = byConsumer[id] ?? { invocations: 0, records: 0, ms: 0 };
          byConsumer[id] = c;
          c.invocations++;
          c.ms += ms;
          for (const list of Object.values((event as LambdaKafkaEvent).records ?? {}))
            c.records += list.length;
        }
      };
      return id === 'windows' ? timeline.wrap(timed) : timed;
    };
    let rawBytes = 0;
    for (const g of generateEvents(domain, events, gen))
      rawBytes += Buffer.byteLength(g.value) + Buffer.byteLength(g.key);
    const collected = new MetricsCollector();
    const pipeline = await startLocalPipeline({
      domain,
      clients: plain,
      clientsFor: () => metered,
      resources,
      topics,
      brokers: kafkaBrokers,
      rawPartitions: 3,
      groupPrefix: id,
      wrap,
      mapping: { batchSize: batch, maximumBatchingWindowInSeconds: 0.5, pollers, invocationsPerPoller },
      metrics: collected,
    });
    ctx.log(`local-stack: producing ${events} events and consuming them (batch ${batch})`);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let cpuMs = 0;
    // The meter as the events flowed: the end-of-run flush (below) is the bench's, not a
    // deployment's (a stream has no end), so it is reported apart and priced nowhere.
    let flowing: Meter | undefined;
    try {
      await produceEvents({
        source: new GeneratorSource(domain, events, { ...gen, topic: topics.raw }),
        domain,
        topic: topics.raw,
      });
      await pipeline.running.waitUntilIdle({ timeoutMs: 1_800_000 });
      const cpu = process.cpuUsage(cpu0);
      cpuMs = (cpu.user + cpu.system) / 1000;
      flowing = structuredClone(meter);
      await flushRun(pipeline.deps, topics);
    } finally {
      await pipeline.stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const perMillion = 1_000_000 / events;
    const finalFlush = { s3Put: meter.s3Put - flowing.s3Put };
    const all = structuredClone(meter);
    Object.assign(meter, flowing);
    // Lambda bills each invocation's duration at its memory. Measured here: the CPU time of this
    // process while the consumers ran (it also holds the producer and the local mapping's polling:
    // an upper bound of the functions' work), not the invocations' wall times (they share 2 cores
    // with each other and the broker). Priced as a 1 GB function runs it: with 1024/1769 of a
    // vCPU, plus the round trips to AWS each invocation waits for (LAMBDA_AWS_WAIT_MS).
    const lambdaMs = cpuMs / LAMBDA_VCPU_AT_1GB + lambda.invocations * LAMBDA_AWS_WAIT_MS;
    const gbSeconds = (lambdaMs / 1000) * 1;
    const cost = {
      lambda:
        gbSeconds * PRICES.lambda.perGbSecond * perMillion +
        (lambda.invocations * perMillion * PRICES.lambda.perMillionRequests) / 1e6,
      dynamodb:
        ((meter.wru + meter.failedWru) * perMillion * PRICES.dynamodb.perMillionWriteRequestUnits) / 1e6 +
        (meter.rru * perMillion * PRICES.dynamodb.perMillionReadRequestUnits) / 1e6,
      s3:
        ((meter.s3Put + meter.s3Other) * perMillion * PRICES.s3.perThousandPutCopyPostList) / 1000 +
        (meter.s3Get * perMillion * PRICES.s3.perThousandGetSelect) / 1000,
      sqs: (meter.sqsChunks * perMillion * PRICES.sqs.perMillionRequests) / 1e6,
      // Written twice (raw, enriched), each read by two consumers; alerts are a few hundred.
      msk: kafkaVariableUsd(kafkaMode, rawBytes * 2 * perMillion, rawBytes * 4 * perMillion, PRICES),
    };
    const total = Object.values(cost).reduce((a, b) => a + b, 0);
    const profilePath = argValue(ctx.args, 'write-profile', '');
    if (profilePath !== '') {
      const command = `npm run bench -- local-stack ${ctx.args.join(' ')}`;
      const run = { command, events, batchSize: batch, pollers, rawBytes, invocations: lambda.invocations };
      writeWorkProfile(profilePath, {
        ...run,
        meter: {
          ...meter,
          failedConditionalWru: meter.failedWru,
          deleteWru: 0,
          retainedStateBytes: meter.stateBytes,
          lakeBytes: meter.lakeBytes,
        },
        gbSeconds,
        memoryMiB: 1024,
        waitMsPerInvocation: LAMBDA_AWS_WAIT_MS,
      });
    }
    // The state's own line items: its DynamoDB commit point and its S3 objects (state, partials).
    const stateCost =
      ((meter.wru + meter.failedWru) * perMillion * PRICES.dynamodb.perMillionWriteRequestUnits) / 1e6 +
      (meter.rru * perMillion * PRICES.dynamodb.perMillionReadRequestUnits) / 1e6 +
      (meter.s3StatePut * perMillion * PRICES.s3.perThousandPutCopyPostList) / 1000;
    const conflicts = collected.total('StateConflicts');
    lastSummary = {
      events,
      batch_size: batch,
      pollers,
      invocations: lambda.invocations,
      events_per_second: events / seconds,
      wru_per_event: (meter.wru + meter.failedWru) / events,
      rru_per_event: meter.rru / events,
      s3_puts_per_1k_events: (meter.s3Put * 1000) / events,
      // The end-of-run flush (open windows and sessions, deferred rows): the bench's, not a stream's.
      final_flush_s3_puts: finalFlush.s3Put,
      s3_puts_per_1k_events_with_final_flush: (all.s3Put * 1000) / events,
      priced_as: { env: envName, kafka: kafkaMode },
      lambda_ms_per_event: {
        wall_sum: lambda.ms / events,
        process_cpu: cpuMs / events,
        billed_at_1gb: lambdaMs / events,
      },
      s3_state_puts_per_1k_events: (meter.s3StatePut * 1000) / events,
      s3_puts_per_1k_events_by_prefix: Object.fromEntries(
        Object.entries(meter.s3PutBy)
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => [k, (n * 1000) / events]),
      ),
      usd_per_million_events: total,
      state_usd_per_million_events: stateCost,
      usd_per_million_events_by_service: cost,
      // The windows consumer has no lease any more: no invocation waits for another's state.
      lease_wait_ms: 0,
      conflicts,
      // Batches whose state was not warm in the execution environment that ran them (each
      // mapping's invocations run in simulated environments, one invocation each at a time).
      state_cold_loads: Object.fromEntries(
        ['enrich', 'windows', 'cep'].map((c) => [c, collected.get('StateColdLoads', { consumer: c })]),
      ),
      windows_overlap_ms: timeline.overlapMs(),
      // Records per second of one invocation of each consumer, in process on this host (a Lambda
      // of 1 GB has about 0.6 vCPU: about that share of it): with one invocation per partition at
      // a time, a consumer's ceiling is about partitions × this.
      records_per_second_per_invocation: Object.fromEntries(
        Object.entries(byConsumer).map(([c, v]) => [c, v.ms > 0 ? (v.records * 1000) / v.ms : 0]),
      ),
      windows_same_partition_overlaps: timeline.samePartitionOverlaps(),
    };
    const note = `${events} events, batch ${batch}, ${pollers} poller(s), ${lambda.invocations} invocations`;
    const priced = `prices ${PRICES.region} ${PRICES.asOf}`;
    return [
      { measure: 'end to end (produce → 4 consumers idle)', value: events / seconds, unit: 'ev/s', note },
      {
        measure: 'DynamoDB write units per event',
        value: meter.wru / events,
        unit: 'WRU',
        higherIsBetter: false,
        note: `${meter.wru} WRU (+${meter.failedWru} of failed conditions), ${meter.dynamoRequests} requests; by state: ${shares(meter.wruBy, meter.wru)}; by command: ${shares(meter.wruByCommand, meter.wru)}`,
      },
      {
        measure: 'state write conflicts per 1k invocations',
        value: (collected.total('StateConflicts') * 1000) / Math.max(1, lambda.invocations),
        unit: 'redo',
        higherIsBetter: false,
        note: `attempts redone after another invocation wrote the same state item first: ${CONSUMER_IDS.map(
          (c) => `${c} ${collected.get('StateConflicts', { consumer: c })}`,
        ).join(', ')}`,
      },
      {
        measure: 'DynamoDB read units per event',
        value: meter.rru / events,
        unit: 'RRU',
        higherIsBetter: false,
        note: `${meter.rru} RRU`,
      },
      {
        measure: 'S3 PUTs per 1k events',
        value: (meter.s3Put * 1000) / events,
        unit: 'PUT',
        higherIsBetter: false,
        note: `${meter.s3Put} PUT (${meter.s3StatePut} of state and partials), ${meter.s3Get} GET, ${meter.s3Other} other (LIST...), ${meter.s3Delete} DELETE (free), while the events flowed; the end-of-run flush ${finalFlush.s3Put} PUT more`,
      },
      {
        measure: 'windows invocations of different partitions running at once',
        value: timeline.overlapMs(),
        unit: 'ms',
        note: `${timeline.invocations} windows invocations; ${timeline.samePartitionOverlaps()} of one partition at once (must be 0); no lease: nothing waits`,
      },
      {
        measure: 'AWS variable cost per 1M events: the state (DynamoDB + state/partial PUTs)',
        value: stateCost,
        unit: 'USD',
        higherIsBetter: false,
      },
      {
        measure: 'Lambda GB-s per 1M events (1024 MiB, in-process time)',
        value: gbSeconds * perMillion,
        unit: 'GB-s',
        higherIsBetter: false,
        note: `the process's CPU time while the consumers ran (${Math.round(cpuMs)} ms; their summed wall time ${Math.round(lambda.ms)} ms) at ${LAMBDA_VCPU_AT_1GB.toFixed(2)} vCPU, plus ${LAMBDA_AWS_WAIT_MS} ms of AWS round trips per invocation`,
      },
      {
        measure: 'AWS variable cost per 1M events: Lambda',
        value: cost.lambda,
        unit: 'USD',
        higherIsBetter: false,
        note: priced,
      },
      {
        measure: 'AWS variable cost per 1M events: DynamoDB',
        value: cost.dynamodb,
        unit: 'USD',
        higherIsBetter: false,
        note: priced,
      },
      {
        // A capacity unit serves 3,600 requests an hour at 100 %; auto scaling keeps `utilization`.
        measure: 'AWS variable cost per 1M events: DynamoDB provisioned (steady load)',
        value:
          ((meter.wru * perMillion) / 3600 / PRICES.dynamodbProvisioned.utilization) *
            PRICES.dynamodbProvisioned.perWcuHour +
          ((meter.rru * perMillion) / 3600 / PRICES.dynamodbProvisioned.utilization) *
            PRICES.dynamodbProvisioned.perRcuHour,
        unit: 'USD',
        higherIsBetter: false,
        note: `${priced}; stateTable.billing: provisioned at ${PRICES.dynamodbProvisioned.utilization * 100} % utilization, instead of the on-demand line above (not in the total)`,
      },
      {
        measure: 'AWS variable cost per 1M events: S3',
        value: cost.s3,
        unit: 'USD',
        higherIsBetter: false,
        note: priced,
      },
      {
        measure: 'AWS variable cost per 1M events: SQS',
        value: cost.sqs,
        unit: 'USD',
        higherIsBetter: false,
        note: priced,
      },
      {
        measure: `AWS variable cost per 1M events: Kafka (${envName}: MSK ${kafkaMode})`,
        value: cost.msk,
        unit: 'USD',
        higherIsBetter: false,
        note: `${priced}; bytes in, out and stored ${KAFKA_RETENTION_DAYS} days as ${kafkaMode} bills them; broker, cluster and partition hours are fixed, excluded`,
      },
      {
        measure: 'AWS variable cost per 1M events: total',
        value: total,
        unit: 'USD',
        higherIsBetter: false,
        note: priced,
      },
    ];
  },
};
