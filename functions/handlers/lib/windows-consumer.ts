/**
 * windows: enriched → gold windows, sessions and late events, partition-parallel (SPEC §3, §4
 * "State"). No invocation of one partition waits for an invocation of another.
 *
 * Each partition of the enriched topic holds exactly one source partition's events (enrich
 * produces each event to its raw record's partition number), and owns its state on the partition
 * state backend (`codecs.ts`, `WindowsPartitionState`):
 * - **Fixed windows (tumbling, sliding) as partial aggregates.** The partition's own engine counts
 *   its events, judging lateness by its own watermark (SPEC §3), and once its watermark passes a
 *   window's end it writes its partial aggregates of that window as an object
 *   `ops/partials/<topic>/<end>/<p>.json` (one per window end: windows ending together close
 *   together; before its commit, in its intent). That partial is final: a later event of the
 *   partition for the window is late.
 * - **The merge, owned per window.** Window `(w, start)` is merged by one partition, its owner
 *   (the source partitions taken in turn by window end: {@link ownerOf}), once every source
 *   partition's committed watermark has passed its end (each partition's watermark is in the
 *   `meta` of its state record, read with one consistent read each): the owner reads the
 *   partials, merges them (the core's mergeable aggregates) and writes the final rows, named after
 *   the window (`<topic>.<window>-0-<start>-<start>`), in its own fenced attempt: exactly once. A
 *   window's rows are written by its owner's first invocation after every partition passed it;
 *   the partials are deleted after that commit (the `ops/partials/` lifecycle rule is the
 *   backstop).
 * - **Sessions** are per key, and a key lives in one partition, so each partition computes its
 *   own, with every source partition's watermark as one engine of all partitions would judge them
 *   (the committed ones, read at the start of the invocation): rows and late rows are named
 *   `<topic>.sessions-<p>-<first>-<last>`, as before.
 */
import type { SourceRange } from '../../adapters/parquet/partition.ts';
import {
  type Aggregate,
  type KafkaBatchResponse,
  type LambdaKafkaEvent,
  layerSchemas,
  type PartialWindowOutput,
  parsePartitionId,
  type Row,
  type SilverEvent,
} from '../../core/index.ts';
import { CONSUMERS } from '../../pipeline/context.ts';
import { emptyWritten, writeRows } from '../../pipeline/write.ts';
import { AttemptStateStore } from '../../state/attempt-state.ts';
import type { BufferedObjectStore } from '../../state/buffered-objects.ts';
import {
  encodeWindowsDelta,
  type WindowsDelta,
  type WindowsPartitionState,
  windowDeltaEvents,
  windowDomains,
  windowsCodec,
} from '../../state/codecs.ts';
import {
  type Manifest,
  manifestOf,
  type OutboxChange,
  type OutboxView,
  type StepResult,
} from '../../state/partition-state.ts';
import type { FencedTable, StateId } from '../../state/table.ts';
import {
  decodeEnriched,
  deferRows,
  fresh,
  type PartitionBatch,
  pastFences,
  perPartition,
  rangeOf,
  runOnState,
  sendLetters,
  stageContext,
  type WindowsDeps,
} from './partitions.ts';

/** Event time standing for "no event yet" (the earliest `Date`). */
const NOT_YET = -8_640_000_000_000_000;
/** Event time standing for "the run has ended" (the latest `Date`): a flushed partition. */
const ENDED = 8_640_000_000_000_000;

/** The id of the windows state of one partition of the enriched topic. */
export function windowsStateId(topic: string, partition: number): StateId {
  return { consumer: CONSUMERS.windows, topic, scope: String(partition) };
}

/**
 * The partition (number) that merges the fixed windows ending at `end`: the source partitions in
 * turn, by end time in units of the smallest slide.
 */
export function ownerOf(partitions: readonly number[], end: number, slideMs: number): number {
  const n = partitions.length;
  const i = ((Math.floor(end / slideMs) % n) + n) % n;
  return partitions[i]!;
}

/**
 * Where the partitions' partial aggregates of the fixed windows ending at `end` go: one object
 * per partition (`<p>.json`, every window of the domain that ends there: they close together).
 */
