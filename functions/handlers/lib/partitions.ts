/**
 * What every consumer shares: its dependencies, the event's records grouped by partition, the
 * per-partition lifecycle (each partition of an invocation runs on its own, concurrently; a
 * partition that fails reports every one of its records in the partial batch response), and the
 * decoding of enriched records with their source coordinates. The consumers themselves are one
 * file each (`ingest-consumer.ts`, `enrich-consumer.ts`, `cep-consumer.ts`,
 * `windows-consumer.ts`): "new records + loaded state → outputs + new state", on the
 * partition state backend (`functions/state/partition-state.ts`).
 */
import type { SourceRange } from '../../adapters/parquet/partition.ts';
import {
  type DeadLetter,
  type DecodedRecord,
  type Domain,
  decodeKafkaEvent,
  type KafkaBatchResponse,
  type LambdaKafkaEvent,
  parsePartitionId,
  type Row,
  type SilverEvent,
  type TableSchema,
  toDeadLetter,
  unappliedRecords,
} from '../../core/index.ts';
import type { StageContext } from '../../pipeline/context.ts';
import { decodeEnrichedRecord, SOURCE_HEADER } from '../../pipeline/enriched.ts';
import { emptyWritten, writeRows } from '../../pipeline/write.ts';
import type { AlertSink } from '../../ports/alert-sink.ts';
import type { DeadLetterSink } from '../../ports/dead-letter-sink.ts';
import type { Metrics } from '../../ports/metrics.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { AttemptStateStore } from '../../state/attempt-state.ts';
import type { FencedOutcome } from '../../state/fenced.ts';
import {
  type OutboxChange,
  type OutboxView,
  type PartitionStateOptions,
  runPartition,
  type StateCodec,
  type Step,
} from '../../state/partition-state.ts';
import type { FencedTable, ObjectStoreWithDelete, StateId } from '../../state/table.ts';

export interface EnrichedPublisher {
  publish(events: readonly SilverEvent[]): Promise<void>;
}

/** What every consumer needs. */
export interface BaseDeps {
  readonly domain: Domain;
  readonly objects: ObjectStoreWithDelete;
  readonly metrics: Metrics;
  /** Compaction, garbage collection and outbox of the partition state. @default the backend's defaults */
  readonly state?: Omit<PartitionStateOptions, 'metrics'>;
  /** Epoch ms at which this invocation times out (the Lambda context's remaining time). */
  readonly deadline?: number;
  /** Called with each partition's error before it is reported (logging). */
  readonly onError?: (partition: string, err: unknown) => void;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** ingest: fenced with a state table (as deployed); without one (tests, tools) bronze is overwritten by range. */
export interface IngestDeps extends BaseDeps {
  readonly table?: FencedTable;
}

/** A consumer with partition-owned state and records to dead-letter. */
export interface StatefulDeps extends BaseDeps {
  /** The commit point of the consumer's state. */
  readonly table: FencedTable;
  /** enrich: poison records; windows and cep: malformed enriched records. */
  readonly deadLetters: DeadLetterSink;
}

export interface EnrichDeps extends StatefulDeps {
  readonly enriched: EnrichedPublisher;
}

export interface CepDeps extends StatefulDeps {
  readonly alerts: AlertSink;
}

export interface WindowsDeps extends StatefulDeps {
  /**
   * The source partitions (`<raw topic>-<p>`), all of them: a window is final once every one has
   * passed it (SPEC §3), and the merge of a fixed window waits for each.
   */
  readonly sourcePartitions: () => Promise<readonly string[]>;
}

/** Each consumer's dependencies: what the compiler checks a caller gives it. */
export interface DepsByConsumer {
  readonly ingest: IngestDeps;
  readonly enrich: EnrichDeps;
  readonly windows: WindowsDeps;
  readonly cep: CepDeps;
}

export interface PartitionBatch {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly records: DecodedRecord[];
}

/** The event's records grouped by partition, each in offset order. */
export function byPartition(event: LambdaKafkaEvent): PartitionBatch[] {
  const groups = new Map<string, PartitionBatch>();
  for (const r of decodeKafkaEvent(event)) {
    const id = `${r.topic}-${r.partition}`;
    let g = groups.get(id);
    if (g === undefined) {
      g = { id, topic: r.topic, partition: r.partition, records: [] };
      groups.set(id, g);
    }
    g.records.push(r);
  }
  for (const g of groups.values()) g.records.sort((a, b) => a.offset - b.offset);
  return [...groups.values()].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
}

/**
 * Runs `work` for every partition of the event concurrently (no partition waits for another);
 * a failed partition reports all its records as batch item failures (`core/batch-response.ts`).
 */
export async function perPartition(
  deps: BaseDeps,
  event: LambdaKafkaEvent,
  work: (b: PartitionBatch) => Promise<void>,
): Promise<KafkaBatchResponse> {
  const batches = byPartition(event);
  const results = await Promise.allSettled(batches.map(work));
  const failures: KafkaBatchResponse['batchItemFailures'] = [];
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      const b = batches[i]!;
      deps.onError?.(b.id, r.reason);
      failures.push(
        ...unappliedRecords(
          b.id,
          b.records.map((x) => x.offset),
        ),
      );
    }
  });
  return { batchItemFailures: failures };
}

