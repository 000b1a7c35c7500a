/**
 * The event-time windowing engine (SPEC §3): tumbling, sliding and session windows with
 * per-partition watermarks, late events as a side output and mergeable partial aggregates.
 *
 * Semantics, precisely:
 * - Each partition (`"<topic>-<partition>"`) keeps the largest event `ts` seen; its watermark is
 *   that minus `max_out_of_orderness`. A partition seen for the first time starts at the current
 *   minimum watermark of the known partitions, so the global frontier never moves back
 *   (SPEC is silent; otherwise a new partition could re-open windows already emitted).
 * - Fixed windows cover `[start, start + size)` with starts aligned to the epoch (sliding: every
 *   `slide`). An event is late for a window when, at its arrival, `end <= watermark` of its
 *   partition (judged before the event advances it); it is then not counted there and one
 *   late row per missed window is produced.
 * - A session of a group is a maximal run of events whose gaps are `< gap`; its window is
 *   `[first ts, last ts + gap)` and `session_end` is the last ts. An event joins (and may bridge,
 *   merging) every session with `start - gap < ts < last + gap`. It is late when its own window
 *   `[ts, ts + gap)` has `end <= watermark`, or when it would join a session that is already
 *   final (its end `<=` the minimum watermark): a final session never changes after emission.
 * - A window is final once every known partition's watermark is `>= end`; {@link WindowEngine.collect}
 *   emits final windows, {@link WindowEngine.flush} emits everything (end of an embedded run).
 *   Which events count and which are late depends only on the arrival order, never on when
 *   `collect` is called, so cutting a stream into invocations does not change the result.
 * - Events whose group-by value is null are not counted in that window (e.g. logins have no
 *   merchant_id), and are not late for it either.
 *
 * State ({@link WindowState}) is plain JSON: an adapter persists `snapshot()` and passes it back
 * to `new WindowEngine(domain, state)` in the next invocation.
 */
import {
  type Aggregate,
  addToAggregate,
  aggregateAvg,
  emptyAggregate,
  mergeAggregates,
} from './aggregate.ts';
import type { Domain, WindowSpec } from './domain.ts';
import type { Row } from './model.ts';
import { silverColumnType } from './schemas.ts';
import type { SilverEvent } from './validate.ts';

/** Serializable state of the windowing engine. */
export interface WindowState {
  readonly version: 1;
  /** Largest event ts seen per partition id `"<topic>-<partition>"` (watermark = this - max_out_of_orderness). */
  readonly partitions: Record<string, number>;
  /** Open fixed windows per window name: `[start, group, ...aggregate]`. */
  readonly fixed: Record<string, Array<[number, string, ...Aggregate]>>;
  /** Per session window name: open sessions `[group, start, last, ...aggregate]`, and emitted sessions still able to catch a late event `[group, start, last]` in emission order. */
  readonly sessions: Record<
    string,
    {
      readonly open: Array<[string, number, number, ...Aggregate]>;
      readonly closed: Array<[string, number, number]>;
    }
  >;
}

/** What the engine produced since the last call: final window rows per window name, and late rows. */
export interface WindowOutput {
  /** Rows of each window's gold table (columns of `layerSchemas(domain).windows[name]`). */
  readonly rows: Record<string, Row[]>;
  /** Rows of `gold/late_events`. */
  readonly late: Row[];
}

/** A fixed window's partial aggregate of one group: `[start, group, aggregate]`. */
export type FixedPartial = readonly [start: number, group: string, agg: Aggregate];

/**
 * {@link WindowOutput} with the fixed windows as mergeable partial aggregates instead of rows
 * (`rows` then holds the session windows only): what one partition's engine gives the merge of
 * every partition's partials (`fixedWindowRows`).
 */
export interface PartialWindowOutput extends WindowOutput {
  readonly partials: Record<string, FixedPartial[]>;
}

type GroupCast = (group: string) => string | number | boolean;

interface FixedDef {
  readonly kind: 'fixed';
  readonly spec: WindowSpec;
  readonly cast: GroupCast;
  /** start -> group -> aggregate */
  readonly open: Map<number, Map<string, Aggregate>>;
}

interface Session {
  start: number;
  last: number;
  agg: Aggregate;
  readonly group: string;
  /** Merged into another session or emitted: its heap entry is stale. */
  dead: boolean;
  /** End it is scheduled at in the heap (<= its real end, which only grows). */
  sched: number;
}

