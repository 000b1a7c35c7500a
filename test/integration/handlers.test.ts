import { cp, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyLayers } from '../../functions/adapters/aws/copy-layers.ts';
import {
  DynamoDbStateTable,
  type StateId,
  type StateUpdate,
} from '../../functions/adapters/aws/dynamodb-state.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store.ts';
import { LocalFolderObjectStore, MemoryStateStore } from '../../functions/adapters/embedded/index.ts';
import {
  type DeadLetter,
  decodeKafkaEvent,
  layerSchemas,
  type Row,
  WindowEngine,
  type WindowOutput,
  type WindowSpec,
  type WindowState,
} from '../../functions/core/index.ts';
import {
  cep,
  enrich,
  flushEnrich,
  flushWindows,
  parseSource,
  windows,
  windowsStateId,
} from '../../functions/handlers/lib/consumers.ts';
import type { StageContext } from '../../functions/pipeline/context.ts';
import { decodeEnrichedRecord, SOURCE_HEADER } from '../../functions/pipeline/enriched.ts';
import type { RunResult } from '../../functions/pipeline/pipeline.ts';
import { emptyWritten, writeRows } from '../../functions/pipeline/write.ts';
import { NO_METRICS } from '../../functions/ports/metrics.ts';
import { cepCodec, dedupCodec } from '../../functions/state/codecs.ts';
import { clearStateCache, type Manifest, readState } from '../../functions/state/partition-state.ts';
import {
  batches,
  type ChainDeps,
  createResources,
  depsFor,
  directInvoke,
  drainQueue,
  type EventRecord,
  earlyOrMissingDetections,
  embeddedRun,
  emulatorClients,
  kafkaEvent,
  listKeys,
  MemoryAlerts,
  MemoryTopic,
  type Resources,
  rawRecords,
  readLakehouse,
  roundFloats,
  runChain,
} from './handlers.support.ts';

const RAW = 'tw.raw';
const ENRICHED = 'tw.enriched';
const COUNT = 4_000;
const GEN = { seed: 7, poisonRate: 0.01, duplicateRate: 0.01, anomalies: true } as const;

async function allKeys(res: Resources): Promise<string[]> {
  const keys: string[] = [];
  for (const b of Object.values(res.buckets)) keys.push(...(await listKeys(res.clients.s3, b)));
  return keys.sort();
}