/**
 * One batch of one partition on its partition-owned state (`runPartition`), with this consumer's
 * commit table, object store and state options: the per-partition runner of every stateful consumer.
 */
export function runOnState<S>(
  deps: StatefulDeps,
  id: StateId,
  codec: StateCodec<S>,
  step: Step<S>,
): Promise<FencedOutcome> {
  const options: PartitionStateOptions = {
    ...deps.state,
    metrics: deps.metrics,
    ...(deps.clock ? { clock: deps.clock } : {}),
  };
  return runPartition(deps.table, deps.objects, id, codec, step, options);
}

/** Rows of one small table that a consumer defers in its partition's outbox. */
export interface DeferredTable {
  readonly schema: TableSchema;
  readonly rows: readonly Row[];
}

/**
 * Rows of small tables (a row or a few per batch: batch_quality, late_events, gold/alerts) deferred in the
 * partition's outbox (`state/partition-state.ts`, "The outbox"), or, when the outbox is due or
 * `force`, written now with every row it held: one object per table and Hive partition, named
 * from the outbox's first offset to the last of `range` (a retry of the batch names it the same).
 * `tables` lists every table the consumer defers (rows may be empty). Returns the outbox change
 * for the step's result and the number of rows written.
 */
export async function deferRows(
  ctx: StageContext,
  outbox: OutboxView,
  tables: readonly DeferredTable[],
  range: SourceRange,
  force = false,
): Promise<{ change?: OutboxChange; written: number }> {
  const held = outbox.pending;
  for (const path of Object.keys(held?.tables ?? {}))
    if (!tables.some((t) => t.schema.path === path))
      throw new Error(`the outbox holds rows of ${path}, which this consumer does not defer`);
  if (force || outbox.due) {
    const name = { ...range, firstOffset: held?.firstOffset ?? range.firstOffset };
    const into = emptyWritten();
    let written = 0;
    for (const t of tables)
      written += await writeRows(
        ctx,
        t.schema,
        [...(held?.tables[t.schema.path] ?? []), ...t.rows],
        name,
        into,
      );
    return held === null ? { written } : { change: { flushed: true }, written };
  }
  const add: Record<string, readonly Row[]> = {};
  for (const t of tables) if (t.rows.length > 0) add[t.schema.path] = t.rows;
  return Object.keys(add).length === 0
    ? { written: 0 }
    : { change: { add, firstOffset: range.firstOffset }, written: 0 };
}

/**
 * Writes the rows every partition of `topic` holds deferred in `consumer`'s outbox (the end of a
 * run): one object per table and partition, named from the outbox's first offset to the
 * partition's fence. Returns the partitions that had rows.
 */
export async function flushOutboxes<S>(
  deps: StatefulDeps,
  consumer: string,
  codec: StateCodec<S>,
  topic: string,
  partitions: readonly number[],
  schemas: readonly TableSchema[],
): Promise<number> {
  let flushed = 0;
  for (const p of partitions) {
    const outcome = await runOnState(deps, { consumer, topic, scope: String(p) }, codec, async (input) => {
      const { loaded, out, outbox } = input;
      const fence = loaded.fences[String(p)];
      if (outbox.pending === null || fence === undefined) return undefined;
      const ctx = stageContext(deps, out, new AttemptStateStore(loaded));
      const range = { topic, partition: p, firstOffset: outbox.pending.firstOffset, lastOffset: fence };
      const tables = schemas.map((schema) => ({ schema, rows: [] }));
      const deferred = await deferRows(ctx, outbox, tables, range, true);
      return {
        delta: new Uint8Array(0),
        ...(deferred.change === undefined ? {} : { outbox: deferred.change }),
        fences: loaded.fences,
        sources: loaded.sources,
      };
    });
    if (outcome.committed) flushed++;
  }
  return flushed;
}

