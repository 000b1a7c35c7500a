import type { SourceRange } from '../adapters/parquet/partition.ts';
import {
  type DeadLetter,
  Deduplicator,
  type DedupState,
  layerSchemas,
  type Row,
  type SilverEvent,
  type TableSchema,
  toDeadLetter,
  type Validator,
  validatorOf,
} from '../core/index.ts';
import type { SourceBatch } from '../ports/event-source.ts';
import { CONSUMERS, type StageContext } from './context.ts';
import { Fence } from './fence.ts';
import { emptyWritten, flushWrites, type Written, writeRows } from './write.ts';

/**
 * Stage `enrich` (raw topic -> `silver/events` + dead letters + the events to forward to windows
 * and CEP). Per record: validate and enrich (core), poison to the dead-letter sink with its reason,
 * coordinates and raw bytes, duplicates (by event_id) counted and dropped, the rest written to
 * silver and returned in `forward`. State: the de-duplication set, per (enrich, topic, partition),
 * unless the context has a `dedup` store (AWS): the ids are then remembered there, one small item
 * each, and the state saved with the fence is empty (a state of every id of the retention period
 * would be rewritten at every commit).
 *
 * Usage, per batch on AWS or for a whole run embedded:
 * ```ts
 * const stage = await EnrichStage.open(ctx, { topic, partition });
 * const r = await stage.apply(batch);   // writes silver + dead letters of the batch
 * await stage.commit();                  // saves the dedup state, fenced (SPEC §5)
 * ```
 */

export interface EnrichResult {
  /** The offsets processed (a redelivered head is skipped); undefined when all were applied before. */
  readonly range: SourceRange | undefined;
  /** Records processed (new ones only). */
  readonly records: number;
  readonly silverRows: number;
  readonly deadLettered: number;
  readonly duplicates: number;
  /** Poison records by reason code. */
  readonly poisonByCode: Readonly<Record<string, number>>;
  /** Valid, first-seen events, in arrival order: the input of `windows` and `cep`. */
  readonly forward: readonly SilverEvent[];
  /** Largest Kafka timestamp of the records processed (-Infinity when none). */
  readonly maxKafkaTs: number;
  readonly written: Written;
}

/** The state saved when the ids live in a `DedupStore`: only the fence matters. */
const NO_IDS: DedupState = { version: 1, maxTs: null, buckets: [] };

export class EnrichStage {
  private readonly ctx: StageContext;
  private readonly fence: Fence<DedupState>;
  private readonly validate: Validator;
  /** The ids, when they are part of the state (no `ctx.dedup`). */
  private readonly dedup: Deduplicator | null;
  private readonly silver: TableSchema;

  private constructor(
    ctx: StageContext,
    fence: Fence<DedupState>,
    state: DedupState | undefined,
    copyStrings: boolean,
  ) {
    this.ctx = ctx;
    this.fence = fence;
    this.validate = validatorOf(ctx.domain, { copyStrings });
    // With a store, ids a state from before it may hold are not carried over (documented).
    this.dedup = ctx.dedup === undefined ? new Deduplicator(ctx.domain, state) : null;
    this.silver = layerSchemas(ctx.domain).silver;
  }

  /**
   * Loads the dedup state of one topic partition.
   * @param options.copyStrings whether the events' long strings are copied out of the record
   *   texts (`compileValidator`). Keep the default when the events outlive their batch (the
   *   embedded pipeline holds them in its windows, CEP and dedup set); the AWS consumer, which
   *   publishes them and lets them go, turns it off. @default true
   */
  static async open(
    ctx: StageContext,
    at: { readonly topic: string; readonly partition: number },
    options: { readonly copyStrings?: boolean } = {},
  ): Promise<EnrichStage> {
    if (ctx.deadLetters === undefined) throw new Error('EnrichStage needs a dead-letter sink in its context');
    const { fence, state } = await Fence.open<DedupState>(ctx.state, { consumer: CONSUMERS.enrich, ...at });
    return new EnrichStage(ctx, fence, state, options.copyStrings !== false);
  }

