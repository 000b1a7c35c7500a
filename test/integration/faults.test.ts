/**
 * Effectively-once under faults, on the local stack: the same input runs once cleanly and once
 * with handlers failing before their work, after it (the batch is redelivered although applied),
 * and at random SDK calls in between (a "death" anywhere in a batch: after dead letters, after the
 * intent, between object writes, before the commit), plus DynamoDB throttling. The event source
 * mapping retries (bisecting, partial batch responses) until every batch succeeds. The gold layer
 * must come out identical, row for row, and nothing may be lost.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceEvents } from '../../cli/commands/produce.ts';
import { type ConsumerId, startLocalPipeline } from '../../cli/commands/run-local.ts';
import { copyLayers } from '../../functions/adapters/aws/copy-layers.ts';
import { GeneratorSource } from '../../functions/adapters/embedded/index.ts';
import { MetricsCollector } from '../../functions/adapters/embedded/metrics-collector.ts';
import type { AwsClients } from '../../functions/commons/clients.ts';
import { loadDomain, Random } from '../../functions/core/index.ts';
import { flushRun, type StatefulDeps } from '../../functions/handlers/lib/consumers.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import type { LocalKafkaHandler } from '../../localstack/esm/index.ts';
import { InvocationTimeline } from '../../localstack/esm/timeline.ts';
import { ensurePipelineTopics } from '../../localstack/topics.ts';
import { createResources, drainQueue, emulatorClients, readLakehouse } from './handlers.support.ts';

const COUNT = 6_000;
const GEN = { seed: 23, poisonRate: 0.01, duplicateRate: 0.01, anomalies: true } as const;
const { kafkaBrokers } = endpoints();
const domain = loadDomain('payments');

interface Faults {
  before: number;
  after: number;
  deaths: number;
  throttles: number;
}

/** Clients whose calls die (non-retryable) or are throttled (retryable) at random. */
function faultyClients(random: Random, faults: Faults, deathRate: number, throttleRate: number): AwsClients {
  const c = emulatorClients();
  const check = (throttle: boolean): void => {
    if (throttle && random.next() < throttleRate) {
      faults.throttles++;
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    if (random.next() < deathRate) {
      faults.deaths++;
      throw Object.assign(new Error('the function died here'), { name: 'InjectedDeath' });
    }
  };
  const at = { step: 'initialize', name: 'injectFaults' } as const;
  c.s3.middlewareStack.add(
    (next) => async (args) => {
      check(false);
      return next(args);
    },
    at,
  );
  c.sqs.middlewareStack.add(
    (next) => async (args) => {
      check(false);
      return next(args);
    },
    at,
  );
  c.dynamodb.middlewareStack.add(
    (next) => async (args) => {
      check(true);
      return next(args);
    },
    at,
  );
  return c;
}

async function runOnce(label: string, faulty: Faults | undefined) {
  const id = `${label}-${randomUUID().slice(0, 8)}`;
  const topics = await ensurePipelineTopics(id, kafkaBrokers);
  const res = await createResources();
  const random = new Random(99);
  const metrics = new MetricsCollector();
  const timeline = new InvocationTimeline();
  const wrap = (id: ConsumerId, h: LocalKafkaHandler): LocalKafkaHandler =>
    (id === 'windows' ? (f: LocalKafkaHandler) => timeline.wrap(f) : (f: LocalKafkaHandler) => f)(
      faulty === undefined
        ? h
        : async (event, context) => {
            if (random.next() < 0.1) {
              faulty.before++;
              throw new Error('injected: died before doing anything');
            }
            const result = await h(event, context);
            if (random.next() < 0.1) {
              faulty.after++;
              throw new Error('injected: died after the work, before answering');
            }
            return result;
          },
    );
  const pipeline = await startLocalPipeline({
    domain,
    clients: res.clients,
    ...(faulty ? { clientsFor: () => faultyClients(random, faulty, 0.06, 0.05) } : {}),
    resources: res,
    topics,
    brokers: kafkaBrokers,
    rawPartitions: 3,
    groupPrefix: id,
    wrap,
    metrics,
    mapping: {
      // Concurrent invocations, as on AWS: every partition's state is its own, none waits.
      pollers: 3,
      batchSize: 250,
      maximumBatchingWindowInSeconds: 0.1,
      maximumRetryAttempts: -1,
      bisectBatchOnFunctionError: true,
      maximumRecordAgeInSeconds: -1,
    },
  });
  try {
    await produceEvents({
      source: new GeneratorSource(domain, COUNT, { ...GEN, topic: topics.raw }),
      domain,
      topic: topics.raw,
    });
    await pipeline.running.waitUntilIdle({ timeoutMs: 600_000 });
    const stats = pipeline.running.stats();
    // The flush runs on the faulty clients too: retried like any invocation until it goes through
    // (each retry has a new state version, so its files have other names than a dead attempt's).
    for (let attempt = 1; ; attempt++) {
      try {
        const on = <D extends StatefulDeps>(d: D): D => ({ ...d, objects: pipeline.objects });
        await flushRun(
          {
            enrich: on(pipeline.deps.enrich),
            windows: on(pipeline.deps.windows),
            cep: on(pipeline.deps.cep),
          },
          topics,
        );
        break;
      } catch (err) {
        if (faulty === undefined || attempt >= 20) throw err;
      }
    }
    const dir = await mkdtemp(join(tmpdir(), `tw-${label}-`));
    await copyLayers(pipeline.objects, dir);
    const lake = await readLakehouse(dir);
    const letters = await drainQueue(res.clients.sqs, res.queueUrl);
    return {
      lake,
      raw: topics.raw,
      letters: new Set(letters.map((l) => `${l.partition}/${l.offset}/${l.reason.code}`)),
      stats,
      metrics,
      timeline,
    };
  } finally {
    await pipeline.stop();
  }
}

function normalized(gold: Record<string, string[]>, rawTopic: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [table, rows] of Object.entries(gold)) {
    out[table] = rows
      .map((row) =>
        JSON.stringify(
          (JSON.parse(row) as unknown[]).map((cell) =>
            cell === rawTopic
              ? 'RAW'
              : typeof cell === 'number' && !Number.isInteger(cell)
                ? Number(cell.toFixed(6))
                : cell,
          ),
        ),
      )
      .sort();
  }
  return out;
}