describe('the consumers chained on the emulator (direct invocations, one raw partition)', () => {
  let res: Resources;
  let topic: MemoryTopic;
  let alerts: MemoryAlerts;
  let chain: ChainDeps;
  let embedded: RunResult;
  let embeddedDir: string;
  let localDir: string;
  const raw = rawRecords(RAW, COUNT, 1, GEN).records;

  beforeAll(async () => {
    res = await createResources();
    topic = new MemoryTopic(ENRICHED);
    alerts = new MemoryAlerts();
    chain = {
      ingest: depsFor(res),
      enrich: depsFor(res, { enriched: topic }),
      windows: depsFor(res, { sourcePartitions: async () => [`${RAW}-0`] }),
      cep: depsFor(res, { alerts }),
    };
    await runChain(directInvoke(chain), chain, raw, topic, { partitions: 1, batchSize: 400 });
    localDir = await mkdtemp(join(tmpdir(), 'tw-local-'));
    await copyLayers(depsFor(res).objects, localDir);
    embeddedDir = await mkdtemp(join(tmpdir(), 'tw-embedded-'));
    embedded = await embeddedRun(embeddedDir, COUNT, GEN, RAW);
  });

  it('lands as many rows in every layer table as the embedded run of the same input', async () => {
    // Act
    const local = await readLakehouse(localDir);
    const reference = await readLakehouse(embeddedDir);
    // Assess
    expect(local.counts['bronze/raw_events']).toBe(COUNT);
    for (const [path, n] of Object.entries(reference.counts)) {
      if (path === 'ops/batch_quality') continue; // one row per batch: batch sizes differ by design
      expect({ path, rows: local.counts[path] }).toEqual({ path, rows: n });
    }
    expect(embedded.conservation.ok).toBe(true);
  });

  it('produces exactly the gold rows of the embedded run', async () => {
    const local = await readLakehouse(localDir);
    const reference = await readLakehouse(embeddedDir);
    expect(local.gold).toEqual(reference.gold);
  });

  it('stamps every alert with a detected_at no earlier than its input reached Kafka', async () => {
    const local = await readLakehouse(localDir);
    expect(local.alertTimings.length).toBeGreaterThan(0);
    expect(earlyOrMissingDetections(local.alertTimings)).toEqual([]);
  });

  it('dead-letters every poison record once, with the reason the embedded run gives', async () => {
    // Act
    const letters = await drainQueue(res.clients.sqs, res.queueUrl);
    const files = await readdir(join(embeddedDir, '_deadletter'));
    const expected: DeadLetter[] = [];
    for (const f of files) {
      for (const line of (await readFile(join(embeddedDir, '_deadletter', f), 'utf8')).split('\n')) {
        if (line) expected.push(JSON.parse(line) as DeadLetter);
      }
    }
    // Assess
    const byOffset = (a: DeadLetter, b: DeadLetter) => a.offset - b.offset;
    expect(letters.length).toBe(embedded.deadLettered);
    expect(letters.sort(byOffset)).toEqual(expected.sort(byOffset));
  });

  it('keeps the seen event ids in S3 objects of the partition: the state item holds their manifest', async () => {
    // Act
    const id = { consumer: 'enrich', topic: RAW, scope: '0' };
    const record = await chain.enrich.table!.load<Manifest>(id);
    const seen = await readState(chain.enrich.objects, id, record.state!, dedupCodec(chain.enrich.domain));
    // Assess: the fence, a manifest of objects, and every silver event's id in the set.
    expect(record.fences['0']).toBe(COUNT - 1);
    expect(record.state!.layout).toBe(2);
    expect((record.state!.snapshot === null ? 0 : 1) + record.state!.deltas.length).toBeGreaterThan(0);
    expect(seen.size).toBe(embedded.silverRows);
  });

  it('publishes every alert of gold/alerts to the alert sink', () => {
    expect(alerts.sent.length).toBe(embedded.alerts);
    expect(new Set(alerts.sent.map((a) => a['alert_id'])).size).toBe(embedded.alerts);
  });

  it('changes nothing when every batch is delivered again', async () => {
    // Prepare
    const before = await allKeys(res);
    const published = topic.records(0).length;
    // Act
    await runChain(directInvoke(chain), chain, raw, new MemoryTopic(ENRICHED), {
      partitions: 1,
      batchSize: 400,
    });
    for (const b of batches(raw, 0, 250)) await directInvoke(chain)('enrich', kafkaEvent(b));
    // Assess
    expect(await allKeys(res)).toEqual(before);
    expect(topic.records(0).length).toBe(published);
    expect(await drainQueue(res.clients.sqs, res.queueUrl)).toEqual([]);
  });
});

describe('small tables in the partition state’s outbox', () => {
  const qualityKeys = async (res: Resources, topic: string) =>
    (await listKeys(res.clients.s3, res.buckets.gold)).filter(
      (k) => k.startsWith('ops/batch_quality/') && basename(k).startsWith(`${topic}-0-`),
    );

  it('holds the batch quality rows until the run ends, then writes them in one object', async () => {
    // Prepare: three batches, the rows held for a minute
    const res = await createResources();
    const topic = 'tw.outbox-held';
    const records = rawRecords(topic, 300, 1, { seed: 5 }).records;
    const deps = {
      ...depsFor(res, { enriched: new MemoryTopic(ENRICHED) }),
      state: { outboxMaxAgeMs: 60_000 },
    };
    // Act
    for (const part of [records.slice(0, 100), records.slice(100, 200), records.slice(200)])
      await enrich(deps, kafkaEvent(part));
    const held = await qualityKeys(res, topic);
    await flushEnrich(deps, topic, [0]);
    const written = await qualityKeys(res, topic);
    // Assess: nothing before the end of the run, then one object named from the first to the last offset
    expect(held).toEqual([]);
    expect(written.map((k) => basename(k))).toEqual([`${topic}-0-0-299.parquet`]);
  });

  it('writes them with every batch when smallTablesWriteSeconds is 0', async () => {
    // Prepare
    const res = await createResources();
    const topic = 'tw.outbox-none';
    const records = rawRecords(topic, 200, 1, { seed: 5 }).records;
    const deps = { ...depsFor(res, { enriched: new MemoryTopic(ENRICHED) }), state: { outboxMaxAgeMs: 0 } };
    // Act
    await enrich(deps, kafkaEvent(records.slice(0, 100)));
    await enrich(deps, kafkaEvent(records.slice(100)));
    // Assess
    expect((await qualityKeys(res, topic)).map((k) => basename(k)).sort()).toEqual([
      `${topic}-0-0-99.parquet`,
      `${topic}-0-100-199.parquet`,
    ]);
  });
});