/** The sessions of one group: one map lookup per event finds both lists. */
interface SessionGroup {
  /** Open sessions sorted by start (non-overlapping). */
  readonly open: Session[];
  /** Emitted sessions [start, last] still relevant for lateness. */
  readonly closed: Array<[number, number]>;
}

interface SessionDef {
  readonly kind: 'session';
  readonly spec: WindowSpec;
  readonly cast: GroupCast;
  /** group -> its sessions; removed when it has neither open nor closed ones */
  readonly groups: Map<string, SessionGroup>;
  /** emitted sessions in emission (= end) order, for pruning */
  closedQueue: Array<[string, number, number]>;
  closedHead: number;
  /** Lazy min-heap of open sessions by scheduled end; re-scheduled when popped early. */
  readonly heap: Session[];
}

type Def = FixedDef | SessionDef;

function heapPush(h: Session[], item: Session): void {
  h.push(item);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]!.sched <= item.sched) break;
    h[i] = h[p]!;
    i = p;
  }
  h[i] = item;
}

function heapPop(h: Session[]): Session | undefined {
  const top = h[0];
  const last = h.pop();
  if (top === undefined || last === undefined || h.length === 0) return top;
  let i = 0;
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && h[r]!.sched < h[l]!.sched ? r : l;
    if (h[c]!.sched >= last.sched) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
  return top;
}

function floorTo(ts: number, step: number): number {
  const r = ts % step;
  return r >= 0 ? ts - r : ts - r - step;
}

function makeCast(domain: Domain, column: string): GroupCast {
  const type = silverColumnType(domain, column);
  if (type === 'string' || type === 'date') return (g) => g;
  if (type === 'boolean') return (g) => g === 'true';
  return (g) => Number(g);
}

/**
 * Windows of one domain over a stream of silver events. Feed events with {@link add} in arrival
 * order, call {@link collect} whenever convenient (e.g. after each batch) to take final windows
 * and late rows, {@link snapshot} to persist, {@link flush} at the very end of a run.
 */
export class WindowEngine {
  private readonly domain: Domain;
  private readonly ooo: number;
  private readonly defs: Def[];
  private readonly parts = new Map<string, number>();
  private minWm = Number.NEGATIVE_INFINITY;
  private late: Row[] = [];
  private flushed = false;
  private readonly pids = new Map<string, Map<number, string>>();
  private lastTopic: string | null = null;
  private lastPartition = -1;
  private lastPid = '';

  /** @param state a snapshot from a previous engine of the same domain; fresh state when omitted */
  constructor(domain: Domain, state?: WindowState) {
    this.domain = domain;
    this.ooo = domain.maxOutOfOrdernessMs;
    this.defs = domain.windows.map((spec): Def => {
      const cast = makeCast(domain, spec.groupBy);
      if (spec.type === 'session') {
        return {
          kind: 'session',
          spec,
          cast,
          groups: new Map(),
          closedQueue: [],
          closedHead: 0,
          heap: [],
        };
      }
      return { kind: 'fixed', spec, cast, open: new Map() };
    });
    if (state) this.restore(state);
  }

  /** The watermark of a partition (`"<topic>-<partition>"`), or -Infinity when unknown. */
  watermark(partitionId: string): number {
    const max = this.parts.get(partitionId);
    return max === undefined ? Number.NEGATIVE_INFINITY : max - this.ooo;
  }

  /** The minimum watermark over all known partitions: windows ending at or before it are final. */
  get minWatermark(): number {
    return this.minWm;
  }

  /**
   * Raises what the engine knows of a partition's largest event time to `maxTs` (never lowers
   * it): another partition's progress, learned without its events. A partition registered this
   * way before its first event (at a time before any event) holds windows open until it has
   * events, and judges lateness by its own events only.
   */
  raisePartition(partitionId: string, maxTs: number): void {
    const known = this.parts.get(partitionId);
    if (known !== undefined && known >= maxTs) return;
    this.parts.set(partitionId, maxTs);
    this.recomputeMin();
  }

