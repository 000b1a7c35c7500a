/**
 * Partition-owned state, incremental, in S3 (SPEC §4 "State"; issue 14): the state backend of
 * the stateful consumers, in the spirit of Flink's keyed state with incremental checkpoints and
 * Kafka Streams' state stores with changelogs, built on what Lambda's Kafka event source mapping
 * guarantees: a partition's records come to one invocation at a time, in order.
 *
 * **Layout.** Each (consumer, topic, partition) owns its state. The fenced record of the commit
 * point (`table.ts`; the DynamoDB item `state#<consumer>` / `<topic>#<p>`) holds a small
 * {@link Manifest}: the S3 key of the last compacted snapshot and the ordered list of delta
 * objects written since, plus a little `meta` JSON (the windows consumer's watermark). The state
 * is `snapshot + deltas`, applied in order by the consumer's {@link StateCodec}. Objects live
 * under `ops/state/<consumer>/<topic>/<p>/` of the gold bucket, named by a fresh id per attempt,
 * so no attempt ever overwrites an object another attempt may read.
 *
 * **One batch** (inside `runFenced`, so the effectively-once protocol and its intent/orphan
 * handling are unchanged): load the record → materialize the state (a warm execution environment
 * that holds the committed version loads nothing) → the consumer applies the batch to it and
 * returns a delta (what the batch changed) → the delta object, or every so often a compacted
 * snapshot instead, is one of the attempt's outputs (in its intent, written before the commit) →
 * the commit writes the new manifest with the fences in ONE conditional write. A crash between
 * the delta's PUT and the commit leaves the manifest as it was: the delta is unreachable, and
 * the next attempt deletes it with the rest of the dead attempt's intent.
 *
 * **Compaction.** A snapshot replaces the delta of a batch when the deltas since the last snapshot
 * reach {@link PartitionStateOptions.maxDeltas}, or their bytes exceed the snapshot's (so a cold
 * load reads at most about twice the state). Superseded objects go to the manifest's `garbage`
 * (as a version range) with the time they were superseded, and are deleted by a later commit once
 * {@link PartitionStateOptions.graceMs} has passed: longer than Lambda's 15-minute limit, so no
 * attempt that could still read them (it loaded the manifest before they were superseded) is
 * alive: no read races a delete. The bucket's lifecycle expires their noncurrent versions after
 * a day (`ops/state/` rule of the gold bucket).
 *
 * **The outbox.** Rows of small tables (enrich's `batch_quality`, the windows consumer's
 * `late_events`, cep's `gold/alerts`: a row or a few per batch) would cost a Parquet object per
 * partition-batch each.
 * A step may defer them instead: they travel in the batch's delta object (and in snapshots) as the
 * partition's {@link Outbox}, and a later step of the partition writes them all as one object once
 * they are older than {@link PartitionStateOptions.outboxMaxAgeMs} or more than
 * {@link PartitionStateOptions.outboxMaxRows} (or the end of a run forces it). The deferred rows
 * are as durable as the state; a partition with no next batch keeps them until one comes (like
 * its open windows, SPEC §3), and `flushOutboxes` ends a run with them written. An object holding
 * an outbox is an envelope (`ObjectRef.envelope`): the codec's bytes, then the outbox's JSON.
 *
 * **The warm cache.** The state object the consumer mutates IS the cached one. It is taken out of
 * the cache when an attempt starts and put back, at the committed version, only when the attempt
 * commits: an attempt that fails or conflicts leaves nothing behind, and the next one loads from S3.
 */
import { randomUUID } from 'node:crypto';
import { environmentId, onEnvironmentDiscarded } from '../commons/execution-environment.ts';
import type { Row } from '../core/model.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { BufferedObjectStore } from './buffered-objects.ts';
import { type FencedOutcome, runFenced } from './fenced.ts';
import {
  type FencedTable,
  type ObjectStoreWithDelete,
  type StateId,
  type StateRecord,
  stateIdString,
} from './table.ts';

/** How one consumer's state is stored: bytes of a snapshot, and deltas applied in order. */
export interface StateCodec<S> {
  /** Name of the state's kind; a manifest of another kind is refused (wiring error). */
  readonly kind: string;
  empty(): S;
  encodeSnapshot(state: S): Uint8Array;
  decodeSnapshot(bytes: Uint8Array): S;
  /** Applies one delta (as the consumer produced it for one batch) to `state`, in place. */
  applyDelta(state: S, delta: Uint8Array): void;
}

