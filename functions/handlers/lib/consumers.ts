/**
 * The four consumers as plain functions of (dependencies, Lambda Kafka event) → partial batch
 * response. The exported Lambda handlers (`../ingest.ts`, ...) are these wrapped in middy with
 * Powertools; tests and the local event source mapping can call them with their own dependencies.
 *
 * Per invocation: decode (core `decodeKafkaEvent`, no Powertools Kafka wrapper on the hot path),
 * group by partition, run the stage under the fenced protocol (`fenced.ts`), report every record
 * of each partition that failed in `batchItemFailures` (`core/batch-response.ts`: safe whether
 * Lambda retries from the lowest reported offset or only the listed records; fences make the
 * retry change nothing twice). Poison records never fail anything:
 * they go to the dead-letter sink with their reason.
 */
import type { DynamoDbStateTable, StateRecord, StateUpdate } from '../../adapters/aws/dynamodb-state.ts';
import type { SourceRange } from '../../adapters/parquet/partition.ts';
import type { CepKeyState, CepState } from '../../core/index.ts';
import {
  batchSucceeded,
  type DeadLetter,
  type DecodedRecord,
  type Domain,
  decodeKafkaEvent,
  type KafkaBatchResponse,
  type LambdaKafkaEvent,
  layerSchemas,
  parsePartitionId,
  type SilverEvent,
  toDeadLetter,
  unappliedRecords,
  WindowEngine,
  type WindowState,
} from '../../core/index.ts';
import { BATCH_QUALITY } from '../../lakehouse/quality.ts';
import { CepStage } from '../../pipeline/cep.ts';
import { CONSUMERS, type StageContext } from '../../pipeline/context.ts';
import { EnrichStage } from '../../pipeline/enrich.ts';
import { decodeEnrichedRecord, SOURCE_HEADER } from '../../pipeline/enriched.ts';
import { ingestBatch } from '../../pipeline/ingest.ts';
import { batchQualityRow } from '../../pipeline/quality.ts';
import { emptyWritten, writeRows } from '../../pipeline/write.ts';
import type { AlertSink } from '../../ports/alert-sink.ts';
import type { DeadLetterSink } from '../../ports/dead-letter-sink.ts';
import type { DedupStore } from '../../ports/dedup-store.ts';
import type { KeyStateStore } from '../../ports/key-state-store.ts';
import type { Metrics } from '../../ports/metrics.ts';
import type { BufferedObjectStore } from './buffered-objects.ts';
import { AttemptStateStore, type LeaseOptions, type ObjectStoreWithDelete, runFenced } from './fenced.ts';

export type { KafkaBatchResponse } from '../../core/index.ts';

export interface EnrichedPublisher {
  publish(events: readonly SilverEvent[]): Promise<void>;
}

export interface ConsumerDeps {
  readonly domain: Domain;
  readonly objects: ObjectStoreWithDelete;
  /** Required by every consumer but ingest (which is then unfenced). */
  readonly table?: DynamoDbStateTable;
  readonly metrics: Metrics;
  /** enrich (poison), windows and cep (malformed enriched records). */
  readonly deadLetters?: DeadLetterSink;
  /** enrich. */
  readonly enriched?: EnrichedPublisher;
  /**
   * enrich: where event ids are remembered (`DynamoDbDedupStore`: one item per id). Without it
   * they are part of the state item, which then grows with every id of the retention period.
   */
  readonly dedup?: DedupStore;
  /**
   * cep: where key states are kept (`DynamoDbKeyStateStore`: one item per key, with a TTL). Without
   * it they are part of the state item, which then holds every key still within its TTL.
   */
  readonly cepKeys?: KeyStateStore<CepKeyState>;
  /** cep. */
  readonly alerts?: AlertSink;
  /**
   * windows: the source partitions (`<raw topic>-<p>`) the engine must know from its first event,
   * so that no window is final before every partition has had its say (SPEC §3).
   * @default only the partitions seen so far
   */
  readonly sourcePartitions?: () => Promise<readonly string[]>;
  /**
   * windows: the lease its invocations take turns with on the shared state (`runFenced`).
   * @default `LeaseOptions` defaults (15 s lifetime, renewed every 5 s), waiting at most half the
   * time left before {@link deadline}
   */
  readonly windowsLease?: LeaseOptions;
  /**
   * Epoch ms at which this invocation times out (the Lambda context's remaining time): the
   * windows consumer waits for its lease at most half the time left, keeping the rest for its work.
   */
  readonly deadline?: number;
  /** Called with each partition's error before it is reported (logging). */
  readonly onError?: (partition: string, err: unknown) => void;
  /** @default Date.now */
  readonly clock?: () => number;
}