  /** Processes one silver event (arrival order matters; see the module doc). */
  add(event: SilverEvent): void {
    if (this.flushed) throw new Error('WindowEngine: add() after flush(); start a new engine for a new run');
    const pid = this.partitionId(event.topic, event.partition);
    const known = this.parts.get(pid);
    const wm = known === undefined ? this.minWm : known - this.ooo;
    const minWm = this.minWm;
    const ts = event.ts;
    const row = event.row;
    for (let i = 0; i < this.defs.length; i++) {
      const def = this.defs[i]!;
      const spec = def.spec;
      const gv = row[spec.groupBy];
      if (gv === null || gv === undefined) continue;
      const group = typeof gv === 'string' ? gv : String(gv);
      let measure: number | null = null;
      if (spec.measure !== null) {
        const mv = row[spec.measure.field];
        if (typeof mv === 'number') measure = mv;
      }
      if (def.kind === 'fixed') this.addFixed(def, event, group, measure, wm);
      else this.addSession(def, event, group, measure, wm, minWm);
    }
    // Advance the partition's watermark.
    const newMax = known === undefined ? Math.max(ts, this.minWm + this.ooo) : Math.max(known, ts);
    if (known === undefined || newMax !== known) {
      this.parts.set(pid, newMax);
      if (known === undefined || known - this.ooo <= this.minWm) this.recomputeMin();
    }
  }