export function partialPrefix(topic: string, end: number): string {
  return `ops/partials/${topic}/${end}/`;
}

/** A partial object: per window name, `[group, ...aggregate]` per group. */
type PartialObject = Record<string, Array<[string, ...Aggregate]>>;

/** What a partition publishes in its state record's meta: its largest event ts, and its first and last real ones. */
interface WindowsMeta {
  /** Largest event time of the partition (ENDED once flushed): its watermark + max out-of-orderness. */
  readonly max?: number;
  /** First and largest real event times seen (the range of windows to merge). */
  readonly first?: number;
  readonly last?: number;
}

interface Progress {
  /** Source partition numbers, sorted. */
  readonly partitions: readonly number[];
  /** Per source partition id, its committed meta. */
  readonly metas: ReadonlyMap<number, WindowsMeta>;
}

/** The source partitions: their numbers (sorted) and ids (`<raw topic>-<p>`) by number. */
async function sourcePartitionsOf(
  deps: WindowsDeps,
): Promise<{ readonly numbers: number[]; readonly idOf: ReadonlyMap<number, string> }> {
  const idOf = new Map<number, string>();
  for (const id of await deps.sourcePartitions()) {
    const parsed = parsePartitionId(id);
    if (parsed === undefined)
      throw new Error(`windows: source partition id ${id} is not <topic>-<partition>`);
    idOf.set(parsed.partition, id);
  }
  return { numbers: [...idOf.keys()].sort((a, b) => a - b), idOf };
}

/** Every source partition's committed meta (one consistent read each; this partition's from `own`). */
async function readProgress(
  table: FencedTable,
  topic: string,
  partitions: readonly number[],
  own: number,
  ownMeta: WindowsMeta,
): Promise<Progress> {
  const metas = new Map<number, WindowsMeta>();
  await Promise.all(
    partitions.map(async (p) => {
      if (p === own) {
        metas.set(p, ownMeta);
        return;
      }
      const loaded = await table.load<Manifest>(windowsStateId(topic, p));
      const id = windowsStateId(topic, p);
      metas.set(
        p,
        loaded.version === 0 ? {} : (manifestOf(id, loaded, 'windows.partition').meta as WindowsMeta),
      );
    }),
  );
  return { partitions, metas };
}

interface MergeResult {
  readonly merged: Record<string, number>;
  /** Partial objects merged (deleted once the attempt committed). */
  readonly consumed: string[];
}

/**
 * Merges the fixed windows this partition owns that every source partition has passed, and
 * writes their final rows. Returns the new merge marks.
 */
