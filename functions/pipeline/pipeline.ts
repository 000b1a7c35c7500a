import type { SourceRange } from '../adapters/parquet/partition.ts';
import type { Row } from '../core/index.ts';
import { BATCH_QUALITY } from '../lakehouse/quality.ts';
import { batchRange, type EventSource, type SourceBatch } from '../ports/event-source.ts';
import { CepStage } from './cep.ts';
import { type ConservationResult, checkConservation } from './conservation.ts';
import type { StageContext } from './context.ts';
import { EnrichStage } from './enrich.ts';
import { ingestBatch } from './ingest.ts';
import { batchQualityRow } from './quality.ts';
import { WindowsStage } from './windows.ts';
import { emptyWritten, type Written, writeRows } from './write.ts';

/**
 * The embedded pipeline: the four stages chained in one process over one event source, with the
 * same code the Lambda consumers run. For each batch of a partition: `ingest` (bronze), `enrich`
 * (silver, dead letters, de-duplication), then `windows` and `cep` on the events `enrich`
 * forwards. Every `checkpointRecords` records, and at the end, the stateful stages commit: gold
 * rows and `ops/batch_quality` are written (named from the offsets since the previous commit) and
 * the states saved, fenced. The run ends by flushing all open windows (SPEC §3) and checking
 * conservation (SPEC §1).
 */

export interface PipelineOptions {
  readonly context: StageContext;
  readonly source: EventSource;
  /** Records per batch (bronze and silver files hold one batch each). @default 10_000 */
  readonly batchSize?: number;
  /**
   * Records between commits of the stateful stages (gold and batch-quality files hold one
   * checkpoint each; states are saved at each). @default 500_000
   */
  readonly checkpointRecords?: number;
  /** Called after every batch. */
  readonly onBatch?: (progress: RunProgress) => void;
}

export interface RunProgress {
  readonly produced: number;
  /** Share of the input consumed, 0..1, when the source knows it. */
  readonly fraction: number | undefined;
  readonly silverRows: number;
  readonly deadLettered: number;
  readonly alerts: number;
  readonly elapsedMs: number;
}

export interface RunResult {
  /** Records the source produced. */
  readonly produced: number;
  readonly batches: number;
  readonly bronzeRows: number;
  readonly silverRows: number;
  readonly deadLettered: number;
  readonly poisonByCode: Readonly<Record<string, number>>;
  readonly duplicates: number;
  /** Distinct events late for at least one window. */
  readonly lateEvents: number;
  /** Rows of `gold/late_events` (one per event and window missed). */
  readonly lateRows: number;
  readonly alerts: number;
  readonly alertsByPattern: Readonly<Record<string, number>>;
  /** Rows written per table path (`bronze/raw_events`, `gold/sessions`, `ops/batch_quality`, ...). */
  readonly rowsByTable: Readonly<Record<string, number>>;
  readonly objects: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly conservation: ConservationResult;
}

interface PartitionRun {
  readonly topic: string;
  readonly partition: number;
  readonly enrich: EnrichStage;
  readonly windows: WindowsStage;
  readonly cep: CepStage;
  quality: Row[];
  qualityFirst: number;
  qualityLast: number;
  sinceCheckpoint: number;
}