  /** `"<topic>-<partition>"`, built once per partition (this runs for every event). */
  private partitionId(topic: string, partition: number): string {
    if (topic === this.lastTopic && partition === this.lastPartition) return this.lastPid;
    let byPartition = this.pids.get(topic);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.pids.set(topic, byPartition);
    }
    let pid = byPartition.get(partition);
    if (pid === undefined) {
      pid = `${topic}-${partition}`;
      byPartition.set(partition, pid);
    }
    this.lastTopic = topic;
    this.lastPartition = partition;
    this.lastPid = pid;
    return pid;
  }

  private recomputeMin(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const max of this.parts.values()) if (max < min) min = max;
    this.minWm = min === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : min - this.ooo;
  }

  private lateRow(
    spec: WindowSpec,
    start: number,
    end: number,
    group: string,
    e: SilverEvent,
    wm: number,
  ): void {
    this.late.push({
      window_name: spec.name,
      window_start: start,
      window_end: end,
      group_value: group,
      [this.domain.dedupField]: e.id,
      [this.domain.keyField]: e.key,
      ts: e.ts,
      watermark: wm,
      topic: e.topic,
      partition: e.partition,
      offset: e.offset,
    });
  }

  private addFixed(def: FixedDef, e: SilverEvent, group: string, measure: number | null, wm: number): void {
    const size = def.spec.sizeMs;
    const slide = def.spec.slideMs;
    const lastStart = floorTo(e.ts, slide);
    for (let start = lastStart - size + slide; start <= lastStart; start += slide) {
      const end = start + size;
      if (end <= wm) {
        this.lateRow(def.spec, start, end, group, e, wm);
        continue;
      }
      let groups = def.open.get(start);
      if (groups === undefined) {
        groups = new Map();
        def.open.set(start, groups);
      }
      let agg = groups.get(group);
      if (agg === undefined) {
        agg = emptyAggregate();
        groups.set(group, agg);
      }
      addToAggregate(agg, measure);
    }
  }

  private addSession(
    def: SessionDef,
    e: SilverEvent,
    group: string,
    measure: number | null,
    wm: number,
    minWm: number,
  ): void {
    const gap = def.spec.gapMs;
    const ts = e.ts;
    if (ts + gap <= wm) {
      this.lateRow(def.spec, ts, ts + gap, group, e, wm);
      return;
    }
    let sg = def.groups.get(group);
    if (sg === undefined) {
      sg = { open: [], closed: [] };
      def.groups.set(group, sg);
    }
    const closed = sg.closed;
    for (let i = 0; i < closed.length; i++) {
      const c = closed[i]!;
      if (c[0] - gap < ts && ts < c[1] + gap) {
        this.lateRow(def.spec, c[0], c[1] + gap, group, e, wm);
        return;
      }
    }
    const list = sg.open;
    let first = -1;
    let count = 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      if (s.start - gap < ts && ts < s.last + gap) {
        if (s.last + gap <= minWm) {
          this.lateRow(def.spec, s.start, s.last + gap, group, e, wm);
          return;
        }
        if (first < 0) first = i;
        count++;
      }
    }
    if (first < 0) {
      const agg = emptyAggregate();
      addToAggregate(agg, measure);
      const s: Session = { start: ts, last: ts, agg, group, dead: false, sched: ts + gap };
      let at = list.length;
      while (at > 0 && list[at - 1]!.start > ts) at--;
      if (at === list.length) list.push(s);
      else list.splice(at, 0, s);
      heapPush(def.heap, s);
      return;
    }
    // Touching sessions are contiguous in the sorted list: merge them and the event.
    const target = list[first]!;
    for (let i = first + 1; i < first + count; i++) {
      const s = list[i]!;
      target.agg = mergeAggregates(target.agg, s.agg);
      if (s.last > target.last) target.last = s.last;
      s.dead = true;
    }
    if (count > 1) list.splice(first + 1, count - 1);
    addToAggregate(target.agg, measure);
    if (ts < target.start) target.start = ts;
    if (ts > target.last) target.last = ts;
  }

  private fixedRow(def: FixedDef, start: number, group: string, agg: Aggregate): Row {
    const spec = def.spec;
    const row: Row = {
      window_start: start,
      window_end: start + spec.sizeMs,
      [spec.groupBy]: def.cast(group),
    };
    fillAggregates(row, spec, agg);
    return row;
  }

  private sessionRow(def: SessionDef, group: string, s: Session): Row {
    const spec = def.spec;
    const row: Row = { session_start: s.start, session_end: s.last, [spec.groupBy]: def.cast(group) };
    fillAggregates(row, spec, s.agg);
    return row;
  }

  private emit(all: boolean, asPartials = false): PartialWindowOutput {
    const rows: Record<string, Row[]> = {};
    const partials: Record<string, FixedPartial[]> = {};
    const limit = all ? Number.POSITIVE_INFINITY : this.minWm;
    for (const def of this.defs) {
      const out: Row[] = [];
      if (def.kind === 'fixed') {
        const parts: FixedPartial[] = [];
        if (asPartials) partials[def.spec.name] = parts;
        else rows[def.spec.name] = out;
        const size = def.spec.sizeMs;
        const starts = [...def.open.keys()].filter((s) => s + size <= limit).sort((a, b) => a - b);
        for (const start of starts) {
          const groups = def.open.get(start)!;
          for (const group of [...groups.keys()].sort()) {
            if (asPartials) parts.push([start, group, groups.get(group)!]);
            else out.push(this.fixedRow(def, start, group, groups.get(group)!));
          }
          def.open.delete(start);
        }
      } else {
        rows[def.spec.name] = out;
        const gap = def.spec.gapMs;
        const emitted: Array<[string, Session]> = [];
        while (def.heap.length > 0 && def.heap[0]!.sched <= limit) {
          const s = heapPop(def.heap)!;
          if (s.dead) continue;
          if (s.last + gap > s.sched) {
            // It grew since it was scheduled: schedule it at its real end.
            s.sched = s.last + gap;
            heapPush(def.heap, s);
            continue;
          }
          const sg = def.groups.get(s.group);
          if (sg === undefined) continue;
          const list = sg.open;
          const idx = list.indexOf(s);
          if (idx < 0) continue;
          if (idx === 0) list.shift();
          else list.splice(idx, 1);
          if (list.length === 0 && sg.closed.length === 0) def.groups.delete(s.group);
          s.dead = true;
          emitted.push([s.group, s]);
        }
        emitted.sort((a, b) => a[1].last - b[1].last || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        for (const [group, s] of emitted) {
          out.push(this.sessionRow(def, group, s));
          if (!all) {
            let sg = def.groups.get(group);
            if (sg === undefined) {
              sg = { open: [], closed: [] };
              def.groups.set(group, sg);
            }
            sg.closed.push([s.start, s.last]);
            def.closedQueue.push([group, s.start, s.last]);
          }
        }
        this.pruneClosed(def);
      }
    }
    const late = this.late;
    this.late = [];
    return { rows, late, partials };
  }

  /** Drops emitted sessions no non-late event can reach any more (last + 2 gap <= min watermark). */
  private pruneClosed(def: SessionDef): void {
    const gap = def.spec.gapMs;
    const q = def.closedQueue;
    let head = def.closedHead;
    while (head < q.length && q[head]![2] + 2 * gap <= this.minWm) {
      const [group, start] = q[head]!;
      const sg = def.groups.get(group);
      if (sg !== undefined) {
        const c = sg.closed;
        const i = c.findIndex((x) => x[0] === start);
        if (i >= 0) c.splice(i, 1);
        if (c.length === 0 && sg.open.length === 0) def.groups.delete(group);
      }
      head++;
    }
    if (head > 1024 && head * 2 > q.length) {
      def.closedQueue = q.slice(head);
      head = 0;
    }
    def.closedHead = head;
  }

  /** Takes the windows that became final (end <= min watermark) and the late rows since the last call. */
  collect(): WindowOutput {
    return this.emit(false);
  }

  /** Emits every open window, final or not, and the pending late rows. The engine accepts no events afterwards. */
  flush(): WindowOutput {
    const out = this.emit(true);
    this.flushed = true;
    return out;
  }

  /** {@link collect} with the fixed windows as partial aggregates (one partition's share of them). */
  collectPartials(): PartialWindowOutput {
    return this.emit(false, true);
  }

  /**
   * Emits every open window, final or not, with the fixed windows as partial aggregates: the end
   * of a run of one partition. Unlike {@link flush} the engine stays usable (its state is saved
   * and may be restored), but an event added afterwards opens its windows anew.
   */
  flushPartials(): PartialWindowOutput {
    return this.emit(true, true);
  }

  /**
   * The gold rows of one fixed window of `start`, from the partial aggregates of every partition
   * (`[group, aggregate]`, any order; a group's partials are merged): rows sorted by group, as
   * {@link collect} gives them.
   */
  fixedRows(window: string, start: number, partials: readonly (readonly [string, Aggregate])[]): Row[] {
    const def = this.defs.find((d): d is FixedDef => d.kind === 'fixed' && d.spec.name === window);
    if (def === undefined) throw new Error(`WindowEngine: no fixed window named ${window}`);
    const merged = new Map<string, Aggregate>();
    for (const [g, agg] of partials) {
      const prev = merged.get(g);
      merged.set(g, prev === undefined ? ([...agg] as Aggregate) : mergeAggregates(prev, agg));
    }
    return [...merged.keys()].sort().map((g) => this.fixedRow(def, start, g, merged.get(g)!));
  }

  /** A JSON-serializable copy of the state (pending late rows are not part of it: `collect()` first). */
  snapshot(): WindowState {
    const partitions: Record<string, number> = {};
    for (const [k, v] of this.parts) partitions[k] = v;
    const fixed: WindowState['fixed'] = {};
    const sessions: Record<
      string,
      { open: Array<[string, number, number, ...Aggregate]>; closed: Array<[string, number, number]> }
    > = {};
    for (const def of this.defs) {
      if (def.kind === 'fixed') {
        const list: Array<[number, string, ...Aggregate]> = [];
        for (const [start, groups] of def.open) for (const [g, a] of groups) list.push([start, g, ...a]);
        fixed[def.spec.name] = list;
      } else {
        const open: Array<[string, number, number, ...Aggregate]> = [];
        for (const [g, sg] of def.groups) for (const s of sg.open) open.push([g, s.start, s.last, ...s.agg]);
        sessions[def.spec.name] = {
          open,
          closed: def.closedQueue
            .slice(def.closedHead)
            .filter(([g, start]) => def.groups.get(g)?.closed.some((c) => c[0] === start)),
        };
      }
    }
    return { version: 1, partitions, fixed, sessions };
  }

  private restore(state: WindowState): void {
    if (state.version !== 1)
      throw new Error(`WindowEngine: unsupported state version ${String(state.version)}`);
    for (const [k, v] of Object.entries(state.partitions)) this.parts.set(k, v);
    this.recomputeMin();
    for (const def of this.defs) {
      if (def.kind === 'fixed') {
        for (const [start, g, ...a] of state.fixed[def.spec.name] ?? []) {
          let groups = def.open.get(start);
          if (groups === undefined) {
            groups = new Map();
            def.open.set(start, groups);
          }
          groups.set(g, [...a] as Aggregate);
        }
      } else {
        const s = state.sessions[def.spec.name];
        if (s === undefined) continue;
        for (const [g, start, last, ...a] of s.open) {
          let sg = def.groups.get(g);
          if (sg === undefined) {
            sg = { open: [], closed: [] };
            def.groups.set(g, sg);
          }
          const session: Session = {
            start,
            last,
            agg: [...a] as Aggregate,
            group: g,
            dead: false,
            sched: last + def.spec.gapMs,
          };
          sg.open.push(session);
          heapPush(def.heap, session);
        }
        for (const sg of def.groups.values()) sg.open.sort((x, y) => x.start - y.start);
        for (const [g, start, last] of s.closed) {
          let sg = def.groups.get(g);
          if (sg === undefined) {
            sg = { open: [], closed: [] };
            def.groups.set(g, sg);
          }
          sg.closed.push([start, last]);
          def.closedQueue.push([g, start, last]);
        }
      }
    }
  }
}

