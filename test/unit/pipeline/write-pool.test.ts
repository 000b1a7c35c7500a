import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  GeneratorSource,
  JsonlDeadLetterSink,
  LocalFolderObjectStore,
  MemoryAlertSink,
  MemoryStateStore,
  MetricsCollector,
} from '../../../functions/adapters/embedded/index.ts';
import { BRONZE_RAW_EVENTS } from '../../../functions/core/index.ts';
import {
  ParquetWritePool,
  type RunResult,
  runPipeline,
  type StageContext,
} from '../../../functions/pipeline/index.ts';
import { payments } from './helpers.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tidewater-pool-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every file under `root`: relative path -> bytes. */
function files(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = join(e.parentPath, e.name);
    out.set(relative(root, file), readFileSync(file));
  }
  return out;
}

async function run(root: string, pool: ParquetWritePool | undefined): Promise<RunResult> {
  const context: StageContext = {
    domain: payments,
    objects: new LocalFolderObjectStore(root),
    state: new MemoryStateStore(),
    metrics: new MetricsCollector(),
    deadLetters: new JsonlDeadLetterSink(join(root, '_deadletter')),
    alerts: new MemoryAlertSink(),
    clock: () => Date.UTC(2026, 0, 1),
    ...(pool === undefined ? {} : { writes: pool }),
  };
  const source = new GeneratorSource(payments, 3000, {
    seed: 7,
    anomalies: true,
    poisonRate: 0.01,
    duplicateRate: 0.01,
    kafkaTs: Date.UTC(2026, 0, 1, 8),
  });
  return runPipeline({ context, source, batchSize: 400, checkpointRecords: 1200 });
}

describe('ParquetWritePool', () => {
  it('writes the same files, byte for byte, as inline writes', async () => {
    // Prepare
    const inlineRoot = tempDir();
    const poolRoot = tempDir();
    const pool = new ParquetWritePool({ root: poolRoot, workers: 2, maxInFlight: 3 });
    // Act
    const inline = await run(inlineRoot, undefined);
    let pooled: RunResult;
    try {
      pooled = await run(poolRoot, pool);
    } finally {
      await pool.close();
    }
    // Assess
    const a = files(inlineRoot);
    const b = files(poolRoot);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [key, bytes] of a) expect(b.get(key)?.equals(bytes), key).toBe(true);
    expect(pooled.rowsByTable).toEqual(inline.rowsByTable);
    expect(pooled.objects).toBe(inline.objects);
    expect(pooled.bytes).toBe(inline.bytes);
    expect(pooled.conservation.ok).toBe(true);
  });

  it('rejects at submit a row that does not fit its table, naming table, column and row', async () => {
    // Prepare
    const pool = new ParquetWritePool({ root: tempDir(), workers: 1 });
    const source = { topic: 'raw-events', partition: 0, firstOffset: 0, lastOffset: 0 };
    const row = { topic: 'raw-events', partition: 0, offset: 0, kafka_ts: 1, ingest_ts: 'soon' };
    // Act
    const submitted = pool.submit(BRONZE_RAW_EVENTS, [row], source);
    // Assess
    await expect(submitted).rejects.toThrow("bronze/raw_events: column 'ingest_ts' (timestamp_ms) row 0");
    expect(pool.inFlight).toBe(0);
    await pool.close();
  });

  it('rejects on drain when a worker fails to write', async () => {
    // Prepare: the lakehouse root is a file, so the worker cannot create the object's folders.
    const root = join(tempDir(), 'not-a-folder');
    writeFileSync(root, 'x');
    const pool = new ParquetWritePool({ root, workers: 1 });
    const source = { topic: 'raw-events', partition: 0, firstOffset: 0, lastOffset: 0 };
    const row = { topic: 'raw-events', partition: 0, offset: 0, kafka_ts: 1, ingest_ts: 1 };
    // Act
    await pool.submit(BRONZE_RAW_EVENTS, [row], source);
    // Assess
    await expect(pool.drain()).rejects.toThrow(/parquet write failed/);
    await pool.close().catch(() => undefined);
  });
});
