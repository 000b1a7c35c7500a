/**
 * The decision logic of one Kafka event source mapping in provisioned mode, free of I/O: records
 * are fed in, the engine says what to do (invoke the function with these records, send these
 * records' metadata to the on-failure destination) and, once told how that went, which offsets can
 * be committed. Time comes from an injected clock, so every rule is unit-testable.
 *
 * Rules (AWS Lambda Developer Guide, Kafka event sources):
 * - A batch is invoked when it holds `batchSize` records, or its payload would pass 6 MB, or the
 *   batching window has elapsed since its oldest record arrived.
 * - A partition belongs to one poller and to at most one batch at a time, so its records are
 *   processed in offset order and never by two concurrent invocations. Each poller runs up to
 *   `invocationsPerPoller` invocations at once (AWS: 5), over partitions no other in-flight batch
 *   holds; pollers run in parallel.
 * - A function error retries the batch; with `BisectBatchOnFunctionError` the failing batch is split
 *   in two halves, retried one after the other (a split does not use up a retry: halves keep the
 *   attempt count of their parent, and a single record is retried up to `MaximumRetryAttempts`).
 * - A partial batch response (`ReportBatchItemFailures`) succeeds every record before the lowest
 *   failed offset of each reported partition (and every unreported partition) and retries the rest
 *   of the reported partitions from that offset; that retry counts as an attempt.
 * - Once retries are exhausted, the remaining records go to the on-failure destination (or are
 *   skipped without one) and the partition moves on. Records older than `MaximumRecordAgeInSeconds`
 *   go there before any invocation, and between retries (condition `RetryAttemptsExhausted`: the
 *   guide documents no other for them).
 * - An offset is committed only once every record before it succeeded or went to the destination.
 */
import { randomUUID } from 'node:crypto';
import {
  EventSizer,
  type FunctionResult,
  type OnFailureCondition,
  type PolledRecord,
  partitionKey,
  recordJsonBytes,
} from './event.ts';

export interface EngineConfig {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly maxPayloadBytes: number;
  /** Effective retries (see `effectiveMaxRetries`); `Infinity` for infinite. */
  readonly maxRetries: number;
  /** `undefined` for no limit. */
  readonly maxRecordAgeMs?: number | undefined;
  readonly bisectOnError: boolean;
  readonly reportBatchItemFailures: boolean;
  readonly hasOnFailureDestination: boolean;
  /** Event pollers; each owns the partitions assigned to it (round-robin, in first-seen order). */
  readonly pollers: number;
  /** Concurrent invocations of one poller, each over partitions of its own (`INVOCATIONS_PER_POLLER`). */
  readonly invocationsPerPoller: number;
  readonly bootstrapServers: string;
  /** The Amazon MSK cluster ARN of the mapping (its event is `aws:kafka`); none for self-managed Kafka. */
  readonly eventSourceArn?: string | undefined;
}

export type Action =
  | {
      readonly kind: 'invoke';
      readonly actionId: number;
      readonly requestId: string;
      readonly records: readonly PolledRecord[];
      /** Invocations of this batch so far, this one included. */
      readonly invokeCount: number;
      /** True when these records were already delivered at least once. */
      readonly retry: boolean;
    }
  | {
      readonly kind: 'onFailure';
      readonly actionId: number;
      readonly requestId: string;
      readonly records: readonly PolledRecord[];
      readonly condition: OnFailureCondition;
      readonly approximateInvokeCount: number;
      readonly functionError: string | null;
      readonly payloadSize: number;
    };

export interface EngineStats {
  invocations: number;
  records: number;
  failures: number;
  retries: number;
  sentToOnFailure: number;
  discarded: number;
}

export interface Commit {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to read. */
  readonly offset: number;
}

interface Pending {
  readonly record: PolledRecord;
  readonly arrivedAt: number;
  readonly bytes: number;
}

interface Segment {
  records: PolledRecord[];
  failedAttempts: number;
  delivered: boolean;
  /** The function error of the last failed invocation of these records, if any. */
  lastError?: string;
  exhausted?: { condition: OnFailureCondition; functionError: string | null };
}

interface Batch {
  readonly poller: number;
  readonly partitions: Map<string, { topic: string; partition: number; maxOffset: number }>;
  readonly segments: Segment[];
  invokeCount: number;
  lastRequestId: string;
  inFlight?: { actionId: number; kind: 'invoke' | 'onFailure'; records: readonly PolledRecord[] };
}