async function mergeOwned(
  deps: WindowsDeps,
  out: BufferedObjectStore,
  topic: string,
  own: number,
  st: WindowsPartitionState,
  progress: Progress,
  atEnd: boolean,
): Promise<MergeResult> {
  const split = windowDomains(deps.domain);
  const ooo = deps.domain.maxOutOfOrdernessMs;
  const metas = [...progress.metas.values()];
  const merged: Record<string, number> = {};
  const consumed: string[] = [];
  if (metas.some((m) => m.max === undefined)) return { merged, consumed };
  const frontier = Math.min(...metas.map((m) => m.max!)) - ooo;
  const firsts = metas.map((m) => m.first).filter((t): t is number => t !== undefined);
  const lasts = metas.map((m) => m.last).filter((t): t is number => t !== undefined);
  if (firsts.length === 0) return { merged, consumed };
  const schemas = layerSchemas(deps.domain);
  const ctx = stageContext(deps, out, new AttemptStateStore({ fences: {} }));
  const slideUnit = Math.min(...split.fixed.windows.map((w) => w.slideMs));
  // The partial objects of each end, listed and read once for every window ending there (through
  // the attempt's buffer: this partition's own partial may be among its outputs).
  const ends = new Map<number, Promise<Array<readonly [string, PartialObject]>>>();
  const partialsAt = (end: number) => {
    let p = ends.get(end);
    if (p === undefined) {
      p = out.list(partialPrefix(topic, end)).then((keys) =>
        Promise.all(
          keys.sort().map(async (key) => {
            const bytes = await out.get(key);
            if (bytes === undefined) throw new Error(`windows: partial ${key} vanished before its merge`);
            return [key, JSON.parse(Buffer.from(bytes).toString('utf8')) as PartialObject] as const;
          }),
        ),
      );
      ends.set(end, p);
    }
    return p;
  };
  for (const w of split.fixed.windows) {
    const slide = w.slideMs;
    const done = st.merged[w.name];
    let start =
      done === undefined ? Math.floor((Math.min(...firsts) - w.sizeMs) / slide) * slide : done + slide;
    // Windows end at or before the frontier, and start at or before the last event seen.
    const lastStart = Math.floor(Math.max(...lasts) / slide) * slide;
    let reached: number | undefined;
    for (; start + w.sizeMs <= frontier && start <= lastStart; start += slide) {
      reached = start;
      const end = start + w.sizeMs;
      if (ownerOf(progress.partitions, end, slideUnit) !== own) continue;
      const objects = await partialsAt(end);
      const parts: Array<readonly [string, Aggregate]> = [];
      for (const [, o] of objects)
        for (const [g, ...agg] of o[w.name] ?? []) parts.push([g, agg as Aggregate]);
      if (parts.length === 0) continue;
      const rows = st.fixed.fixedRows(w.name, start, parts);
      // Named after the window (the end of a run's merges apart, like its other files).
      const name: SourceRange = {
        topic: atEnd ? `${topic}.${w.name}.flush` : `${topic}.${w.name}`,
        partition: 0,
        firstOffset: start,
        lastOffset: start,
      };
      const schema = schemas.windows[w.name];
      if (schema !== undefined) {
        const n = await writeRows(ctx, schema, rows, name, emptyWritten());
        deps.metrics.count('RecordsOut', n, { layer: 'gold' });
      }
    }
    if (reached !== undefined) merged[w.name] = reached;
  }
  // An end's objects go once every window they hold a partial of is merged (windows that end
  // together close together, so they are merged together, by the same owner).
  const sizes = new Map(split.fixed.windows.map((w) => [w.name, w.sizeMs]));
  for (const [end, pending] of ends) {
    const objects = await pending;
    const held = new Set(objects.flatMap(([, o]) => Object.keys(o)));
    const all = [...held].every((w) => {
      const mark = merged[w] ?? st.merged[w];
      return mark !== undefined && mark + sizes.get(w)! >= end;
    });
    if (all) for (const [key] of objects) consumed.push(key);
  }
  return { merged, consumed };
}

/** Writes this partition's partial aggregates of the fixed windows its watermark closed, one object per end. */
async function writePartials(
  deps: WindowsDeps,
  out: BufferedObjectStore,
  topic: string,
  partition: number,
  partials: PartialWindowOutput['partials'],
): Promise<void> {
  const byEnd = new Map<number, PartialObject>();
  const sizes = new Map(windowDomains(deps.domain).fixed.windows.map((w) => [w.name, w.sizeMs]));
  for (const [w, list] of Object.entries(partials)) {
    for (const [start, g, agg] of list) {
      const end = start + sizes.get(w)!;
      const o = byEnd.get(end) ?? {};
      const groups = o[w] ?? [];
      groups.push([g, ...agg]);
      o[w] = groups;
      byEnd.set(end, o);
    }
  }
  for (const [end, o] of byEnd)
    await out.put(`${partialPrefix(topic, end)}${partition}.json`, Buffer.from(JSON.stringify(o)));
}

/**
 * Sessions rows of the batch, named after the partition's records; its late rows deferred in the
 * partition's outbox (written about once a minute, and at the end of a run: `force`).
 */