export interface ObjectRef {
  readonly key: string;
  readonly bytes: number;
  /** 1: the object is an envelope (the codec's bytes, then an outbox part); absent: the codec's bytes. */
  readonly envelope?: 1;
}

/** Rows deferred by a partition's steps, by table path, not yet written (see "The outbox"). */
export interface Outbox {
  /** When the oldest row was deferred (epoch ms, the backend's clock). */
  readonly since: number;
  /** The first source offset of the batches whose rows are held: the flushed object's name starts there. */
  readonly firstOffset: number;
  readonly tables: Readonly<Record<string, readonly Row[]>>;
}

/** What a step did to the outbox: deferred rows (`add`), or wrote every held row (`flushed`). */
export type OutboxChange =
  | { readonly add: Readonly<Record<string, readonly Row[]>>; readonly firstOffset: number }
  | { readonly flushed: true };

/** The outbox as a step sees it. */
export interface OutboxView {
  readonly pending: Outbox | null;
  /** The held rows are old or many enough to be written with this batch. */
  readonly due: boolean;
}

/** The small JSON document of the commit point (the fenced record's state). */
export interface Manifest {
  /** 2: partition-owned state. (A record without it is the earlier layout: see {@link LegacyStateError}.) */
  readonly layout: 2;
  readonly kind: string;
  readonly snapshot: ObjectRef | null;
  readonly deltas: readonly ObjectRef[];
  /**
   * Superseded objects: those of the partition named with a version below `below` (object names
   * start with the zero-padded version of the record they were written against), superseded at
   * `since`; deleted once `since + graceMs` has passed. At most {@link MAX_GARBAGE} entries, so
   * the commit item stays small at any batch rate.
   */
  readonly garbage: readonly { readonly below: number; readonly since: number }[];
  /** The consumer's small metadata (for example its watermark), readable by other partitions. */
  readonly meta: Readonly<Record<string, number>>;
}

/**
 * The record is in the layout before partition-owned state (one state item per consumer with ids
 * and keys in items of their own, a shared windows state): it is not read, never overwritten.
 */
export class LegacyStateError extends Error {
  constructor(id: StateId) {
    super(
      `state ${stateIdString(id)} is in the layout before partition-owned state (Tidewater 0.1): ` +
        'run `tidewater state migrate --table <state table>` once before the new consumers start (README, "Upgrading")',
    );
    this.name = 'LegacyStateError';
  }
}

export interface PartitionStateOptions {
  /** Deltas after which the next batch writes a snapshot instead. @default 16 */
  readonly maxDeltas?: number;
  /** How long a superseded object is kept before it is deleted, ms. @default 20 minutes */
  readonly graceMs?: number;
  /** Deferred rows older than this are written with the partition's next batch, ms; 0: never deferred. @default 60 s */
  readonly outboxMaxAgeMs?: number;
  /** More deferred rows than this are written with the partition's next batch. @default 10,000 */
  readonly outboxMaxRows?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly metrics?: Metrics;
}

/** What a consumer's step gives back for a batch with new records. */
export interface StepResult {
  /** What the batch changed, for {@link StateCodec.applyDelta}; empty: the codec's state is unchanged. */
  readonly delta: Uint8Array;
  /** What the batch did to the outbox. @default nothing */
  readonly outbox?: OutboxChange;
  readonly fences: Readonly<Record<string, number>>;
  readonly sources: Readonly<Record<string, number>>;
  /** @default the loaded meta */
  readonly meta?: Readonly<Record<string, number>>;
}

export interface StepInput<S> {
  readonly loaded: StateRecord<Manifest>;
  /** The committed state, to be changed in place by the step. */
  readonly state: S;
  readonly meta: Readonly<Record<string, number>>;
  readonly out: BufferedObjectStore;
  readonly outbox: OutboxView;
}

/** Applies a batch to the state; undefined when every record had been applied already. */
export type Step<S> = (input: StepInput<S>) => Promise<StepResult | undefined>;

/** A partition's state as held in memory: the codec's, and the outbox. */
interface Held<S> {
  readonly state: S;
  outbox: Outbox | null;
}

interface Cached {
  readonly version: number;
  readonly kind: string;
  readonly held: Held<unknown>;
  readonly bytes: number;
}