export class MappingEngine {
  private readonly queues = new Map<string, Pending[]>();
  /** Next offset expected from the feed per partition (records below it are repeats). */
  private readonly fed = new Map<string, number>();
  private readonly committed = new Map<string, Commit>();
  private readonly toCommit = new Map<string, Commit>();
  private readonly pollerOf = new Map<string, number>();
  private readonly batches = new Map<number, Batch>();
  private readonly held = new Set<string>();
  private nextActionId = 1;
  readonly stats: EngineStats = {
    invocations: 0,
    records: 0,
    failures: 0,
    retries: 0,
    sentToOnFailure: 0,
    discarded: 0,
  };

  constructor(
    private readonly config: EngineConfig,
    private readonly clock: () => number = Date.now,
    private readonly newRequestId: () => string = randomUUID,
  ) {
    if (config.batchSize < 1) throw new Error(`batchSize must be at least 1, got ${config.batchSize}`);
    if (config.pollers < 1) throw new Error(`pollers must be at least 1, got ${config.pollers}`);
    if (config.invocationsPerPoller < 1) {
      throw new Error(`invocationsPerPoller must be at least 1, got ${config.invocationsPerPoller}`);
    }
  }

  /** Declares where a partition starts (its committed offset), so idleness and commits are known before any record. */
  assign(topic: string, partition: number, offset: number): void {
    const k = partitionKey(topic, partition);
    if (!this.fed.has(k)) this.fed.set(k, offset);
    if (!this.committed.has(k)) this.committed.set(k, { topic, partition, offset });
    this.poller(k);
  }

  /** Feeds polled records (per partition in offset order). Repeats of records already fed are ignored. */
  add(records: readonly PolledRecord[]): void {
    const now = this.clock();
    for (const record of records) {
      const k = partitionKey(record.topic, record.partition);
      const expected = this.fed.get(k);
      if (expected !== undefined && record.offset < expected) continue;
      this.fed.set(k, record.offset + 1);
      if (!this.committed.has(k)) {
        this.committed.set(k, { topic: record.topic, partition: record.partition, offset: record.offset });
      }
      this.poller(k);
      const queue = this.queues.get(k) ?? [];
      queue.push({ record, arrivedAt: now, bytes: recordJsonBytes(record) });
      this.queues.set(k, queue);
    }
  }

  /** What to do now. Each returned action must be settled with {@link settle}. */
  poll(): Action[] {
    const actions: Action[] = [];
    const running = new Map<number, number>();
    for (const batch of this.batches.values())
      running.set(batch.poller, (running.get(batch.poller) ?? 0) + 1);
    for (let poller = 0; poller < this.config.pollers; poller++) {
      // Each new batch holds its partitions, so the next one is formed from the others.
      for (let n = running.get(poller) ?? 0; n < this.config.invocationsPerPoller; n++) {
        const batch = this.formBatch(poller);
        if (!batch) break;
        this.batches.set(this.nextActionId++, batch);
      }
    }
    for (const [, batch] of this.batches) {
      if (batch.inFlight) continue;
      const action = this.next(batch);
      if (action) actions.push(action);
    }
    this.releaseDone();
    return actions;
  }

  /** Reports how an action went. For `onFailure`, `ok: false` means the send failed and will be retried. */
  settle(actionId: number, outcome: FunctionResult | { kind: 'sent'; ok: boolean }): void {
    const batch = [...this.batches.values()].find((b) => b.inFlight?.actionId === actionId);
    if (!batch?.inFlight) throw new Error(`no action ${actionId} in flight`);
    const { kind, records } = batch.inFlight;
    batch.inFlight = undefined;
    const segment = batch.segments[0];
    if (!segment) throw new Error(`action ${actionId}: batch has no segment`);
    if (kind === 'onFailure') {
      if (outcome.kind !== 'sent') throw new Error(`action ${actionId} is an on-failure send`);
      if (outcome.ok) {
        this.stats.sentToOnFailure += records.length;
        this.resolve(batch, segment, records);
      }
      this.releaseDone();
      return;
    }
    if (outcome.kind === 'sent') throw new Error(`action ${actionId} is an invocation`);
    if (outcome.kind === 'success') {
      this.stats.records += records.length;
      this.resolve(batch, segment, records);
    } else if (outcome.kind === 'partial') {
      this.stats.failures++;
      const succeeded = records.filter((r) => {
        const from = outcome.failedFrom.get(partitionKey(r.topic, r.partition));
        return from === undefined || r.offset < from;
      });
      this.stats.records += succeeded.length;
      this.resolve(batch, segment, succeeded);
      this.failed(segment, 'Unhandled');
    } else {
      this.stats.failures++;
      segment.lastError = 'Unhandled';
      if (this.config.bisectOnError && segment.records.length > 1) {
        const half = Math.ceil(segment.records.length / 2);
        const ordered = orderForSplit(segment.records);
        const first: Segment = {
          records: ordered.slice(0, half),
          failedAttempts: segment.failedAttempts,
          delivered: true,
          lastError: 'Unhandled',
        };
        const second: Segment = {
          records: ordered.slice(half),
          failedAttempts: segment.failedAttempts,
          delivered: true,
          lastError: 'Unhandled',
        };
        batch.segments.splice(0, 1, first, second);
      } else {
        this.failed(segment, 'Unhandled');
      }
    }
    this.releaseDone();
  }