  /** Last offset applied (committed or not). */
  get lastApplied(): number | null {
    return this.fence.lastApplied;
  }

  /** Validates, de-duplicates and enriches a batch of the stage's partition. */
  async apply(batch: SourceBatch): Promise<EnrichResult> {
    const ctx = this.ctx;
    const written = emptyWritten();
    const records = this.fence.fresh(batch.records);
    const first = records[0];
    const last = records[records.length - 1];
    const range =
      first === undefined || last === undefined
        ? undefined
        : this.fence.apply({
            topic: batch.topic,
            partition: batch.partition,
            firstOffset: first.offset,
            lastOffset: last.offset,
          });
    if (range === undefined) {
      return {
        range,
        records: 0,
        silverRows: 0,
        deadLettered: 0,
        duplicates: 0,
        poisonByCode: {},
        forward: [],
        maxKafkaTs: Number.NEGATIVE_INFINITY,
        written,
      };
    }
    const validate = this.validate;
    const rows: Row[] = [];
    const forward: SilverEvent[] = [];
    const letters: DeadLetter[] = [];
    const valid: SilverEvent[] = [];
    /** The Kafka timestamp of each valid event's record (latency metrics). */
    const validKafkaTs: number[] = [];
    const poisonByCode: Record<string, number> = {};
    let duplicates = 0;
    let maxKafkaTs = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (record.kafkaTs > maxKafkaTs) maxKafkaTs = record.kafkaTs;
      const r = validate(record);
      if (!r.ok) {
        letters.push(toDeadLetter(record, r.reason));
        poisonByCode[r.reason.code] = (poisonByCode[r.reason.code] ?? 0) + 1;
        continue;
      }
      valid.push(r.event);
      validKafkaTs.push(record.kafkaTs);
    }
    const forwardKafkaTs: number[] = [];
    const dedup = this.dedup;
    const answers =
      dedup === null
        ? await ctx.dedup!.duplicates(
            { topic: batch.topic, partition: batch.partition },
            valid.map((e) => ({ id: e.id, ts: e.ts, offset: e.offset })),
            this.fence.lastCommitted,
          )
        : null;
    for (let i = 0; i < valid.length; i++) {
      const e = valid[i]!;
      if (answers === null ? dedup!.isDuplicate(e.id, e.ts) : answers[i]) {
        duplicates++;
        continue;
      }
      rows.push(e.row);
      forward.push(e);
      forwardKafkaTs.push(validKafkaTs[i]!);
    }
    ctx.metrics.count('RecordsIn', records.length, { layer: 'silver' });
    // Dead letters first: a poison record must be stored before its batch counts as processed.
    if (letters.length > 0) await ctx.deadLetters!.send(range, letters);
    const silverRows = await writeRows(ctx, this.silver, rows, range, written);
    ctx.metrics.count('RecordsOut', silverRows, { layer: 'silver' });
    if (forward.length > 0) {
      const writtenAt = (ctx.clock ?? Date.now)();
      const consumer = { consumer: CONSUMERS.enrich };
      ctx.metrics.latency(
        'EventToOutputLatency',
        forward.map((e) => writtenAt - e.ts),
        consumer,
      );
      ctx.metrics.latency(
        'KafkaToOutputLatency',
        forwardKafkaTs.map((t) => writtenAt - t),
        consumer,
      );
    }
    if (letters.length > 0) ctx.metrics.count('DeadLettered', letters.length);
    if (duplicates > 0) ctx.metrics.count('Duplicates', duplicates);
    return {
      range,
      records: records.length,
      silverRows,
      deadLettered: letters.length,
      duplicates,
      poisonByCode,
      forward,
      maxKafkaTs,
      written,
    };
  }

  /** Saves the dedup state fenced by the last committed offset (StaleFenceError when stale). */
  async commit(): Promise<void> {
    await flushWrites(this.ctx);
    const dedup = this.dedup;
    await this.fence.commit(() => (dedup === null ? NO_IDS : dedup.snapshot()));
  }
}