/**
 * Committed states held by an execution environment, most recently used last; at most
 * {@link CACHE_MAX_BYTES} of stored bytes (a snapshot and its deltas) each. One environment per
 * process on Lambda; the local event source mapping simulates several (`commons/execution-environment.ts`).
 */
interface EnvironmentCache {
  readonly entries: Map<string, Cached>;
  bytes: number;
}
const caches = new Map<string, EnvironmentCache>();
onEnvironmentDiscarded((id) => caches.delete(id));

function environmentCache(): EnvironmentCache {
  const id = environmentId();
  let c = caches.get(id);
  if (c === undefined) {
    c = { entries: new Map(), bytes: 0 };
    caches.set(id, c);
  }
  return c;
}
/**
 * Stored bytes of the states kept warm. A state takes several times its stored (compressed) size
 * in memory, so the default is an eighth of the function's memory (128 MiB for 1 GB), or 256 MiB
 * outside Lambda; `TIDEWATER_STATE_CACHE_MIB` sets it.
 */
const CACHE_MAX_BYTES =
  Number(
    process.env['TIDEWATER_STATE_CACHE_MIB'] ??
      (process.env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'] === undefined
        ? 256
        : Number(process.env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']) / 8),
  ) *
  1024 *
  1024;

function takeCached(key: string): Cached | undefined {
  const cache = environmentCache();
  const c = cache.entries.get(key);
  if (c !== undefined) {
    cache.entries.delete(key);
    cache.bytes -= c.bytes;
  }
  return c;
}

function putCached(key: string, c: Cached): void {
  takeCached(key);
  const cache = environmentCache();
  cache.entries.set(key, c);
  cache.bytes += c.bytes;
  for (const [k, old] of cache.entries) {
    if (cache.bytes <= CACHE_MAX_BYTES || k === key) break;
    cache.entries.delete(k);
    cache.bytes -= old.bytes;
  }
}

/** Forgets every warm state of every environment (tests, and a process that must start cold). */
export function clearStateCache(): void {
  caches.clear();
}

export function emptyManifest(kind: string): Manifest {
  return { layout: 2, kind, snapshot: null, deltas: [], garbage: [], meta: {} };
}

/** The loaded record's manifest; refuses the earlier layout and another kind. */
export function manifestOf(id: StateId, loaded: StateRecord<unknown>, kind: string): Manifest {
  const m = loaded.state as Partial<Manifest> | undefined;
  if (m === undefined || m === null) {
    if (loaded.stateRef !== undefined) throw new LegacyStateError(id);
    return emptyManifest(kind);
  }
  if (m.layout !== 2) throw new LegacyStateError(id);
  if (m.kind !== kind)
    throw new Error(
      `state ${stateIdString(id)} holds a ${String(m.kind)} state, not ${kind}: a wiring error`,
    );
  return m as Manifest;
}

function storedBytes(m: Manifest): number {
  return (m.snapshot?.bytes ?? 0) + m.deltas.reduce((n, d) => n + d.bytes, 0);
}

async function fetch(objects: ObjectStoreWithDelete, id: StateId, ref: ObjectRef): Promise<Uint8Array> {
  const bytes = await objects.get(ref.key);
  if (bytes === undefined) throw new Error(`state ${stateIdString(id)}: object ${ref.key} is missing`);
  return bytes;
}

/** An envelope: the codec's bytes (length-prefixed), then the outbox part as JSON. */
function encodeEnvelope(codecBytes: Uint8Array, outboxPart: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(outboxPart));
  const out = Buffer.alloc(4 + codecBytes.byteLength + json.byteLength);
  out.writeUInt32BE(codecBytes.byteLength, 0);
  out.set(codecBytes, 4);
  out.set(json, 4 + codecBytes.byteLength);
  return out;
}

function decodeEnvelope<T>(bytes: Uint8Array): { codec: Uint8Array; outbox: T } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = b.readUInt32BE(0);
  return { codec: b.subarray(4, 4 + n), outbox: JSON.parse(b.subarray(4 + n).toString('utf8')) as T };
}

/** Applies one outbox change (as a delta recorded it) to the held outbox. */
function applyOutbox(outbox: Outbox | null, change: OutboxChange | undefined, now: number): Outbox | null {
  if (change === undefined) return outbox;
  if ('flushed' in change) return null;
  const tables: Record<string, Row[]> = {};
  for (const [t, rows] of Object.entries(outbox?.tables ?? {})) tables[t] = [...rows];
  for (const [t, rows] of Object.entries(change.add)) tables[t] = [...(tables[t] ?? []), ...rows];
  return { since: outbox?.since ?? now, firstOffset: outbox?.firstOffset ?? change.firstOffset, tables };
}