/** Output columns of a window's aggregates, built once per spec (not a string per row and aggregate). */
const AGGREGATE_COLUMNS = new WeakMap<WindowSpec, ReadonlyArray<readonly [string, number]>>();

/** `[column, what]` per aggregate: what = aggregate index (0 count, 2 sum, 3 min, 4 max), or -1 for avg. */
function aggregateColumns(spec: WindowSpec): ReadonlyArray<readonly [string, number]> {
  let cols = AGGREGATE_COLUMNS.get(spec);
  if (cols === undefined) {
    const m = spec.measure;
    const list: Array<readonly [string, number]> = [];
    for (const a of spec.aggregates) {
      if (a === 'count') list.push(['event_count', 0]);
      else if (m !== null)
        list.push([`${m.as}_${a}`, a === 'sum' ? 2 : a === 'min' ? 3 : a === 'max' ? 4 : -1]);
    }
    cols = list;
    AGGREGATE_COLUMNS.set(spec, cols);
  }
  return cols;
}

function fillAggregates(row: Row, spec: WindowSpec, agg: Aggregate): void {
  const cols = aggregateColumns(spec);
  for (let i = 0; i < cols.length; i++) {
    const [col, what] = cols[i]!;
    if (what === 0) row[col] = agg[0];
    else if (agg[1] === 0) row[col] = null;
    else row[col] = what < 0 ? aggregateAvg(agg) : agg[what]!;
  }
}

