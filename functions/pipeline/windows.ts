import type { SourceRange } from '../adapters/parquet/partition.ts';
import { type LayerSchemas, layerSchemas, type Row, WindowEngine, type WindowState } from '../core/index.ts';
import { CONSUMERS, type StageContext } from './context.ts';
import type { EventBatch } from './events.ts';
import { Fence } from './fence.ts';
import { emptyWritten, flushWrites, type Written, writeRows } from './write.ts';

/**
 * Stage `windows` (silver events -> `gold/window_*`, `gold/sessions`, `gold/late_events`): the
 * core's event-time engine with per-partition watermarks (SPEC §3). Windows are emitted once final;
 * {@link WindowsStage.finish} ends an embedded run by flushing every open window. Rows are buffered
 * until {@link WindowsStage.commit}, which writes them named after the offsets applied since the
 * previous commit (one file per table and hour, not one per small batch) and then saves the engine
 * state, fenced.
 */

export interface WindowsApplyResult {
  readonly range: SourceRange | undefined;
  /** Events fed to the engine. */
  readonly events: number;
  /** Late rows produced (one per event and window it missed). */
  readonly lateRows: number;
  /** Distinct events late for at least one window. */
  readonly lateEvents: number;
}

export interface WindowsCommitResult {
  readonly range: SourceRange | undefined;
  /** Rows written per gold table path. */
  readonly written: Written;
}

export class WindowsStage {
  private readonly ctx: StageContext;
  private readonly fence: Fence<WindowState>;
  private readonly engine: WindowEngine;
  private readonly schemas: LayerSchemas;
  private readonly pending = new Map<string, Row[]>();
  private late: Row[] = [];
  private finished = false;
  private flushRange: SourceRange | undefined;

  private constructor(ctx: StageContext, fence: Fence<WindowState>, state: WindowState | undefined) {
    this.ctx = ctx;
    this.fence = fence;
    this.engine = new WindowEngine(ctx.domain, state);
    this.schemas = layerSchemas(ctx.domain);
    for (const name of Object.keys(this.schemas.windows)) this.pending.set(name, []);
  }

  /** Loads the window state of one topic partition (of the topic the events come from). */
  static async open(
    ctx: StageContext,
    at: { readonly topic: string; readonly partition: number },
  ): Promise<WindowsStage> {
    const { fence, state } = await Fence.open<WindowState>(ctx.state, { consumer: CONSUMERS.windows, ...at });
    return new WindowsStage(ctx, fence, state);
  }

  get lastApplied(): number | null {
    return this.fence.lastApplied;
  }

  /** Feeds a batch of events to the engine and takes the windows that became final. */
  async apply(batch: EventBatch): Promise<WindowsApplyResult> {
    if (this.finished) throw new Error('WindowsStage: apply() after finish()');
    const events = this.fence.fresh(batch.events);
    const range = this.fence.apply(batch.source);
    if (range === undefined) return { range, events: 0, lateRows: 0, lateEvents: 0 };
    const engine = this.engine;
    for (let i = 0; i < events.length; i++) engine.add(events[i]!);
    this.ctx.metrics.count('RecordsIn', events.length, { layer: 'gold' });
    return { range, events: events.length, ...this.take(engine.collect()) };
  }

  /** Flushes every open window (end of an embedded run); call {@link commit} after it. */
  finish(): WindowsApplyResult {
    if (this.finished) return { range: undefined, events: 0, lateRows: 0, lateEvents: 0 };
    this.finished = true;
    const last = this.fence.lastApplied;
    if (this.fence.pending() === undefined && last !== null) {
      // Nothing applied since the last commit: the flushed rows are named after the last offset.
      this.flushRange = {
        topic: this.fence.key.topic,
        partition: this.fence.key.partition,
        firstOffset: last,
        lastOffset: last,
      };
    }
    return { range: this.fence.pending() ?? this.flushRange, events: 0, ...this.take(this.engine.flush()) };
  }

  private take(out: { rows: Record<string, Row[]>; late: Row[] }): { lateRows: number; lateEvents: number } {
    for (const [name, rows] of Object.entries(out.rows)) {
      const buf = this.pending.get(name);
      if (buf !== undefined) for (const r of rows) buf.push(r);
    }
    const idField = this.ctx.domain.dedupField;
    const ids = new Set<unknown>();
    for (const r of out.late) {
      this.late.push(r);
      ids.add(r[idField]);
      this.ctx.metrics.count('LateEvents', 1, { window: String(r['window_name']) });
    }
    return { lateRows: out.late.length, lateEvents: ids.size };
  }

  /** Writes the buffered gold rows, then saves the engine state fenced (StaleFenceError when stale). */
  async commit(): Promise<WindowsCommitResult> {
    const written = emptyWritten();
    const range = this.fence.pending() ?? this.flushRange;
    if (range === undefined) return { range, written };
    this.flushRange = undefined;
    let out = 0;
    for (const [name, rows] of this.pending) {
      out += await writeRows(this.ctx, this.schemas.windows[name]!, rows, range, written);
    }
    out += await writeRows(this.ctx, this.schemas.lateEvents, this.late, range, written);
    this.ctx.metrics.count('RecordsOut', out, { layer: 'gold' });
    await flushWrites(this.ctx);
    await this.fence.commit(() => this.engine.snapshot());
    for (const rows of this.pending.values()) rows.length = 0;
    this.late = [];
    return { range, written };
  }
}