function add(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export async function runPipeline(options: PipelineOptions): Promise<RunResult> {
  const ctx = options.context;
  const source = options.source;
  const batchSize = options.batchSize ?? 10_000;
  const checkpointRecords = options.checkpointRecords ?? 500_000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isSafeInteger(checkpointRecords) || checkpointRecords < 1)
    throw new RangeError(`checkpointRecords must be a positive integer, got ${checkpointRecords}`);
  const started = performance.now();
  const written: Written = emptyWritten();
  const partitions = new Map<string, PartitionRun>();
  const poisonByCode: Record<string, number> = {};
  const alertsByPattern: Record<string, number> = {};
  let batches = 0;
  let silverRows = 0;
  let deadLettered = 0;
  let duplicates = 0;
  let lateEvents = 0;
  let lateRows = 0;
  let alerts = 0;

  const merge = (w: Written): void => {
    for (const o of w.objects) written.objects.push(o);
    add(written.rows, w.rows);
  };

  const open = async (batch: SourceBatch): Promise<PartitionRun> => {
    const id = `${batch.topic}-${batch.partition}`;
    let run = partitions.get(id);
    if (run === undefined) {
      const at = { topic: batch.topic, partition: batch.partition };
      run = {
        ...at,
        enrich: await EnrichStage.open(ctx, at),
        windows: await WindowsStage.open(ctx, at),
        cep: await CepStage.open(ctx, at),
        quality: [],
        qualityFirst: -1,
        qualityLast: -1,
        sinceCheckpoint: 0,
      };
      partitions.set(id, run);
    }
    return run;
  };

  const checkpoint = async (run: PartitionRun): Promise<void> => {
    await run.enrich.commit();
    merge((await run.windows.commit()).written);
    merge((await run.cep.commit()).written);
    if (run.quality.length > 0) {
      const range: SourceRange = {
        topic: run.topic,
        partition: run.partition,
        firstOffset: run.qualityFirst,
        lastOffset: run.qualityLast,
      };
      await writeRows(ctx, BATCH_QUALITY, run.quality, range, written);
      run.quality = [];
    }
    run.sinceCheckpoint = 0;
  };

  const process1 = async (batch: SourceBatch, last: boolean): Promise<void> => {
    if (batch.records.length === 0) return;
    batches++;
    const run = await open(batch);
    const ingested = await ingestBatch(ctx, batch);
    merge(ingested.written);
    const enriched = await run.enrich.apply(batch);
    merge(enriched.written);
    silverRows += enriched.silverRows;
    deadLettered += enriched.deadLettered;
    duplicates += enriched.duplicates;
    add(poisonByCode, enriched.poisonByCode);
    const applied = enriched.range ?? batchRange(batch);
    const eventBatch = { source: applied, events: enriched.forward };
    const win = await run.windows.apply(eventBatch);
    const cep = await run.cep.apply(eventBatch);
    lateEvents += win.lateEvents;
    lateRows += win.lateRows;
    alerts += cep.alerts;
    add(alertsByPattern, cep.byPattern);
    if (enriched.range !== undefined) {
      if (run.quality.length === 0) run.qualityFirst = enriched.range.firstOffset;
      run.qualityLast = enriched.range.lastOffset;
      run.quality.push(
        batchQualityRow(enriched.range, {
          records: enriched.records,
          valid: enriched.silverRows,
          poison: enriched.deadLettered,
          duplicates: enriched.duplicates,
          late: win.lateEvents,
          batchTs: enriched.maxKafkaTs,
        }),
      );
    }
    run.sinceCheckpoint += batch.records.length;
    if (!last && run.sinceCheckpoint >= checkpointRecords) await checkpoint(run);
    options.onBatch?.({
      produced: source.produced,
      fraction: source.progress(),
      silverRows,
      deadLettered,
      alerts,
      elapsedMs: performance.now() - started,
    });
  };

  // One batch of look-ahead, so the last batch is known as such (no checkpoint right before the end).
  const it = source.batches(batchSize)[Symbol.asyncIterator]();
  let current = await it.next();
  while (!current.done) {
    const next = await it.next();
    await process1(current.value, next.done === true);
    current = next;
  }
  for (const run of partitions.values()) {
    const flushed = run.windows.finish();
    lateEvents += flushed.lateEvents;
    lateRows += flushed.lateRows;
  }
  for (const run of partitions.values()) await checkpoint(run);
  if (ctx.writes !== undefined) {
    await ctx.writes.drain();
    for (const o of ctx.writes.objects) written.objects.push(o);
  }

  const rows = written.rows;
  const bronzeRows = rows['bronze/raw_events'] ?? 0;
  const silverWritten = rows['silver/events'] ?? 0;
  const conservation = checkConservation({
    produced: source.produced,
    bronze: bronzeRows,
    silver: silverWritten,
    deadLettered,
    duplicates,
  });
  let bytes = 0;
  for (const o of written.objects) bytes += o.bytes;
  return {
    produced: source.produced,
    batches,
    bronzeRows,
    silverRows: silverWritten,
    deadLettered,
    poisonByCode,
    duplicates,
    lateEvents,
    lateRows,
    alerts,
    alertsByPattern,
    rowsByTable: { ...rows },
    objects: written.objects.length,
    bytes,
    elapsedMs: performance.now() - started,
    conservation,
  };
}