describe('a dead attempt', () => {
  it('has its outputs removed when the batch is retried with other boundaries', async () => {
    // Prepare: an S3 client that writes silver but fails on ops/, as if the function died mid-write
    const res = await createResources();
    const broken = emulatorClients().s3;
    let puts = 0;
    broken.middlewareStack.add(
      (next, ctx) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        if (ctx.commandName === 'PutObjectCommand' && key.startsWith('ops/')) {
          puts++;
          throw Object.assign(new Error('died'), { name: 'Died' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'dieOnOpsPut' },
    );
    const dying = { ...depsFor(res, { enriched: new MemoryTopic(ENRICHED) }) };
    const dyingDeps = { ...dying, objects: new S3ObjectStore({ buckets: res.buckets, client: broken }) };
    const records = rawRecords(RAW, 300, 1, { seed: 3 }).records;
    const healthy = depsFor(res, { enriched: new MemoryTopic(ENRICHED) });
    // Act
    const died = await enrich(dyingDeps, kafkaEvent(records));
    const mid = await listKeys(res.clients.s3, res.buckets.silver);
    await enrich(healthy, kafkaEvent(records.slice(0, 120)));
    await enrich(healthy, kafkaEvent(records.slice(120)));
    const silver = await listKeys(res.clients.s3, res.buckets.silver);
    // Assess
    expect(puts).toBeGreaterThan(0);
    // Every record of the failed partition is reported, not only its first (core/batch-response.ts).
    expect(died.batchItemFailures).toEqual(everyRecord(`${RAW}-0`, records.length));
    expect(mid.some((k) => k.endsWith(`${RAW}-0-0-299.parquet`))).toBe(true);
    expect(silver.some((k) => k.endsWith(`${RAW}-0-0-299.parquet`))).toBe(false);
    expect(silver.some((k) => k.endsWith(`${RAW}-0-0-119.parquet`))).toBe(true);
    expect(silver.some((k) => k.endsWith(`${RAW}-0-120-299.parquet`))).toBe(true);
  });

  it('cep: an attempt that dies after writing its state delta changes nothing its retry computes', async () => {
    // Prepare: enriched records (anomalies included) from one enrich invocation.
    const res = await createResources();
    const topic = new MemoryTopic(ENRICHED);
    await enrich(depsFor(res, { enriched: topic }), kafkaEvent(rawRecords(RAW, 3000, 1, GEN).records));
    const enriched = topic.records(0);
    // The reference: a clean cep run in two invocations on other resources.
    const clean = await createResources();
    const reference = new MemoryAlerts();
    await cep(depsFor(clean, { alerts: reference }), kafkaEvent(enriched.slice(0, 1500)));
    await cep(depsFor(clean, { alerts: reference }), kafkaEvent(enriched.slice(1500)));
    const dyingDeps = depsFor(res, { alerts: new MemoryAlerts() });
    const dyingTable = new DyingCommits({
      tableName: res.table,
      client: res.clients.dynamodb,
      spill: dyingDeps.objects,
    });
    // Act: the first attempt writes its delta and dies before its commit; the retry comes in
    // other boundaries.
    const died = await cep({ ...dyingDeps, table: dyingTable }, kafkaEvent(enriched));
    const id = { consumer: 'cep', topic: ENRICHED, scope: '0' };
    const leftover = (await depsFor(res).table.load(id)).intent?.keys ?? [];
    const alerts = new MemoryAlerts();
    await cep(depsFor(res, { alerts }), kafkaEvent(enriched.slice(0, 700)));
    await cep(depsFor(res, { alerts }), kafkaEvent(enriched.slice(700)));
    // Assess
    const byId = (a: Row, b: Row) => String(a['alert_id']).localeCompare(String(b['alert_id']));
    expect(died.batchItemFailures).toEqual(everyRecord(`${ENRICHED}-0`, enriched.length));
    expect(dyingTable.deaths).toBe(0);
    expect(leftover.some((k) => k.startsWith('ops/state/cep/'))).toBe(true);
    expect(reference.sent.length).toBeGreaterThan(0);
    expect(alerts.decided().sort(byId)).toEqual(reference.decided().sort(byId));
    // The dead attempt's delta is gone; the state holds the keys of the partition's users.
    for (const k of leftover) expect(await depsFor(res).objects.get(k)).toBeUndefined();
    const record = await depsFor(res).table.load<Manifest>(id);
    const state = await readState(depsFor(res).objects, id, record.state!, cepCodec());
    expect(record.fences['0']).toBe(enriched.length - 1);
    expect(state.keys.size).toBeGreaterThan(100);
  });
});

/** The partial batch response items of offsets 0..n-1 of one partition: every record, in order. */
function everyRecord(
  partition: string,
  n: number,
): { itemIdentifier: { partition: string; offset: number } }[] {
  return Array.from({ length: n }, (_, offset) => ({ itemIdentifier: { partition, offset } }));
}

/** The real state table whose next `commit` dies before reaching DynamoDB. */
class DyingCommits extends DynamoDbStateTable {
  deaths = 1;
  override async commit<St>(id: StateId, v: number, update: StateUpdate<St>, ref?: string): Promise<void> {
    if (this.deaths > 0) {
      this.deaths--;
      throw Object.assign(new Error(`died before committing v${v + 1}`), { name: 'Died' });
    }
    return super.commit(id, v, update, ref);
  }
}

describe('the windows consumer over three partitions', () => {
  it('gives the gold rows of one engine fed the same batches in the same order, every partition on its own state', async () => {
    // Prepare: three raw partitions through enrich, then the enriched batches one partition per
    // invocation, round-robin.
    const res = await createResources();
    const rawTopic = `${RAW}.three`;
    const raw = rawRecords(rawTopic, 3_000, 3, GEN).records;
    const enriched = new MemoryTopic(`${ENRICHED}.three`);
    const known = [0, 1, 2].map((p) => `${rawTopic}-${p}`);
    // Windows of seconds and 1 s of out-of-orderness, so that windows and sessions become final
    // while the 15 s of event time run.
    const base = depsFor(res, { enriched });
    const short = (w: WindowSpec): WindowSpec =>
      w.type === 'session'
        ? { ...w, gapMs: 2_000 }
        : w.type === 'tumbling'
          ? { ...w, sizeMs: 2_000, slideMs: 2_000 }
          : { ...w, sizeMs: 4_000, slideMs: 2_000 };
    const deps = {
      ...base,
      domain: { ...base.domain, maxOutOfOrdernessMs: 1_000, windows: base.domain.windows.map(short) },
      sourcePartitions: async () => known,
    };
    for (let p = 0; p < 3; p++) for (const b of batches(raw, p, 250)) await enrich(deps, kafkaEvent(b));
    const perPartition = [0, 1, 2].map((p) => batches(enriched.records(p), p, 250));
    const order: EventRecord[][] = [];
    for (let i = 0; i < Math.max(...perPartition.map((l) => l.length)); i++)
      for (const list of perPartition) if (list[i] !== undefined) order.push(list[i]!);
    // Act
    // Every third invocation starts cold: its partition's state is read back from S3 (snapshot +
    // deltas replayed), as a new Lambda environment would.
    for (const [i, b] of order.entries()) {
      if (i % 3 === 2) clearStateCache();
      expect((await windows(deps, kafkaEvent(b))).batchItemFailures).toEqual([]);
    }
    await flushWindows(deps, enriched.topic);
    // Reference: a single engine holding every window (the consumer before its state was split),
    // fed the same events in the same order, its outputs written with the same writer.
    const domain = deps.domain;
    let state: WindowState = {
      version: 1,
      partitions: Object.fromEntries(known.map((k) => [k, -8_640_000_000_000_000])),
      fixed: {},
      sessions: {},
    };
    const outputs: WindowOutput[] = [];
    for (const b of order) {
      const engine = new WindowEngine(domain, state);
      for (const r of decodeKafkaEvent(kafkaEvent(b))) {
        const e = decodeEnrichedRecord(domain, r);
        const src = parseSource(r.headers.find(([n]) => n === SOURCE_HEADER)?.[1])!;
        const at = src.id.lastIndexOf('-');
        engine.add({
          ...e,
          topic: src.id.slice(0, at),
          partition: Number(src.id.slice(at + 1)),
          offset: src.offset,
        });
      }
      outputs.push(engine.collect());
      state = engine.snapshot();
    }
    outputs.push(new WindowEngine(domain, state).flush());
    // Written twice: the rows emitted while the batches ran, and those with the end-of-run flush.
    const schemas = layerSchemas(domain);
    const write = async (dir: string, list: readonly WindowOutput[]): Promise<void> => {
      const ctx: StageContext = {
        domain,
        objects: new LocalFolderObjectStore(dir),
        state: new MemoryStateStore(),
        metrics: NO_METRICS,
      };
      for (const [i, o] of list.entries()) {
        const range = { topic: 'reference', partition: 0, firstOffset: i, lastOffset: i };
        for (const [w, rows] of Object.entries(o.rows))
          await writeRows(ctx, schemas.windows[w]!, rows, range, emptyWritten());
        await writeRows(ctx, schemas.lateEvents, o.late, range, emptyWritten());
      }
    };
    const referenceRun = await mkdtemp(join(tmpdir(), 'tw-windows-reference-run-'));
    const referenceAll = await mkdtemp(join(tmpdir(), 'tw-windows-reference-all-'));
    await write(referenceRun, outputs.slice(0, -1));
    await write(referenceAll, outputs);
    const localAll = await mkdtemp(join(tmpdir(), 'tw-windows-local-all-'));
    await copyLayers(deps.objects, localAll);
    const localRun = await mkdtemp(join(tmpdir(), 'tw-windows-local-run-'));
    await cp(localAll, localRun, { recursive: true, filter: (path) => !basename(path).includes('.flush-') });
    const [lr, rr, la, ra] = await Promise.all(
      [localRun, referenceRun, localAll, referenceAll].map(readLakehouse),
    );
    // Assess: the same rows in all; the same late events before the flush too.
    for (const table of [
      'gold/window_tumbling_1m',
      'gold/window_sliding_5m',
      'gold/sessions',
      'gold/late_events',
    ]) {
      expect(rr!.gold[table]!.length).toBeGreaterThan(0);
      // Sums to 1e-6: merged from per-partition partial sums (see roundFloats).
      expect({ table, rows: roundFloats(la!.gold[table]) }).toEqual({
        table,
        rows: roundFloats(ra!.gold[table]),
      });
      if (table === 'gold/late_events')
        expect({ table, rows: lr!.gold[table] }).toEqual({ table, rows: rr!.gold[table] });
    }
    // A fixed window is merged by its owner partition's first invocation after every partition
    // passed it, and a partition's sessions are emitted by its own invocations: both can come
    // later than the single engine emitted them (for some, with the flush). So before the flush:
    // some of each, and only rows the single engine had emitted by then.
    for (const table of ['gold/window_tumbling_1m', 'gold/window_sliding_5m', 'gold/sessions']) {
      const early = roundFloats(lr!.gold[table]);
      expect(early.length).toBeGreaterThan(0);
      const emitted = new Set(roundFloats(rr!.gold[table]));
      expect({ table, unexpected: early.filter((row) => !emitted.has(row)) }).toEqual({
        table,
        unexpected: [],
      });
    }
    for (const p of [0, 1, 2]) {
      const own = await deps.table.load(windowsStateId(enriched.topic, p));
      expect(own.fences).toEqual({ [String(p)]: enriched.records(p).length - 1 });
    }
    // Every partial was merged and removed.
    expect(await deps.objects.list(`ops/partials/${enriched.topic}/`)).toEqual([]);
  });
});

describe('the windows consumer when one partition fails', () => {
  it('commits the other partition and reports only the failed one’s records for redelivery', async () => {
    // Prepare: two enriched partitions in one event; partition 1's commit dies once.
    const res = await createResources();
    const rawTopic = `${RAW}.held`;
    const enriched = new MemoryTopic(`${ENRICHED}.held`);
    const base = depsFor(res, {
      enriched,
      sourcePartitions: async () => [`${rawTopic}-0`, `${rawTopic}-1`],
    });
    await enrich(
      base,
      kafkaEvent(rawRecords(rawTopic, 600, 2, GEN).records.filter((r) => r.partition === 0)),
    );
    await enrich(
      base,
      kafkaEvent(rawRecords(rawTopic, 600, 2, GEN).records.filter((r) => r.partition === 1)),
    );
    class DyingPartition extends DynamoDbStateTable {
      deaths = 1;
      override async commit<St>(
        id: StateId,
        v: number,
        update: StateUpdate<St>,
        ref?: string,
      ): Promise<void> {
        if (id.consumer === 'windows' && id.scope === '1' && this.deaths > 0) {
          this.deaths--;
          throw new Error('injected: died before committing partition 1');
        }
        return super.commit(id, v, update, ref);
      }
    }
    const table = new DyingPartition({
      tableName: res.table,
      client: res.clients.dynamodb,
      spill: base.objects,
    });
    const deps = { ...base, table };
    const event = kafkaEvent([...enriched.records(0), ...enriched.records(1)]);
    const last = (p: number) => enriched.records(p).length - 1;
    // Act
    const first = await windows(deps, event);
    const afterFirst = await table.load(windowsStateId(enriched.topic, 1));
    const second = await windows(deps, event);
    // Assess
    expect(first.batchItemFailures).toEqual(everyRecord(`${enriched.topic}-1`, enriched.records(1).length));
    expect((await table.load(windowsStateId(enriched.topic, 0))).fences).toEqual({ '0': last(0) });
    expect(afterFirst.fences).toEqual({});
    expect(second.batchItemFailures).toEqual([]);
    expect((await table.load(windowsStateId(enriched.topic, 1))).fences).toEqual({ '1': last(1) });
  });
});