async function writePartitionRows(
  deps: WindowsDeps,
  out: BufferedObjectStore,
  outbox: OutboxView,
  rows: Record<string, Row[]>,
  late: readonly Row[],
  names: { readonly rows: SourceRange; readonly late: SourceRange; readonly force: boolean },
): Promise<OutboxChange | undefined> {
  const schemas = layerSchemas(deps.domain);
  const ctx = stageContext(deps, out, new AttemptStateStore({ fences: {} }));
  const written = emptyWritten();
  let n = 0;
  for (const [w, list] of Object.entries(rows)) {
    const schema = schemas.windows[w];
    if (schema !== undefined) n += await writeRows(ctx, schema, list, names.rows, written);
  }
  const lateTable = [{ schema: schemas.lateEvents, rows: late }];
  const deferred = await deferRows(ctx, outbox, lateTable, names.late, names.force);
  n += deferred.written;
  for (const r of late) deps.metrics.count('LateEvents', 1, { window: String(r['window_name']) });
  deps.metrics.count('RecordsOut', n, { layer: 'gold' });
  return deferred.change;
}

/**
 * One step of a windows partition: the batch's events (none for a flush or a merge pass), then
 * the partials it closed, its sessions, and the merge of the windows it owns.
 */
async function windowsStep(
  deps: WindowsDeps,
  b: Pick<PartitionBatch, 'topic' | 'partition'>,
  input: {
    readonly state: WindowsPartitionState;
    readonly meta: Readonly<Record<string, number>>;
    readonly out: BufferedObjectStore;
    readonly outbox: OutboxView;
  },
  batch: {
    readonly events: readonly SilverEvent[];
    readonly name: SourceRange;
    /** `records`: a batch; `flush`: the end of a run; `merge`: a merge pass (commits only what it wrote). */
    readonly kind: 'records' | 'flush' | 'merge';
    readonly fences: Readonly<Record<string, number>>;
    readonly sources: Readonly<Record<string, number>>;
  },
  consumed: string[],
): Promise<StepResult | undefined> {
  const { state: st, out } = input;
  const table = deps.table;
  const { numbers, idOf } = await sourcePartitionsOf(deps);
  const own = b.partition;
  const pid = idOf.get(own);
  if (pid === undefined) throw new Error(`windows: partition ${own} of ${b.topic} has no source partition`);
  const before = input.meta as WindowsMeta;
  const others = await readProgress(table, b.topic, numbers, own, before);
  // The sessions engine knows every source partition (registered before any event: SPEC §3).
  const watermarks: Record<string, number> = {};
  for (const p of numbers)
    watermarks[idOf.get(p)!] = p === own ? NOT_YET : (others.metas.get(p)?.max ?? NOT_YET);
  for (const [pid, max] of Object.entries(watermarks)) st.sessions.raisePartition(pid, max);
  let first = before.first;
  let last = before.last;
  for (const e of batch.events) {
    st.fixed.add(e);
    st.sessions.add(e);
    first ??= e.ts;
    if (last === undefined || e.ts > last) last = e.ts;
  }
  const flush = batch.kind === 'flush';
  const fixedOut = flush ? st.fixed.flushPartials() : st.fixed.collectPartials();
  const sessionsOut = flush ? st.sessions.flushPartials() : st.sessions.collectPartials();
  await writePartials(deps, out, b.topic, own, fixedOut.partials);
  deps.metrics.count('RecordsIn', batch.events.length, { layer: 'gold' });
  const late = [...fixedOut.late, ...sessionsOut.late];
  // Late rows are named after the partition's records: a flush or merge pass (named after the
  // state's version) writes the held ones up to the partition's fence.
  const fence = batch.fences[String(own)] ?? 0;
  const lateName =
    batch.kind === 'records'
      ? batch.name
      : { topic: `${b.topic}.sessions`, partition: own, firstOffset: fence, lastOffset: fence };
  const outboxChange = await writePartitionRows(deps, out, input.outbox, sessionsOut.rows, late, {
    rows: batch.name,
    late: lateName,
    force: batch.kind !== 'records',
  });
  // Never lower than published (a flushed partition stays at the end of time).
  const seen = st.fixed.watermark(pid) + deps.domain.maxOutOfOrdernessMs;
  const ownMax = flush ? ENDED : Math.max(before.max ?? Number.NEGATIVE_INFINITY, seen);
  const meta: WindowsMeta = {
    ...(Number.isFinite(ownMax) ? { max: ownMax } : {}),
    ...(first !== undefined ? { first } : {}),
    ...(last !== undefined ? { last } : {}),
  };
  const progress: Progress = { partitions: numbers, metas: new Map([...others.metas, [own, meta]]) };
  const m = await mergeOwned(deps, out, b.topic, own, st, progress, batch.kind !== 'records');
  consumed.push(...m.consumed);
  Object.assign(st.merged, m.merged);
  // A merge pass that found nothing to write commits nothing. (What it changed in the engines is
  // only other partitions' watermarks, which the next delta records again, at least as high.)
  const wrote =
    out.size > 0 ||
    late.length > 0 ||
    outboxChange !== undefined ||
    Object.values(fixedOut.partials).some((l) => l.length > 0);
  if (batch.kind === 'merge' && !wrote) return undefined;
  const delta: WindowsDelta = {
    pid,
    events: windowDeltaEvents(deps.domain, batch.events),
    watermarks,
    merged: m.merged,
    ...(flush ? { flushed: true } : {}),
  };
  return {
    delta: encodeWindowsDelta(delta),
    ...(outboxChange === undefined ? {} : { outbox: outboxChange }),
    fences: batch.fences,
    sources: batch.sources,
    meta: meta as Record<string, number>,
  };
}

