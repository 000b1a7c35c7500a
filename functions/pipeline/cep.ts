import type { SourceRange } from '../adapters/parquet/partition.ts';
import {
  CepEngine,
  type CepKeyState,
  type CepState,
  layerSchemas,
  nextVersion,
  type Row,
  stateAsOf,
  type TableSchema,
  type Versioned,
} from '../core/index.ts';
import type { KeyStateStore } from '../ports/key-state-store.ts';
import { CONSUMERS, type StageContext } from './context.ts';
import type { EventBatch } from './events.ts';
import { Fence } from './fence.ts';
import { emptyWritten, flushWrites, type Written, writeRows } from './write.ts';

/**
 * Stage `cep` (silver events -> `gold/alerts` and the alert sink): the core's per-key pattern
 * engine (SPEC §4), in arrival order, not subject to the watermark. State: every key's CEP state
 * of the partition, per (cep, topic, partition); a key's state is dropped at commit once its
 * `expiresAt` is behind the newest event time seen. Alerts are buffered until
 * {@link CepStage.commit}, which writes `gold/alerts`, publishes them, then saves the state.
 *
 * With `ctx.cepKeys` (AWS) the key states live in a store of their own instead: `apply` loads the keys
 * of its events (their state as of the last commit: a dead attempt's writes are ignored, see the
 * core's `Versioned`), `commit` writes the keys it changed before the fenced commit of a state
 * that holds only the newest event ts; a loaded key state that expired by that ts is dropped, as
 * eviction at commit would have.
 */

export interface CepApplyResult {
  readonly range: SourceRange | undefined;
  readonly events: number;
  readonly alerts: number;
  /** Alerts of this batch by pattern. */
  readonly byPattern: Readonly<Record<string, number>>;
}

export interface CepCommitResult {
  readonly range: SourceRange | undefined;
  readonly alerts: number;
  readonly written: Written;
}

export class CepStage {
  private readonly ctx: StageContext;
  private readonly fence: Fence<CepState>;
  private readonly engine: CepEngine;
  private readonly alertsSchema: TableSchema;
  private pending: Row[] = [];
  /** The Kafka timestamp of each pending alert's triggering record, when known (latency metrics). */
  private pendingKafkaTs: number[] = [];
  private maxTs = Number.NEGATIVE_INFINITY;
  /** Per-key store mode: the store, the items loaded (null: none), the keys changed since the commit. */
  private readonly keys: KeyStateStore<CepKeyState> | undefined;
  private readonly loaded = new Map<string, Versioned<CepKeyState> | null>();
  private readonly touched = new Set<string>();
  /** Per-key store mode: the newest event ts as of the last commit (expiry of loaded keys). */
  private committedMaxTs = Number.NEGATIVE_INFINITY;

  private constructor(ctx: StageContext, fence: Fence<CepState>, state: CepState | undefined) {
    this.ctx = ctx;
    this.fence = fence;
    this.keys = ctx.cepKeys;
    this.engine = new CepEngine(ctx.domain, this.keys === undefined ? state : undefined);
    if (this.keys !== undefined && state?.maxTs !== undefined) {
      this.committedMaxTs = state.maxTs;
      this.maxTs = state.maxTs;
    }
    this.alertsSchema = layerSchemas(ctx.domain).alerts;
  }

  static async open(
    ctx: StageContext,
    at: { readonly topic: string; readonly partition: number },
  ): Promise<CepStage> {
    const { fence, state } = await Fence.open<CepState>(ctx.state, { consumer: CONSUMERS.cep, ...at });
    return new CepStage(ctx, fence, state);
  }

  get lastApplied(): number | null {
    return this.fence.lastApplied;
  }