/** A delta's outbox part: the change, and the time the change was made (the `since` of a first add). */
interface OutboxDeltaPart {
  readonly change: OutboxChange;
  readonly at: number;
}

async function readHeld<S>(
  objects: ObjectStoreWithDelete,
  id: StateId,
  manifest: Manifest,
  codec: StateCodec<S>,
): Promise<Held<S>> {
  const [snapshot, ...deltas] = await Promise.all([
    manifest.snapshot === null ? Promise.resolve(undefined) : fetch(objects, id, manifest.snapshot),
    ...manifest.deltas.map((d) => fetch(objects, id, d)),
  ]);
  let state: S;
  let outbox: Outbox | null = null;
  if (snapshot === undefined) state = codec.empty();
  else if (manifest.snapshot?.envelope === 1) {
    const e = decodeEnvelope<Outbox | null>(snapshot);
    state = codec.decodeSnapshot(e.codec);
    outbox = e.outbox;
  } else state = codec.decodeSnapshot(snapshot);
  manifest.deltas.forEach((ref, i) => {
    const bytes = deltas[i]!;
    if (ref.envelope === 1) {
      const e = decodeEnvelope<OutboxDeltaPart | null>(bytes);
      if (e.codec.byteLength > 0) codec.applyDelta(state, e.codec);
      if (e.outbox !== null) outbox = applyOutbox(outbox, e.outbox.change, e.outbox.at);
    } else codec.applyDelta(state, bytes);
  });
  return { state, outbox };
}

/** The state a manifest describes, read from S3: the snapshot, then every delta in order. */
export async function readState<S>(
  objects: ObjectStoreWithDelete,
  id: StateId,
  manifest: Manifest,
  codec: StateCodec<S>,
): Promise<S> {
  return (await readHeld(objects, id, manifest, codec)).state;
}

/** The rows a partition's state holds deferred (its outbox), read from S3. */
export async function readOutbox(
  objects: ObjectStoreWithDelete,
  id: StateId,
  manifest: Manifest,
  codec: StateCodec<unknown>,
): Promise<Outbox | null> {
  return (await readHeld(objects, id, manifest, codec)).outbox;
}

function outboxRows(o: Outbox | null): number {
  return o === null ? 0 : Object.values(o.tables).reduce((n, rows) => n + rows.length, 0);
}

function objectPrefix(id: StateId): string {
  return `ops/state/${id.consumer}/${id.topic}/${id.scope}/`;
}

const MAX_GARBAGE = 4;

/**
 * The garbage list with `entry` added; past {@link MAX_GARBAGE} entries the newest two merge
 * into `entry` (the range of the older one then waits for the newer deadline: later, never
 * earlier, than its own).
 */
function addGarbage(list: Manifest['garbage'], entry: Manifest['garbage'][number]): Manifest['garbage'] {
  return list.length < MAX_GARBAGE ? [...list, entry] : [...list.slice(0, -1), entry];
}

/** Deletes the partition's state objects named with a version below `below` (one LIST). */
async function collect(objects: ObjectStoreWithDelete, id: StateId, below: number): Promise<void> {
  const prefix = objectPrefix(id);
  const old = (await objects.list(prefix)).filter((k) => {
    const v = Number(k.slice(prefix.length, prefix.length + 10));
    return Number.isSafeInteger(v) && v < below;
  });
  if (old.length > 0) await objects.delete(old);
}

/**
 * Runs one batch of one partition on its partition-owned state, fenced: the per-partition runner
 * every stateful consumer uses. `step` applies the batch to the state (in place) and says what it
 * changed; this function stores that as a delta or a snapshot and commits the manifest.
 */
