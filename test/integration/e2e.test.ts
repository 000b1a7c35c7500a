/**
 * The whole pipeline on the local stack: 50k generated events (1 % poison, 1 % duplicates,
 * labelled anomalies) produced to a real broker, consumed by the local event source mapping
 * through the four consumers on the emulator, compared with the embedded run of the same input.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceEvents } from '../../cli/commands/produce.ts';
import { type LocalPipeline, startLocalPipeline } from '../../cli/commands/run-local.ts';
import { copyLayers } from '../../functions/adapters/aws/copy-layers.ts';
import { GeneratorSource } from '../../functions/adapters/embedded/index.ts';
import { type DeadLetter, loadDomain } from '../../functions/core/index.ts';
import { flushRun } from '../../functions/handlers/lib/consumers.ts';
import { Lakehouse, lakehouseTables } from '../../functions/lakehouse/index.ts';
import type { RunResult } from '../../functions/pipeline/pipeline.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import {
  createResources,
  drainQueue,
  earlyOrMissingDetections,
  embeddedRun,
  type Resources,
  rawRecords,
  readLakehouse,
} from './handlers.support.ts';

const COUNT = 50_000;
const GEN = { seed: 11, poisonRate: 0.01, duplicateRate: 0.01, anomalies: true } as const;
const { kafkaBrokers } = endpoints();
const domain = loadDomain('payments');

describe(`the pipeline on the local stack (${COUNT} events)`, () => {
  const id = randomUUID().slice(0, 8);
  const topics = { raw: `e2e-${id}.raw`, enriched: `e2e-${id}.enriched`, alerts: `e2e-${id}.alerts` };
  const admin = new Admin({ clientId: 'e2e-admin', bootstrapBrokers: kafkaBrokers });
  let res: Resources;
  let pipeline: LocalPipeline;
  let local: Awaited<ReturnType<typeof readLakehouse>>;
  let reference: Awaited<ReturnType<typeof readLakehouse>>;
  let embedded: RunResult;
  let letters: DeadLetter[];
  let duplicates: number;
  let localDir: string;
  let embeddedDir: string;

  beforeAll(async () => {
    res = await createResources();
    await ensureTopic(admin, topics.raw, 3);
    await ensureTopic(admin, topics.enriched, 3);
    await ensureTopic(admin, topics.alerts, 1);
    pipeline = await startLocalPipeline({
      domain,
      clients: res.clients,
      resources: res,
      topics,
      brokers: kafkaBrokers,
      rawPartitions: 3,
      groupPrefix: `e2e-${id}`,
      mapping: { batchSize: 1_000, maximumBatchingWindowInSeconds: 0.2 },
    });
    const produced = await produceEvents({
      source: new GeneratorSource(domain, COUNT, { ...GEN, topic: topics.raw }),
      domain,
      topic: topics.raw,
    });
    expect(produced.produced).toBe(COUNT);
    await pipeline.running.waitUntilIdle({ timeoutMs: 600_000 });
    await flushRun(pipeline.deps, topics);
    localDir = await mkdtemp(join(tmpdir(), 'tw-e2e-local-'));
    await copyLayers(pipeline.objects, localDir);
    local = await readLakehouse(localDir);
    embeddedDir = await mkdtemp(join(tmpdir(), 'tw-e2e-embedded-'));
    embedded = await embeddedRun(embeddedDir, COUNT, GEN, topics.raw);
    reference = await readLakehouse(embeddedDir);
    letters = await drainQueue(res.clients.sqs, res.queueUrl);
    const lake = await Lakehouse.open({ root: localDir, tables: lakehouseTables(domain), views: [] });
    try {
      const r = await lake.query('SELECT coalesce(sum(duplicates), 0) FROM batch_quality');
      duplicates = Number(r.rows[0]?.[0] ?? 0);
    } finally {
      lake.close();
    }
  });

  afterAll(async () => {
    await pipeline?.stop();
    await admin.close();
  });

  it('holds the conservation check', () => {
    const distinct = new Set(letters.map((l) => `${l.partition}/${l.offset}`)).size;
    const bronze = local.counts['bronze/raw_events'];
    const silver = local.counts['silver/events'] ?? 0;
    expect(bronze).toBe(COUNT);
    expect(silver + distinct + duplicates).toBe(bronze);
  });

  it('lands as many rows in bronze, silver and gold/alerts as the embedded run of the same input', () => {
    for (const path of ['bronze/raw_events', 'silver/events', 'gold/alerts']) {
      expect({ path, rows: local.counts[path] }).toEqual({ path, rows: reference.counts[path] });
    }
  });

  // Window rows are compared by what must hold in both runs, not row for row: the embedded run has
  // one partition, the local stack three, and SPEC §3 judges lateness by each partition's own
  // watermark (the handler test compares gold row for row on one partition).
  it('counts every silver event exactly once in the tumbling windows or the late events, as embedded does', async () => {
    const accounted = async (dir: string): Promise<number> => {
      const lake = await Lakehouse.open({ root: dir, tables: lakehouseTables(domain), views: [] });
      try {
        const r = await lake.query(
          "SELECT (SELECT sum(event_count) FROM window_tumbling_1m) + (SELECT count(*) FROM late_events WHERE window_name = 'tumbling_1m')",
        );
        return Number(r.rows[0]?.[0] ?? -1);
      } finally {
        lake.close();
      }
    };
    expect(await accounted(localDir)).toBe(local.counts['silver/events']);
    expect(await accounted(embeddedDir)).toBe(reference.counts['silver/events']);
    const rows = local.counts['gold/window_tumbling_1m'] ?? 0;
    expect(Math.abs(rows - (reference.counts['gold/window_tumbling_1m'] ?? 0))).toBeLessThanOrEqual(
      rows * 0.05,
    );
  });

  // Kafka's record timestamps are the broker's clock at produce time: an alert decided before its
  // input was in Kafka would be a wrong clock or a detected_at taken from the event.
  it('stamps every alert with a detected_at no earlier than its input reached Kafka', () => {
    expect(local.alertTimings.length).toBe(local.counts['gold/alerts']);
    expect(local.alertTimings.length).toBeGreaterThan(0);
    expect(earlyOrMissingDetections(local.alertTimings)).toEqual([]);
  });

  it('alerts every labelled anomaly scenario', () => {
    const alerted = new Set(
      (local.gold['gold/alerts'] ?? []).map((row) => {
        const cells = JSON.parse(row) as unknown[];
        return `${String(cells[1])}/${String(cells[3])}`; // pattern / user_id
      }),
    );
    const { labels } = rawRecords(topics.raw, COUNT, 3, GEN);
    const scenarios = new Map<number, string>();
    for (const l of labels) {
      if (l.label.kind === 'anomaly' && l.label.trigger)
        scenarios.set(l.label.scenario, `${l.label.pattern}/${l.key}`);
    }
    expect(scenarios.size).toBeGreaterThan(10);
    const missing = [...scenarios.values()].filter((s) => !alerted.has(s));
    expect(missing).toEqual([]);
  });

  it('dead-letters each poison record with its reason, coordinates and exact bytes', async () => {
    const { records, labels } = rawRecords(topics.raw, COUNT, 3, GEN);
    const value = new Map(records.map((r) => [`${r.partition}/${r.offset}`, r.value]));
    const poison = new Map<string, string>();
    for (const l of labels)
      if (l.label.kind === 'poison') poison.set(`${l.partition}/${l.offset}`, l.label.code);
    const got = new Map(letters.map((l) => [`${l.partition}/${l.offset}`, l]));
    expect(got.size).toBe(embedded.deadLettered);
    expect([...got.keys()].sort()).toEqual([...poison.keys()].sort());
    for (const [at, letter] of got) {
      expect({ at, code: letter.reason.code }).toEqual({ at, code: poison.get(at) });
      const sent = value.get(at);
      const ref = (letter as DeadLetter & { valueRef?: string }).valueRef;
      const stored =
        ref === undefined
          ? letter
          : (JSON.parse(Buffer.from((await pipeline.objects.get(ref)) ?? []).toString()) as DeadLetter);
      expect(stored.valueBase64).toBe(
        sent === null || sent === undefined ? null : Buffer.from(sent, 'utf8').toString('base64'),
      );
    }
  });
});
