import type { SourceRange } from '../adapters/parquet/partition.ts';
import { CepEngine, type CepState, layerSchemas, type Row, type TableSchema } from '../core/index.ts';
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
  private maxTs = Number.NEGATIVE_INFINITY;

  private constructor(ctx: StageContext, fence: Fence<CepState>, state: CepState | undefined) {
    this.ctx = ctx;
    this.fence = fence;
    this.engine = new CepEngine(ctx.domain, state);
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
  apply(batch: EventBatch): CepApplyResult {
    const events = this.fence.fresh(batch.events);
    const range = this.fence.apply(batch.source);
    if (range === undefined) return { range, events: 0, alerts: 0, byPattern: {} };
    const engine = this.engine;
    const byPattern: Record<string, number> = {};
    let alerts = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.ts > this.maxTs) this.maxTs = e.ts;
      const fired = engine.process(e);
      for (let j = 0; j < fired.length; j++) {
        const a = fired[j]!;
        this.pending.push(a);
        const p = String(a['pattern']);
        byPattern[p] = (byPattern[p] ?? 0) + 1;
        alerts++;
      }
    }
    for (const [pattern, n] of Object.entries(byPattern)) this.ctx.metrics.count('Alerts', n, { pattern });
    return { range, events: events.length, alerts, byPattern };
  }

  /** Writes `gold/alerts`, publishes the alerts, then saves the state fenced (StaleFenceError when stale). */
  async commit(): Promise<CepCommitResult> {
    const written = emptyWritten();
    const range = this.fence.pending();
    if (range === undefined) return { range, alerts: 0, written };
    const alerts = this.pending;
    const n = await writeRows(this.ctx, this.alertsSchema, alerts, range, written);
    this.ctx.metrics.count('RecordsOut', n, { layer: 'gold' });
    if (alerts.length > 0 && this.ctx.alerts !== undefined) await this.ctx.alerts.send(alerts);
    if (this.maxTs > Number.NEGATIVE_INFINITY) this.engine.evictExpired(this.maxTs);
    await flushWrites(this.ctx);
    await this.fence.commit(() => this.engine.snapshot());
    this.pending = [];
    return { range, alerts: n, written };
  }
}