interface PartitionBatch {
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

function context(
  deps: ConsumerDeps,
  objects: BufferedObjectStore,
  state: StageContext['state'],
): StageContext {
  return {
    domain: deps.domain,
    objects,
    state,
    metrics: deps.metrics,
    ...(deps.deadLetters ? { deadLetters: deps.deadLetters } : {}),
    ...(deps.dedup ? { dedup: deps.dedup } : {}),
    ...(deps.cepKeys ? { cepKeys: deps.cepKeys } : {}),
    ...(deps.alerts ? { alerts: deps.alerts } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  };
}

/** The records (or decoded records) after the partition's fence. */
function fresh<R extends { readonly offset: number }>(records: readonly R[], fence: number | undefined): R[] {
  return fence === undefined ? [...records] : records.filter((r) => r.offset > fence);
}

/** Runs `work` for every partition concurrently; failed partitions become batch item failures. */
async function perPartition(
  deps: ConsumerDeps,
  batches: readonly PartitionBatch[],
  work: (b: PartitionBatch) => Promise<void>,
): Promise<KafkaBatchResponse> {
  const results = await Promise.allSettled(batches.map(work));
  const failures: KafkaBatchResponse['batchItemFailures'] = [];
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      const b = batches[i]!;
      deps.onError?.(b.id, r.reason);
      failures.push(...unappliedRecords(b.id, offsetsOf(b)));
    }
  });
  return { batchItemFailures: failures };
}

/** The offsets of a partition's batch: every record is reported when the partition fails. */
function offsetsOf(b: PartitionBatch): number[] {
  return b.records.map((r) => r.offset);
}

const NO_STATE = {} as const;

function tableOf(deps: ConsumerDeps, consumer: string): DynamoDbStateTable {
  if (deps.table === undefined) throw new Error(`${consumer} needs the state table (TIDEWATER_STATE_TABLE)`);
  return deps.table;
}

/**
 * ingest: raw → bronze. With a state table (the processing stack gives it one), fenced like the
 * others (empty state): a retry with other boundaries writes no row twice. Without one (tests,
 * tools), the bronze file of a batch is simply overwritten when the same batch is redelivered,
 * and a redelivery with different boundaries can leave overlapping bronze files.
 */
export async function ingest(deps: ConsumerDeps, event: LambdaKafkaEvent): Promise<KafkaBatchResponse> {
  const table = deps.table;
  if (table === undefined) {
    return perPartition(deps, byPartition(event), async (b) => {
      const noState = new AttemptStateStore({
        version: 0,
        fences: {},
        sources: {},
        state: undefined,
        intent: undefined,
        stateRef: undefined,
      });
      const ctx: StageContext = {
        domain: deps.domain,
        objects: deps.objects,
        state: noState,
        metrics: deps.metrics,
        ...(deps.clock ? { clock: deps.clock } : {}),
      };
      await ingestBatch(ctx, { topic: b.topic, partition: b.partition, records: b.records });
    });
  }
  return perPartition(deps, byPartition(event), async (b) => {
    await runFenced<typeof NO_STATE>(
      table,
      deps.objects,
      { consumer: CONSUMERS.ingest, topic: b.topic, scope: String(b.partition) },
      async (loaded, out) => {
        const records = fresh(b.records, loaded.fences[String(b.partition)]);
        if (records.length === 0) return undefined;
        await ingestBatch(context(deps, out, new AttemptStateStore(loaded)), {
          topic: b.topic,
          partition: b.partition,
          records,
        });
        return {
          state: NO_STATE,
          fences: { ...loaded.fences, [String(b.partition)]: records[records.length - 1]!.offset },
          sources: loaded.sources,
        };
      },
      { metrics: deps.metrics },
    );
  });
}