export function stageContext(
  deps: BaseDeps & { readonly deadLetters?: DeadLetterSink; readonly alerts?: AlertSink },
  objects: ObjectStore,
  state: StageContext['state'],
  extra: Partial<Pick<StageContext, 'dedup' | 'cepKeys' | 'alerts'>> = {},
): StageContext {
  return {
    domain: deps.domain,
    objects,
    state,
    metrics: deps.metrics,
    ...(deps.deadLetters ? { deadLetters: deps.deadLetters } : {}),
    ...(deps.alerts ? { alerts: deps.alerts } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...extra,
  };
}

/** The records (or decoded records) after the partition's fence. */
export function fresh<R extends { readonly offset: number }>(
  records: readonly R[],
  fence: number | undefined,
): R[] {
  return fence === undefined ? [...records] : records.filter((r) => r.offset > fence);
}

/** The coordinates of `records` (non-empty, in offset order) of batch `b`: their file names. */
export function rangeOf(b: PartitionBatch, records: readonly { readonly offset: number }[]): SourceRange {
  return {
    topic: b.topic,
    partition: b.partition,
    firstOffset: records[0]!.offset,
    lastOffset: records[records.length - 1]!.offset,
  };
}

/** `<topic>-<partition>@<offset>` of header `tidewater-source`. */
export function parseSource(value: string | undefined): { id: string; offset: number } | undefined {
  if (value === undefined) return undefined;
  const at = value.lastIndexOf('@');
  if (at < 0) return undefined;
  const offset = Number(value.slice(at + 1));
  if (!Number.isSafeInteger(offset)) return undefined;
  return { id: value.slice(0, at), offset };
}

export interface DecodedEvents {
  readonly events: SilverEvent[];
  readonly letters: DeadLetter[];
  readonly sources: Record<string, number>;
  readonly skipped: number;
}

/** An enriched record decoded: its source coordinates, and its silver event or its dead letter. */
export interface DecodedEnriched {
  /** The enriched record's offset. */
  readonly offset: number;
  readonly src: { readonly id: string; readonly offset: number } | undefined;
  readonly event: SilverEvent | undefined;
  readonly letter: DeadLetter | undefined;
}

/**
 * Decodes enriched records, fences aside (see {@link pastFences}). A record that is not a silver
 * row (a wiring bug) becomes a dead letter, never allowed to stall the partition.
 * @param coordinates `source`: the events carry the raw record's coordinates (the windows see
 *   their source partition's watermark, as in embedded runs); `enriched`: the enriched ones.
 */
export function decodeEnriched(
  domain: Domain,
  records: readonly DecodedRecord[],
  coordinates: 'enriched' | 'source',
): DecodedEnriched[] {
  return records.map((r) => {
    const src = parseSource(r.headers.find(([n]) => n === SOURCE_HEADER)?.[1]);
    try {
      const e = decodeEnrichedRecord(domain, r);
      const origin = src === undefined ? undefined : parsePartitionId(src.id);
      const event =
        coordinates === 'source' && src !== undefined && origin !== undefined
          ? { ...e, ...origin, offset: src.offset }
          : e;
      return { offset: r.offset, src, event, letter: undefined };
    } catch (err) {
      const letter = toDeadLetter(r, { code: 'wrong_type', message: (err as Error).message });
      return { offset: r.offset, src, event: undefined, letter };
    }
  });
}

/**
 * The decoded records past the source fences: a record whose source offset is at or below its
 * source partition's fence is a copy `enrich` produced again on a retry, and is skipped.
 */
export function pastFences(
  decoded: readonly DecodedEnriched[],
  sourceFences: Readonly<Record<string, number>>,
): DecodedEvents {
  const sources: Record<string, number> = { ...sourceFences };
  const events: SilverEvent[] = [];
  const letters: DeadLetter[] = [];
  let skipped = 0;
  for (const d of decoded) {
    if (d.src !== undefined) {
      const fence = sources[d.src.id];
      if (fence !== undefined && d.src.offset <= fence) {
        skipped++;
        continue;
      }
      sources[d.src.id] = d.src.offset;
    }
    if (d.event !== undefined) events.push(d.event);
    if (d.letter !== undefined) letters.push(d.letter);
  }
  return { events, letters, sources, skipped };
}

export async function sendLetters(
  deps: StatefulDeps,
  source: SourceRange,
  letters: readonly DeadLetter[],
): Promise<void> {
  await deps.deadLetters.send(source, letters);
  deps.metrics.count('DeadLettered', letters.length);
}