export async function runPartition<S>(
  table: FencedTable,
  objects: ObjectStoreWithDelete,
  id: StateId,
  codec: StateCodec<S>,
  step: Step<S>,
  options: PartitionStateOptions = {},
): Promise<FencedOutcome> {
  const maxDeltas = options.maxDeltas ?? 16;
  const graceMs = options.graceMs ?? 20 * 60_000;
  const maxAge = options.outboxMaxAgeMs ?? 60_000;
  const maxRows = options.outboxMaxRows ?? 10_000;
  const clock = options.clock ?? Date.now;
  const cacheKey = stateIdString(id);
  let pending: Cached | undefined;
  const outcome = await runFenced<Manifest>(
    table,
    objects,
    id,
    async (loaded, out) => {
      pending = undefined;
      const manifest = manifestOf(id, loaded, codec.kind);
      // Taken out of the cache whatever happens next: only a commit puts it back.
      const warm = takeCached(cacheKey);
      let held: Held<S>;
      if (warm !== undefined && warm.version === loaded.version && warm.kind === codec.kind) {
        held = warm.held as Held<S>;
      } else {
        held = await readHeld(objects, id, manifest, codec);
        options.metrics?.count('StateColdLoads', 1, { consumer: id.consumer });
      }
      const state = held.state;
      const startedAt = clock();
      // A maximum age of 0: nothing is held, every batch writes its rows.
      const due =
        maxAge === 0 ||
        (held.outbox !== null &&
          (startedAt - held.outbox.since >= maxAge || outboxRows(held.outbox) > maxRows));
      const r = await step({
        loaded,
        state,
        meta: manifest.meta,
        out,
        outbox: { pending: held.outbox, due },
      });
      if (r === undefined) {
        // Nothing applied: the state is as committed (a retry of a committed batch).
        pending = { version: -1, kind: codec.kind, held, bytes: storedBytes(manifest) };
        return undefined;
      }
      const now = clock();
      const outbox = applyOutbox(held.outbox, r.outbox, now);
      // Superseded objects old enough are deleted before the commit: they are unreferenced
      // already, and a death here only repeats the (idempotent) delete next time.
      const collectable = manifest.garbage.filter((g) => now - g.since >= graceMs);
      if (collectable.length > 0) await collect(objects, id, Math.max(...collectable.map((g) => g.below)));
      const garbage = manifest.garbage.filter((g) => now - g.since < graceMs);
      // The objects written from now on are envelopes whenever an outbox is or was involved.
      const deltaPart: OutboxDeltaPart | null = r.outbox === undefined ? null : { change: r.outbox, at: now };
      const deltaBytes = deltaPart === null ? r.delta : encodeEnvelope(r.delta, deltaPart);
      const storedDeltas = manifest.deltas.reduce((n, d) => n + d.bytes, 0) + deltaBytes.byteLength;
      const compact =
        manifest.deltas.length + 1 > maxDeltas ||
        (manifest.snapshot !== null && storedDeltas > manifest.snapshot.bytes) ||
        (manifest.snapshot === null && manifest.deltas.length + 1 >= maxDeltas);
      let next: Manifest;
      const name = `${objectPrefix(id)}${String(loaded.version).padStart(10, '0')}-${randomUUID().slice(0, 8)}`;
      if (compact) {
        const codecBytes = codec.encodeSnapshot(state);
        const bytes = outbox === null ? codecBytes : encodeEnvelope(codecBytes, outbox);
        await out.put(`${name}.snapshot`, bytes);
        const superseded = manifest.snapshot !== null || manifest.deltas.length > 0;
        next = {
          layout: 2,
          kind: codec.kind,
          snapshot: {
            key: `${name}.snapshot`,
            bytes: bytes.byteLength,
            ...(outbox === null ? {} : { envelope: 1 as const }),
          },
          deltas: [],
          garbage: superseded ? addGarbage(garbage, { below: loaded.version, since: now }) : garbage,
          meta: r.meta ?? manifest.meta,
        };
        options.metrics?.count('StateSnapshots', 1, { consumer: id.consumer });
      } else {
        await out.put(`${name}.delta`, deltaBytes);
        const ref: ObjectRef = {
          key: `${name}.delta`,
          bytes: deltaBytes.byteLength,
          ...(deltaPart === null ? {} : { envelope: 1 as const }),
        };
        next = { ...manifest, deltas: [...manifest.deltas, ref], garbage, meta: r.meta ?? manifest.meta };
      }
      pending = { version: -1, kind: codec.kind, held: { state, outbox }, bytes: storedBytes(next) };
      return { state: next, fences: r.fences, sources: r.sources };
    },
    options.metrics ? { metrics: options.metrics } : {},
  );
  if (pending !== undefined) {
    const done: Cached = pending;
    putCached(cacheKey, { ...done, version: outcome.version });
  }
  return outcome;
}