/** enrich: raw → silver + dead letters + enriched topic + ops/batch_quality. State: the fence (ids: `deps.dedup`). */
export async function enrich(deps: ConsumerDeps, event: LambdaKafkaEvent): Promise<KafkaBatchResponse> {
  const publisher = deps.enriched;
  if (publisher === undefined) throw new Error('enrich needs an enriched-topic publisher');
  return perPartition(deps, byPartition(event), async (b) => {
    await runFenced(
      tableOf(deps, 'enrich'),
      deps.objects,
      { consumer: CONSUMERS.enrich, topic: b.topic, scope: String(b.partition) },
      async (loaded: StateRecord<unknown>, out) => {
        const store = new AttemptStateStore(loaded);
        const ctx = context(deps, out, store);
        // The events are published and let go with the batch (their ids go to DynamoDB, or into
        // the state saved below): their strings need not be copied out of the record texts.
        const stage = await EnrichStage.open(
          ctx,
          { topic: b.topic, partition: b.partition },
          { copyStrings: false },
        );
        const r = await stage.apply({ topic: b.topic, partition: b.partition, records: b.records });
        if (r.range === undefined) return undefined;
        const quality = batchQualityRow(r.range, {
          records: r.records,
          valid: r.silverRows,
          poison: r.deadLettered,
          duplicates: r.duplicates,
          late: 0,
          batchTs: r.maxKafkaTs,
        });
        await writeRows(ctx, BATCH_QUALITY, [quality], r.range, emptyWritten());
        // Outputs before state: the events reach the enriched topic before the fence moves.
        await publisher.publish(r.forward);
        await stage.commit();
        const saved = store.saved;
        if (saved === undefined) throw new Error('enrich: the stage did not save its state');
        return {
          state: saved.state,
          fences: { ...loaded.fences, [String(b.partition)]: saved.lastOffset },
          sources: loaded.sources,
        };
      },
      { metrics: deps.metrics },
    );
  });
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

interface DecodedEvents {
  readonly events: SilverEvent[];
  readonly letters: DeadLetter[];
  readonly sources: Record<string, number>;
  readonly skipped: number;
}

/** An enriched record decoded: its source coordinates, and its silver event or its dead letter. */
interface DecodedEnriched {
  /** The enriched record's offset. */
  readonly offset: number;
  readonly src: { readonly id: string; readonly offset: number } | undefined;
  readonly event: SilverEvent | undefined;
  readonly letter: DeadLetter | undefined;
}

/**
 * Decodes enriched records, fences aside (see {@link pastFences}). A record that is not a silver
 * row (a wiring bug) becomes a dead letter, never allowed to stall the partition.
 */
function decodeEnriched(
  domain: Domain,
  records: readonly DecodedRecord[],
  coordinates: 'enriched' | 'source',
): DecodedEnriched[] {
  return records.map((r) => {
    const src = parseSource(r.headers.find(([n]) => n === SOURCE_HEADER)?.[1]);
    try {
      const e = decodeEnrichedRecord(domain, r);
      const origin = src === undefined ? undefined : parsePartitionId(src.id);
      // Windows see the raw record's coordinates (its partition's watermark, the late_events
      // row's coordinates, as in embedded runs); cep keeps the enriched ones its fence tracks.
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
function pastFences(
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

/** Silver events of enriched records past the fences ({@link decodeEnriched}, {@link pastFences}). */
function decodeEvents(
  domain: Domain,
  records: readonly DecodedRecord[],
  sourceFences: Readonly<Record<string, number>>,
): DecodedEvents {
  return pastFences(decodeEnriched(domain, records, 'enriched'), sourceFences);
}

/** cep: enriched → gold/alerts + alerts topic. State: per-key CEP states (in `deps.cepKeys` when given). */
export async function cep(deps: ConsumerDeps, event: LambdaKafkaEvent): Promise<KafkaBatchResponse> {
  return perPartition(deps, byPartition(event), async (b) => {
    await runFenced<CepState>(
      tableOf(deps, 'cep'),
      deps.objects,
      { consumer: CONSUMERS.cep, topic: b.topic, scope: String(b.partition) },
      async (loaded, out) => {
        const records = fresh(b.records, loaded.fences[String(b.partition)]);
        if (records.length === 0) return undefined;
        const decoded = decodeEvents(deps.domain, records, loaded.sources);
        const source = rangeOf(b, records);
        if (decoded.letters.length > 0) await sendLetters(deps, source, decoded.letters);
        const store = new AttemptStateStore(loaded);
        const stage = await CepStage.open(context(deps, out, store), {
          topic: b.topic,
          partition: b.partition,
        });
        await stage.apply({ source, events: decoded.events });
        await stage.commit();
        const saved = store.saved;
        if (saved === undefined) throw new Error('cep: the stage did not save its state');
        return {
          state: saved.state,
          fences: { ...loaded.fences, [String(b.partition)]: saved.lastOffset },
          sources: decoded.sources,
        };
      },
      { metrics: deps.metrics },
    );
  });
}

async function sendLetters(
  deps: ConsumerDeps,
  source: SourceRange,
  letters: readonly DeadLetter[],
): Promise<void> {
  if (deps.deadLetters === undefined) {
    throw new Error(
      `${letters.length} malformed enriched record(s) in ${source.topic}-${source.partition} and no dead-letter sink`,
    );
  }
  await deps.deadLetters.send(source, letters);
  deps.metrics.count('DeadLettered', letters.length);
}

/** The windows lease: `deps.windowsLease`, its wait bounded by half the invocation's time left. */
function windowsLease(deps: ConsumerDeps): LeaseOptions {
  const lease = deps.windowsLease ?? {};
  if (deps.deadline === undefined) return lease;
  const half = Math.max(0, Math.floor((deps.deadline - Date.now()) / 2));
  return { ...lease, maxWaitMs: Math.min(lease.maxWaitMs ?? half, half) };
}

/**
 * The id of the windows consumer's shared state: the fixed windows (tumbling, sliding) and the
 * watermark of every source partition, one item for every partition of the enriched topic.
 */
export function windowsStateId(topic: string): { consumer: string; topic: string; scope: string } {
  return { consumer: CONSUMERS.windows, topic, scope: '*' };
}

/** The id of the session windows' state of one partition of the enriched topic. */
export function sessionsStateId(
  topic: string,
  partition: number,
): { consumer: string; topic: string; scope: string } {
  return { consumer: CONSUMERS.windows, topic, scope: String(partition) };
}

const WINDOW_DOMAINS = new WeakMap<Domain, { readonly fixed: Domain; readonly sessions: Domain }>();

/** The domain with its fixed windows only, and with its session windows only. */
function windowDomains(domain: Domain): { readonly fixed: Domain; readonly sessions: Domain } {
  let split = WINDOW_DOMAINS.get(domain);
  if (split === undefined) {
    split = {
      fixed: { ...domain, windows: domain.windows.filter((w) => w.type !== 'session') },
      sessions: { ...domain, windows: domain.windows.filter((w) => w.type === 'session') },
    };
    WINDOW_DOMAINS.set(domain, split);
  }
  return split;
}

/**
 * windows: enriched → gold windows, sessions, late events, in two kinds of state.
 *
 * - **Shared** (`windowsStateId`): the fixed windows, whose groups (event types, merchants) take
 *   events from every partition, and the watermark of every source partition (a window is final
 *   once every partition's watermark passed it, SPEC §3), with a fence per enriched partition.
 *   Invocations for different partitions take turns on it with a lease (`runFenced`'s `lease`):
 *   without one they all computed and all but one lost the race and recomputed. Its files are
 *   named from the lowest partition's offsets in the invocation, which no committed invocation
 *   shares.
 * - **Per partition** (`sessionsStateId`): the session windows. Sessions are per key (`user_id`,
 *   the Kafka key), so one partition holds all of a key's events and its sessions need no other
 *   partition's events, only their watermarks: the engine starts from the shared state's
 *   watermarks (read without the lease), raised by the partition's own, so an event is late, and
 *   a session final, by the watermarks one engine holding every window would use for this batch.
 *   A session made final by another partition's watermark is emitted by this partition's next
 *   batch (or the end-of-run flush), where that one engine emitted it at once. No lease, no
 *   contention: the biggest part of the windows state scales with the partitions. Files are
 *   named `<topic>.sessions-<partition>-<first>-<last>`.
 *
 * Sessions go first, and the shared step runs only once every partition's sessions went through:
 * a death between the two leaves the shared state behind, never ahead, of the partitions' (a late
 * shared watermark only holds sessions open longer, as a slower partition would). Malformed
 * records are dead-lettered by the shared step alone.
 */
export async function windows(deps: ConsumerDeps, event: LambdaKafkaEvent): Promise<KafkaBatchResponse> {
  const batches = byPartition(event);
  if (batches.length === 0) return batchSucceeded();
  const topic = batches[0]!.topic;
  const table = tableOf(deps, 'windows');
  const split = windowDomains(deps.domain);
  const everyPartition: KafkaBatchResponse = {
    batchItemFailures: batches.flatMap((b) => unappliedRecords(b.id, offsetsOf(b))),
  };
  const allFailed = (err: unknown): KafkaBatchResponse => {
    deps.onError?.(topic, err);
    return everyPartition;
  };
  let known: readonly string[];
  // Decoded once for both steps, and outside the lease: the shared step is the serialized one.
  let decoded: ReadonlyMap<string, readonly DecodedEnriched[]>;
  try {
    decoded = new Map(batches.map((b) => [b.id, decodeEnriched(deps.domain, b.records, 'source')]));
    known = deps.sourcePartitions ? await deps.sourcePartitions() : [];
    if (split.sessions.windows.length > 0) {
      const shared = (await table.load<WindowState>(windowsStateId(topic))).state?.partitions ?? {};
      const done = await perPartition(deps, batches, (b) =>
        applySessions(deps, split.sessions, b, decoded.get(b.id)!, shared, known),
      );
      // The shared step waits for every partition's sessions: applied first, it would carry the
      // watermark of a failed partition past events its sessions have not seen yet, and their retry
      // would judge them by it. The partitions whose sessions went through skip them on redelivery.
      if (done.batchItemFailures.length > 0) return everyPartition;
    }
  } catch (err) {
    return allFailed(err);
  }
  try {
    await runFenced<WindowState>(
      table,
      deps.objects,
      windowsStateId(topic),
      async (loaded, out) => {
        const fences: Record<string, number> = { ...loaded.fences };
        let sources: Readonly<Record<string, number>> = loaded.sources;
        let name: SourceRange | undefined;
        const events: SilverEvent[][] = [];
        for (const b of batches) {
          const records = fresh(decoded.get(b.id)!, loaded.fences[String(b.partition)]);
          if (records.length === 0) continue;
          const range = rangeOf(b, records);
          name ??= range;
          const past = pastFences(records, sources);
          sources = past.sources;
          if (past.letters.length > 0) await sendLetters(deps, range, past.letters);
          events.push(past.events);
          fences[String(b.partition)] = range.lastOffset;
        }
        if (name === undefined) return undefined;
        const engine = new WindowEngine(split.fixed, withPartitions(loaded.state, events, known));
        let n = 0;
        for (const list of events) {
          for (const e of list) engine.add(e);
          n += list.length;
        }
        deps.metrics.count('RecordsIn', n, { layer: 'gold' });
        await writeWindowOutput(deps, out, engine.collect(), name);
        return { state: engine.snapshot(), fences, sources } satisfies StateUpdate<WindowState>;
      },
      { metrics: deps.metrics, lease: windowsLease(deps) },
    );
  } catch (err) {
    return allFailed(err);
  }
  return batchSucceeded();
}

/** The coordinates of `records` (non-empty, in offset order) of batch `b`: their file names. */
function rangeOf(b: PartitionBatch, records: readonly { readonly offset: number }[]): SourceRange {
  return {
    topic: b.topic,
    partition: b.partition,
    firstOffset: records[0]!.offset,
    lastOffset: records[records.length - 1]!.offset,
  };
}

/** The session windows of one partition's batch: its own fenced state, no lease. */
async function applySessions(
  deps: ConsumerDeps,
  domain: Domain,
  b: PartitionBatch,
  decoded: readonly DecodedEnriched[],
  shared: Readonly<Record<string, number>>,
  known: readonly string[],
): Promise<void> {
  await runFenced<WindowState>(
    tableOf(deps, 'windows'),
    deps.objects,
    sessionsStateId(b.topic, b.partition),
    async (loaded, out) => {
      const records = fresh(decoded, loaded.fences[String(b.partition)]);
      if (records.length === 0) return undefined;
      const range = rangeOf(b, records);
      const past = pastFences(records, loaded.sources);
      const state = withPartitions(withWatermarks(loaded.state, shared), [past.events], known);
      const engine = new WindowEngine(domain, state);
      for (const e of past.events) engine.add(e);
      await writeWindowOutput(deps, out, engine.collect(), { ...range, topic: `${b.topic}.sessions` });
      return {
        state: engine.snapshot(),
        fences: { ...loaded.fences, [String(b.partition)]: range.lastOffset },
        sources: past.sources,
      } satisfies StateUpdate<WindowState>;
    },
    { metrics: deps.metrics },
  );
}

/**
 * A partition's sessions state with the other partitions' watermarks taken from the shared state:
 * per source partition the larger of the two (the partition's own are never behind; the shared
 * state knows the others').
 */
function withWatermarks(
  state: WindowState | undefined,
  shared: Readonly<Record<string, number>>,
): WindowState {
  const base: WindowState = state ?? { version: 1, partitions: {}, fixed: {}, sessions: {} };
  const partitions: Record<string, number> = { ...shared };
  for (const [id, max] of Object.entries(base.partitions))
    partitions[id] = Math.max(max, partitions[id] ?? max);
  return { ...base, partitions };
}

/** Event time standing for "no event yet" (the earliest `Date`). */
const NOT_YET = -8_640_000_000_000_000;

/**
 * The state with every source partition registered (the known ones, and this invocation's)
 * before any event is added: the core starts a partition it has never seen at the current minimum
 * watermark, and emits a window once every partition it knows has passed it, so a partition
 * showing up late would make lateness, and whether a window is emitted twice, depend on how the
 * event source mapping interleaves partitions rather than on the data. Registered at "no event
 * yet", a partition holds windows open until its own events arrive and judges lateness on its own
 * events only.
 */
function withPartitions(
  state: WindowState | undefined,
  events: readonly (readonly SilverEvent[])[],
  known: readonly string[],
): WindowState {
  const base: WindowState = state ?? { version: 1, partitions: {}, fixed: {}, sessions: {} };
  const partitions: Record<string, number> = { ...base.partitions };
  let added = false;
  const ids = [...known];
  for (const list of events) if (list[0] !== undefined) ids.push(`${list[0].topic}-${list[0].partition}`);
  for (const id of ids) {
    if (partitions[id] === undefined) {
      partitions[id] = NOT_YET;
      added = true;
    }
  }
  return added ? { ...base, partitions } : base;
}

async function writeWindowOutput(
  deps: ConsumerDeps,
  out: BufferedObjectStore,
  output: ReturnType<WindowEngine['collect']>,
  name: SourceRange,
): Promise<number> {
  const schemas = layerSchemas(deps.domain);
  const ctx = context(
    deps,
    out,
    new AttemptStateStore({
      version: 0,
      fences: {},
      sources: {},
      state: undefined,
      intent: undefined,
      stateRef: undefined,
    }),
  );
  const written = emptyWritten();
  let n = 0;
  for (const [w, rows] of Object.entries(output.rows)) {
    const schema = schemas.windows[w];
    if (schema !== undefined) n += await writeRows(ctx, schema, rows, name, written);
  }
  n += await writeRows(ctx, schemas.lateEvents, output.late, name, written);
  for (const r of output.late) deps.metrics.count('LateEvents', 1, { window: String(r['window_name']) });
  deps.metrics.count('RecordsOut', n, { layer: 'gold' });
  return n;
}

/**
 * Ends a local-stack run the way embedded runs end (SPEC §3): emits every open window of the
 * windows states (each partition's sessions, then the shared fixed windows) and saves the emptied
 * engines, fenced like any batch. Files are named `<topic>.sessions.flush-<partition>-<v>-<v>` and
 * `<topic>.flush-0-<v>-<v>` after the state's version. Returns the rows written.
 */
export async function flushWindows(deps: ConsumerDeps, topic: string): Promise<number> {
  const table = tableOf(deps, 'windows');
  const split = windowDomains(deps.domain);
  const flushState = async (
    id: { consumer: string; topic: string; scope: string },
    domain: Domain,
    name: (version: number) => SourceRange,
    lease: LeaseOptions | undefined,
  ): Promise<number> => {
    let rows = 0;
    await runFenced<WindowState>(
      table,
      deps.objects,
      id,
      async (loaded, out) => {
        rows = 0;
        if (loaded.state === undefined) return undefined;
        const engine = new WindowEngine(domain, loaded.state);
        const output = engine.flush();
        const total = Object.values(output.rows).reduce((s, r) => s + r.length, 0) + output.late.length;
        if (total === 0) return undefined;
        rows = await writeWindowOutput(deps, out, output, name(loaded.version));
        return { state: engine.snapshot(), fences: loaded.fences, sources: loaded.sources };
      },
      { metrics: deps.metrics, ...(lease ? { lease } : {}) },
    );
    return rows;
  };
  let rows = 0;
  if (split.sessions.windows.length > 0) {
    const partitions = Object.keys((await table.load(windowsStateId(topic))).fences).map(Number);
    for (const p of partitions) {
      rows += await flushState(
        sessionsStateId(topic, p),
        split.sessions,
        (v) => ({ topic: `${topic}.sessions.flush`, partition: p, firstOffset: v, lastOffset: v }),
        undefined,
      );
    }
  }
  rows += await flushState(
    windowsStateId(topic),
    split.fixed,
    (v) => ({ topic: `${topic}.flush`, partition: 0, firstOffset: v, lastOffset: v }),
    windowsLease(deps),
  );
  return rows;
}