  /** Runs the patterns over a batch of events; the alerts wait for {@link commit}. */
  async apply(batch: EventBatch): Promise<CepApplyResult> {
    const events = this.fence.fresh(batch.events);
    const range = this.fence.apply(batch.source);
    if (range === undefined) return { range, events: 0, alerts: 0, byPattern: {} };
    if (this.keys !== undefined) await this.loadKeys(this.keys, events);
    const engine = this.engine;
    const byPattern: Record<string, number> = {};
    const clock = this.ctx.clock ?? Date.now;
    let alerts = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.ts > this.maxTs) this.maxTs = e.ts;
      const fired = engine.process(e);
      for (let j = 0; j < fired.length; j++) {
        const a = fired[j]!;
        // Processing time of the decision (SPEC §2): the only alert column two runs may disagree on.
        a['detected_at'] = clock();
        this.pending.push(a);
        if (e.kafkaTs !== undefined) this.pendingKafkaTs.push(e.kafkaTs);
        const p = String(a['pattern']);
        byPattern[p] = (byPattern[p] ?? 0) + 1;
        alerts++;
      }
    }
    for (const [pattern, n] of Object.entries(byPattern)) this.ctx.metrics.count('Alerts', n, { pattern });
    return { range, events: events.length, alerts, byPattern };
  }

  /** Per-key store mode: puts the committed states of the events' keys not loaded yet into the engine. */
  private async loadKeys(store: KeyStateStore<CepKeyState>, events: EventBatch['events']): Promise<void> {
    const missing = new Set<string>();
    for (const e of events) {
      this.touched.add(e.key);
      if (!this.loaded.has(e.key)) missing.add(e.key);
    }
    if (missing.size === 0) return;
    const items = await store.load(this.fence.key, [...missing]);
    const committed = this.fence.lastCommitted;
    for (const key of missing) {
      const item = items.get(key);
      this.loaded.set(key, item ?? null);
      const state = stateAsOf(item, committed);
      if (state !== null && state.expiresAt > this.committedMaxTs) this.engine.restoreKey(key, state);
    }
  }

  /**
   * Writes `gold/alerts` (or hands the rows to `writeGold`, which returns how many it wrote now:
   * the Lambda consumer defers them in its partition's outbox), publishes the alerts, then saves
   * the state fenced (StaleFenceError when stale).
   */
  async commit(
    writeGold?: (schema: TableSchema, rows: readonly Row[], range: SourceRange) => Promise<number>,
  ): Promise<CepCommitResult> {
    const written = emptyWritten();
    const range = this.fence.pending();
    if (range === undefined) return { range, alerts: 0, written };
    const alerts = this.pending;
    const n =
      writeGold === undefined
        ? await writeRows(this.ctx, this.alertsSchema, alerts, range, written)
        : await writeGold(this.alertsSchema, alerts, range);
    this.ctx.metrics.count('RecordsOut', n, { layer: 'gold' });
    if (alerts.length > 0 && this.ctx.alerts !== undefined) await this.ctx.alerts.send(alerts);
    if (alerts.length > 0) {
      // Event time (and the cep input's Kafka timestamp) to the alert written and published.
      const writtenAt = (this.ctx.clock ?? Date.now)();
      const consumer = { consumer: CONSUMERS.cep };
      this.ctx.metrics.latency(
        'EventToOutputLatency',
        alerts.map((a) => writtenAt - Number(a['ts'])),
        consumer,
      );
      this.ctx.metrics.latency(
        'KafkaToOutputLatency',
        this.pendingKafkaTs.map((t) => writtenAt - t),
        consumer,
      );
    }
    const store = this.keys;
    if (store !== undefined) {
      // The changed keys go out before the fence moves (outputs before state, SPEC §5).
      const applied = this.fence.lastApplied!;
      const committed = this.fence.lastCommitted;
      const items = new Map<string, Versioned<CepKeyState>>();
      for (const key of this.touched) {
        const state = this.engine.keyState(key);
        if (state !== undefined)
          items.set(key, nextVersion(this.loaded.get(key) ?? undefined, state, applied, committed));
      }
      await store.save(this.fence.key, items);
      for (const [key, item] of items) this.loaded.set(key, item);
      this.touched.clear();
    }
    if (this.maxTs > Number.NEGATIVE_INFINITY) this.engine.evictExpired(this.maxTs);
    await flushWrites(this.ctx);
    const maxTs = this.maxTs;
    await this.fence.commit(() =>
      store === undefined
        ? this.engine.snapshot()
        : { version: 1, keys: {}, ...(maxTs > Number.NEGATIVE_INFINITY ? { maxTs } : {}) },
    );
    if (store !== undefined) this.committedMaxTs = maxTs;
    this.pending = [];
    this.pendingKafkaTs = [];
    return { range, alerts: n, written };
  }
}
