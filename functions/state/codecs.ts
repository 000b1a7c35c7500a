/**
 * How each stateful consumer's partition state is stored by the partition state backend
 * (`partition-state.ts`): its snapshot and its deltas. Every delta is what one batch changed, so a
 * batch writes bytes in proportion to the batch, not to the state.
 *
 * - enrich: the hashed seen-set of event ids (core `HashedDedupSet`); delta = the batch's new
 *   ids with their event time, 24 bytes each (binary; hashes do not compress).
 * - cep: the key states of the partition's keys; delta = the states of the keys the batch
 *   touched and the newest event time (gzip'd JSON). Expired keys are dropped at compaction.
 * - windows: the partition's two window engines (fixed windows as partial aggregates, sessions),
 *   and how far it merged fixed windows; delta = the batch's input (event times, group and measure
 *   values), the other partitions' watermarks it used, and its merge marks. Replaying a delta
 *   reproduces the engines exactly (the core engine's state depends on the events and their order
 *   only; outputs of a replay are dropped: they were written by the batch itself).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type CepKeyState,
  DedupDelta,
  type Domain,
  HashedDedupSet,
  type Row,
  type SilverEvent,
  WindowEngine,
  type WindowState,
} from '../core/index.ts';
import type { StateCodec } from './partition-state.ts';

function gzipJson(value: unknown): Uint8Array {
  return gzipSync(Buffer.from(JSON.stringify(value)), { level: 1 });
}

function gunzipJson<T>(bytes: Uint8Array): T {
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as T;
}

export function dedupCodec(domain: Domain): StateCodec<HashedDedupSet> {
  return {
    kind: 'enrich.dedup-hashes',
    empty: () => new HashedDedupSet(domain),
    encodeSnapshot: (s) => s.toBytes(),
    decodeSnapshot: (b) => HashedDedupSet.fromBytes(domain, b),
    applyDelta: (s, d) => DedupDelta.apply(s, d),
  };
}

/** The cep consumer's partition state: every live key's CEP state and the newest event time. */
export interface CepPartitionState {
  readonly keys: Map<string, CepKeyState>;
  maxTs: number | null;
}

interface CepDelta {
  readonly maxTs: number | null;
  readonly keys: Record<string, CepKeyState>;
}

export function cepCodec(): StateCodec<CepPartitionState> {
  return {
    kind: 'cep.keys',
    empty: () => ({ keys: new Map(), maxTs: null }),
    encodeSnapshot: (s) => {
      // Compaction drops the keys whose state expired by the newest event time (SPEC §4).
      if (s.maxTs !== null) for (const [k, v] of s.keys) if (v.expiresAt <= s.maxTs) s.keys.delete(k);
      return gzipJson({ maxTs: s.maxTs, keys: Object.fromEntries(s.keys) } satisfies CepDelta);
    },
    decodeSnapshot: (b) => {
      const d = gunzipJson<CepDelta>(b);
      return { keys: new Map(Object.entries(d.keys)), maxTs: d.maxTs };
    },
    applyDelta: (s, b) => {
      const d = gunzipJson<CepDelta>(b);
      for (const [k, v] of Object.entries(d.keys)) s.keys.set(k, v);
      s.maxTs = d.maxTs;
    },
  };
}

export function encodeCepDelta(maxTs: number | null, keys: ReadonlyMap<string, CepKeyState>): Uint8Array {
  return gzipJson({ maxTs, keys: Object.fromEntries(keys) } satisfies CepDelta);
}

/**
 * The windows consumer's partition state. `fixed` holds this partition's partial aggregates of
 * the fixed windows (tumbling, sliding) and its own watermark only; `sessions` the partition's
 * session windows with every source partition's watermark (as one engine of every partition would
 * judge them); `merged` per fixed window the last window start up to which this partition has
 * merged the windows it owns (see `windows-consumer.ts`).
 */
export interface WindowsPartitionState {
  fixed: WindowEngine;
  sessions: WindowEngine;
  merged: Record<string, number>;
}