/**
 * Combines the states of two engines that consumed disjoint partitions (e.g. two concurrent
 * Lambda invocations): partition maxima are unioned, partial aggregates of the same window and
 * group are merged, and sessions of a group that now overlap within the gap are merged.
 */
export function mergeWindowStates(domain: Domain, a: WindowState, b: WindowState): WindowState {
  const partitions: Record<string, number> = { ...a.partitions };
  for (const [k, v] of Object.entries(b.partitions)) partitions[k] = Math.max(v, partitions[k] ?? v);
  const fixed: WindowState['fixed'] = {};
  const sessions: Record<
    string,
    { open: Array<[string, number, number, ...Aggregate]>; closed: Array<[string, number, number]> }
  > = {};
  for (const w of domain.windows) {
    if (w.type !== 'session') {
      const byKey = new Map<string, [number, string, Aggregate]>();
      for (const [start, g, ...agg] of [...(a.fixed[w.name] ?? []), ...(b.fixed[w.name] ?? [])]) {
        const k = `${start}\u0000${g}`;
        const prev = byKey.get(k);
        byKey.set(k, [start, g, prev ? mergeAggregates(prev[2], agg as Aggregate) : (agg as Aggregate)]);
      }
      fixed[w.name] = [...byKey.values()].map(([start, g, agg]) => [start, g, ...agg]);
    } else {
      const groups = new Map<string, Array<{ start: number; last: number; agg: Aggregate }>>();
      for (const [g, start, last, ...agg] of [
        ...(a.sessions[w.name]?.open ?? []),
        ...(b.sessions[w.name]?.open ?? []),
      ]) {
        const list = groups.get(g) ?? [];
        list.push({ start, last, agg: agg as Aggregate });
        groups.set(g, list);
      }
      const open: Array<[string, number, number, ...Aggregate]> = [];
      for (const [g, list] of groups) {
        list.sort((x, y) => x.start - y.start);
        let cur = list[0]!;
        for (let i = 1; i <= list.length; i++) {
          const s = list[i];
          if (s !== undefined && s.start < cur.last + w.gapMs) {
            cur = {
              start: cur.start,
              last: Math.max(cur.last, s.last),
              agg: mergeAggregates(cur.agg, s.agg),
            };
          } else {
            open.push([g, cur.start, cur.last, ...cur.agg]);
            if (s !== undefined) cur = s;
          }
        }
      }
      const closed = [...(a.sessions[w.name]?.closed ?? []), ...(b.sessions[w.name]?.closed ?? [])].sort(
        (x, y) => x[2] - y[2],
      );
      sessions[w.name] = { open, closed };
    }
  }
  return { version: 1, partitions, fixed, sessions };
}