describe(`effectively-once under injected faults (${COUNT} events)`, () => {
  const faults: Faults = { before: 0, after: 0, deaths: 0, throttles: 0 };
  let clean: Awaited<ReturnType<typeof runOnce>>;
  let faulty: Awaited<ReturnType<typeof runOnce>>;

  beforeAll(async () => {
    clean = await runOnce('clean', undefined);
    faulty = await runOnce('faulty', faults);
  });

  afterAll(() => {
    process.stderr.write(`[faults] injected ${JSON.stringify(faults)}\n`);
  });

  it('injected every kind of fault many times, and the mappings retried', () => {
    expect(faults.before).toBeGreaterThan(5);
    expect(faults.after).toBeGreaterThan(5);
    expect(faults.deaths).toBeGreaterThan(5);
    expect(faults.throttles).toBeGreaterThan(5);
    expect(faulty.stats.reduce((n, s) => n + s.retries, 0)).toBeGreaterThan(10);
    expect(faulty.stats.reduce((n, s) => n + s.discarded + s.sentToOnFailure, 0)).toBe(0);
  });

  it('ran windows invocations of different partitions at the same time, never two of one partition', () => {
    expect(clean.timeline.overlapMs()).toBeGreaterThan(0);
    expect(faulty.timeline.overlapMs()).toBeGreaterThan(0);
    expect(clean.timeline.samePartitionOverlaps()).toBe(0);
    expect(faulty.timeline.samePartitionOverlaps()).toBe(0);
    expect(clean.metrics.get('StateConflicts', { consumer: 'windows' })).toBe(0);
  });

  // Rows compared with the run's own topic names replaced, and sums to 1e-6: partitions interleave
  // differently from run to run, so floating-point sums of one window add in another order.
  it('produces exactly the gold rows of the clean run', () => {
    expect(normalized(faulty.lake.gold, faulty.raw)).toEqual(normalized(clean.lake.gold, clean.raw));
    expect((faulty.lake.gold['gold/alerts'] ?? []).length).toBeGreaterThan(0);
  });

  it('loses and doubles nothing in bronze, silver and the dead letters', () => {
    expect(faulty.lake.counts['bronze/raw_events']).toBe(COUNT);
    expect(faulty.lake.counts['silver/events']).toBe(clean.lake.counts['silver/events']);
    expect(faulty.letters).toEqual(clean.letters);
  });
});