interface WindowsSnapshot {
  readonly fixed: WindowState;
  readonly sessions: WindowState;
  readonly merged: Record<string, number>;
}

/** One batch of the windows consumer: its input and what it decided. */
export interface WindowsDelta {
  /** The source partition (`<raw topic>-<p>`) of the events. */
  readonly pid: string;
  /** Per event: `[ts, ...the values of {@link windowColumns}]`. */
  readonly events: readonly (readonly unknown[])[];
  /** The other source partitions' largest event times the sessions engine took before the batch. */
  readonly watermarks: Readonly<Record<string, number>>;
  readonly merged: Readonly<Record<string, number>>;
  /** The end of a run: both engines were flushed after the events. */
  readonly flushed?: boolean;
}

/** The silver columns the window engines read (group-by and measure fields), in a fixed order. */
export function windowColumns(domain: Domain): string[] {
  const cols = new Set<string>();
  for (const w of domain.windows) {
    cols.add(w.groupBy);
    if (w.measure !== null) cols.add(w.measure.field);
  }
  return [...cols].sort();
}

/** The domain with its fixed windows only, and with its session windows only. */
const SPLIT = new WeakMap<Domain, { readonly fixed: Domain; readonly sessions: Domain }>();
export function windowDomains(domain: Domain): { readonly fixed: Domain; readonly sessions: Domain } {
  let split = SPLIT.get(domain);
  if (split === undefined) {
    split = {
      fixed: { ...domain, windows: domain.windows.filter((w) => w.type !== 'session') },
      sessions: { ...domain, windows: domain.windows.filter((w) => w.type === 'session') },
    };
    SPLIT.set(domain, split);
  }
  return split;
}

/** A batch's events as a delta's `events`. */
export function windowDeltaEvents(domain: Domain, events: readonly SilverEvent[]): unknown[][] {
  const cols = windowColumns(domain);
  return events.map((e) => [e.ts, ...cols.map((c) => e.row[c] ?? null)]);
}

/** Applies one delta to the engines: the batch again, its outputs dropped. */
export function replayWindowsDelta(domain: Domain, s: WindowsPartitionState, d: WindowsDelta): void {
  const cols = windowColumns(domain);
  const dash = d.pid.lastIndexOf('-');
  const topic = d.pid.slice(0, dash);
  const partition = Number(d.pid.slice(dash + 1));
  for (const [pid, max] of Object.entries(d.watermarks)) s.sessions.raisePartition(pid, max);
  for (const values of d.events) {
    const row: Row = {};
    cols.forEach((c, i) => {
      row[c] = values[i + 1] as Row[string];
    });
    const ts = values[0] as number;
    const e: SilverEvent = { topic, partition, offset: 0, ts, key: '', id: '', type: '', row };
    s.fixed.add(e);
    s.sessions.add(e);
  }
  if (d.flushed) {
    s.fixed.flushPartials();
    s.sessions.flushPartials();
  } else {
    s.fixed.collectPartials();
    s.sessions.collectPartials();
  }
  Object.assign(s.merged, d.merged);
}

export function windowsCodec(domain: Domain): StateCodec<WindowsPartitionState> {
  const split = windowDomains(domain);
  return {
    kind: 'windows.partition',
    empty: () => ({
      fixed: new WindowEngine(split.fixed),
      sessions: new WindowEngine(split.sessions),
      merged: {},
    }),
    encodeSnapshot: (s) =>
      gzipJson({
        fixed: s.fixed.snapshot(),
        sessions: s.sessions.snapshot(),
        merged: s.merged,
      } satisfies WindowsSnapshot),
    decodeSnapshot: (b) => {
      const d = gunzipJson<WindowsSnapshot>(b);
      return {
        fixed: new WindowEngine(split.fixed, d.fixed),
        sessions: new WindowEngine(split.sessions, d.sessions),
        merged: { ...d.merged },
      };
    },
    applyDelta: (s, b) => replayWindowsDelta(domain, s, gunzipJson<WindowsDelta>(b)),
  };
}

export function encodeWindowsDelta(d: WindowsDelta): Uint8Array {
  return gzipJson(d);
}