/** Deletes merged partials once the merge committed (housekeeping: never fails the batch). */
async function dropConsumed(deps: WindowsDeps, consumed: readonly string[]): Promise<void> {
  if (consumed.length > 0) await deps.objects.delete(consumed).catch(() => undefined);
}

export async function windows(deps: WindowsDeps, event: LambdaKafkaEvent): Promise<KafkaBatchResponse> {
  const codec = windowsCodec(deps.domain);
  return perPartition(deps, event, async (b) => {
    const consumed: string[] = [];
    const outcome = await runOnState(deps, windowsStateId(b.topic, b.partition), codec, async (input) => {
      consumed.length = 0;
      const { loaded } = input;
      const records = fresh(
        decodeEnriched(deps.domain, b.records, 'source'),
        loaded.fences[String(b.partition)],
      );
      if (records.length === 0) return undefined;
      const name = rangeOf(b, records);
      const past = pastFences(records, loaded.sources);
      if (past.letters.length > 0) await sendLetters(deps, name, past.letters);
      return windowsStep(
        deps,
        b,
        input,
        {
          events: past.events,
          name: { ...name, topic: `${b.topic}.sessions` },
          kind: 'records',
          fences: { ...loaded.fences, [String(b.partition)]: name.lastOffset },
          sources: past.sources,
        },
        consumed,
      );
    });
    if (outcome.committed) await dropConsumed(deps, consumed);
  });
}

/**
 * Ends a local-stack run the way embedded runs end (SPEC §3): every source partition flushes its
 * engines (open sessions become rows, open fixed windows partials, its watermark the end of
 * time), then every partition merges the windows it owns. Files are named
 * `<topic>.sessions.flush-<p>-<v>-<v>` after the state's version. Returns the partitions flushed.
 */
export async function flushWindows(deps: WindowsDeps, topic: string): Promise<number> {
  const codec = windowsCodec(deps.domain);
  const { numbers } = await sourcePartitionsOf(deps);
  const pass = async (p: number, flush: boolean): Promise<void> => {
    const consumed: string[] = [];
    const outcome = await runOnState(deps, windowsStateId(topic, p), codec, async (input) => {
      consumed.length = 0;
      const { loaded } = input;
      if (flush && (input.meta as WindowsMeta).max === ENDED) return undefined;
      const v = loaded.version;
      return windowsStep(
        deps,
        { topic, partition: p },
        input,
        {
          events: [],
          name: { topic: `${topic}.sessions.flush`, partition: p, firstOffset: v, lastOffset: v },
          kind: flush ? 'flush' : 'merge',
          fences: loaded.fences,
          sources: loaded.sources,
        },
        consumed,
      );
    });
    if (outcome.committed) await dropConsumed(deps, consumed);
  };
  for (const p of numbers) await pass(p, true);
  for (const p of numbers) await pass(p, false);
  return numbers.length;
}