  /** Offsets that became committable since the last call. */
  takeCommits(): Commit[] {
    const out = [...this.toCommit.values()];
    this.toCommit.clear();
    return out;
  }

  /** Next offset to read per `"<topic>-<partition>"` as far as the engine has resolved records. */
  committedOffsets(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, c] of this.committed) out[k] = c.offset;
    return out;
  }

  /** Records fed and not yet taken into a batch. */
  queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Nothing queued, nothing held. */
  isIdle(): boolean {
    if (this.batches.size > 0) return false;
    for (const q of this.queues.values()) if (q.length > 0) return false;
    return true;
  }

  /** When the next batching window closes (epoch ms), if records are waiting for one. */
  nextDeadline(): number | undefined {
    let deadline: number | undefined;
    for (const [k, q] of this.queues) {
      const head = q[0];
      if (!head || this.held.has(k)) continue;
      const at = head.arrivedAt + this.config.batchingWindowMs;
      if (deadline === undefined || at < deadline) deadline = at;
    }
    return deadline;
  }

  private poller(k: string): number {
    let p = this.pollerOf.get(k);
    if (p === undefined) {
      p = this.pollerOf.size % this.config.pollers;
      this.pollerOf.set(k, p);
    }
    return p;
  }

  private formBatch(poller: number): Batch | undefined {
    const now = this.clock();
    const candidates = [...this.queues.entries()]
      .filter(([k, q]) => q.length > 0 && !this.held.has(k) && this.pollerOf.get(k) === poller)
      .sort(([, a], [, b]) => (a[0] as Pending).arrivedAt - (b[0] as Pending).arrivedAt);
    if (candidates.length === 0) return undefined;
    const oldest = (candidates[0]?.[1][0] as Pending).arrivedAt;
    const sizer = new EventSizer(this.config.bootstrapServers, this.config.eventSourceArn);
    const taken: Pending[] = [];
    let full = false;
    outer: for (const [, q] of candidates) {
      for (const p of q) {
        if (taken.length >= this.config.batchSize) {
          full = true;
          break outer;
        }
        if (taken.length > 0 && sizer.sizeWith(p.record, p.bytes) > this.config.maxPayloadBytes) {
          full = true;
          break outer;
        }
        sizer.add(p.record, p.bytes);
        taken.push(p);
        if (sizer.size > this.config.maxPayloadBytes) {
          full = true; // a single record over the limit goes alone
          break outer;
        }
      }
    }
    if (taken.length >= this.config.batchSize) full = true;
    if (!full && now - oldest < this.config.batchingWindowMs) return undefined;
    const partitions: Batch['partitions'] = new Map();
    for (const p of taken) {
      const k = partitionKey(p.record.topic, p.record.partition);
      const q = this.queues.get(k) as Pending[];
      q.shift();
      const entry = partitions.get(k);
      if (entry) entry.maxOffset = Math.max(entry.maxOffset, p.record.offset);
      else
        partitions.set(k, {
          topic: p.record.topic,
          partition: p.record.partition,
          maxOffset: p.record.offset,
        });
      this.held.add(k);
    }
    return {
      poller,
      partitions,
      segments: [{ records: taken.map((p) => p.record), failedAttempts: 0, delivered: false }],
      invokeCount: 0,
      lastRequestId: this.newRequestId(),
    };
  }

  private next(batch: Batch): Action | undefined {
    for (;;) {
      const segment = batch.segments[0];
      if (!segment) return undefined;
      if (segment.records.length === 0) {
        batch.segments.shift();
        continue;
      }
      if (segment.exhausted) {
        return this.toOnFailure(
          batch,
          segment,
          segment.records,
          segment.exhausted.condition,
          segment.exhausted.functionError,
        );
      }
      const maxAge = this.config.maxRecordAgeMs;
      if (maxAge !== undefined) {
        const now = this.clock();
        const expired = segment.records.filter((r) => now - r.timestamp > maxAge);
        if (expired.length > 0) {
          // No documented condition for age; responseContext is null unless the records were invoked.
          return this.toOnFailure(
            batch,
            segment,
            expired,
            'RetryAttemptsExhausted',
            segment.lastError ?? null,
          );
        }
      }
      const sizer = new EventSizer(this.config.bootstrapServers, this.config.eventSourceArn);
      for (const r of segment.records) sizer.add(r);
      if (sizer.size > this.config.maxPayloadBytes) {
        // Only a single record can be over the limit (batches are cut before it).
        return this.toOnFailure(batch, segment, segment.records, 'MaximumPayloadSizeExceeded', null);
      }
      batch.invokeCount++;
      batch.lastRequestId = this.newRequestId();
      this.stats.invocations++;
      if (segment.delivered) this.stats.retries++;
      const actionId = this.nextActionId++;
      const records = [...segment.records];
      batch.inFlight = { actionId, kind: 'invoke', records };
      const retry = segment.delivered;
      segment.delivered = true;
      return {
        kind: 'invoke',
        actionId,
        requestId: batch.lastRequestId,
        records,
        invokeCount: batch.invokeCount,
        retry,
      };
    }
  }

  private toOnFailure(
    batch: Batch,
    segment: Segment,
    records: readonly PolledRecord[],
    condition: OnFailureCondition,
    functionError: string | null,
  ): Action | undefined {
    if (!this.config.hasOnFailureDestination) {
      this.stats.discarded += records.length;
      this.resolve(batch, segment, records);
      return this.next(batch);
    }
    const sizer = new EventSizer(this.config.bootstrapServers, this.config.eventSourceArn);
    for (const r of records) sizer.add(r);
    const actionId = this.nextActionId++;
    batch.inFlight = { actionId, kind: 'onFailure', records };
    return {
      kind: 'onFailure',
      actionId,
      requestId: batch.lastRequestId,
      records,
      condition,
      approximateInvokeCount: batch.invokeCount,
      functionError,
      payloadSize: sizer.size,
    };
  }

  private failed(segment: Segment, functionError: string): void {
    segment.failedAttempts++;
    segment.lastError = functionError;
    if (segment.failedAttempts > this.config.maxRetries) {
      segment.exhausted = { condition: 'RetryAttemptsExhausted', functionError };
    }
  }

  /** Marks records done: removes them from the segment and advances the commit of their partitions. */
  private resolve(batch: Batch, segment: Segment, records: readonly PolledRecord[]): void {
    if (records.length > 0) {
      const done = new Set(records);
      segment.records = segment.records.filter((r) => !done.has(r));
    }
    const lowestUnresolved = new Map<string, number>();
    for (const s of batch.segments) {
      for (const r of s.records) {
        const k = partitionKey(r.topic, r.partition);
        const low = lowestUnresolved.get(k);
        if (low === undefined || r.offset < low) lowestUnresolved.set(k, r.offset);
      }
    }
    for (const [k, p] of batch.partitions) {
      const offset = lowestUnresolved.get(k) ?? p.maxOffset + 1;
      const previous = this.committed.get(k);
      if (!previous || offset > previous.offset) {
        const commit = { topic: p.topic, partition: p.partition, offset };
        this.committed.set(k, commit);
        this.toCommit.set(k, commit);
      }
    }
  }

  private releaseDone(): void {
    for (const [id, batch] of this.batches) {
      if (batch.inFlight) continue;
      while (batch.segments[0] && batch.segments[0].records.length === 0) batch.segments.shift();
      if (batch.segments.length > 0) continue;
      for (const k of batch.partitions.keys()) this.held.delete(k);
      this.batches.delete(id);
    }
  }
}

/** Records in event order (topic, partition, offset), so a split keeps each partition's prefix in the first half. */
function orderForSplit(records: readonly PolledRecord[]): PolledRecord[] {
  return [...records].sort((a, b) =>
    a.topic === b.topic
      ? a.partition === b.partition
        ? a.offset - b.offset
        : a.partition - b.partition
      : a.topic < b.topic
        ? -1
        : 1,
  );
}
