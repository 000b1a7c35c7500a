/**
 * De-duplication by the domain's dedup field (event_id), part of the silver step (SPEC §2).
 *
 * Design (the SPEC leaves it open): a seen-set bucketed by event-time hour. An id is remembered
 * in the bucket of its event's ts (or the oldest live bucket, for an event older than that), and
 * buckets older than `newest ts - dedup.retention` (default 24 h) are dropped whole; when the
 * set exceeds `dedup.max_entries`, the oldest buckets go first. So duplicates are caught when
 * both copies are within the retention of event time; state is bounded by the traffic of one
 * retention period, and it is plain JSON (`snapshot()`).
 *
 * A redelivered Kafka batch is not the dedup step's business: SPEC §5 fences state updates by
 * offset, so a batch whose state was committed is never applied twice.
 */
import type { Domain } from './domain.ts';

const BUCKET_MS = 3_600_000;

export interface DedupState {
  readonly version: 1;
  /** Newest event ts seen, or null. */
  readonly maxTs: number | null;
  /** `[bucket start ms, ids]`, oldest first. */
  readonly buckets: Array<[number, string[]]>;
}

export class Deduplicator {
  private readonly retentionMs: number;
  private readonly maxEntries: number;
  /** Ids remembered (their bucket is found through `buckets`). */
  private readonly seen = new Set<string>();
  /** bucket start -> ids */
  private readonly buckets = new Map<number, string[]>();
  private maxTs: number | null = null;
  private oldest = Number.POSITIVE_INFINITY;

  constructor(domain: Pick<Domain, 'dedup'>, state?: DedupState) {
    this.retentionMs = domain.dedup.retentionMs;
    this.maxEntries = domain.dedup.maxEntries;
    if (state) {
      if (state.version !== 1)
        throw new Error(`Deduplicator: unsupported state version ${String(state.version)}`);
      this.maxTs = state.maxTs;
      for (const [b, ids] of state.buckets) {
        const copy = [...ids];
        this.buckets.set(b, copy);
        for (const id of copy) this.seen.add(id);
        if (b < this.oldest) this.oldest = b;
      }
    }
  }

  /** Number of remembered ids. */
  get size(): number {
    return this.seen.size;
  }

  /**
   * True when `id` was already seen (the event is a duplicate and must be skipped); otherwise
   * remembers it and returns false.
   */
  isDuplicate(id: string, ts: number): boolean {
    // One hash lookup: add, and a size that did not grow means the id was there already.
    const seen = this.seen;
    const before = seen.size;
    seen.add(id);
    if (seen.size === before) return true;
    let bucket = ts - (((ts % BUCKET_MS) + BUCKET_MS) % BUCKET_MS);
    if (bucket < this.oldest && this.buckets.size > 0) bucket = this.oldest;
    let ids = this.buckets.get(bucket);
    if (ids === undefined) {
      ids = [];
      this.buckets.set(bucket, ids);
      if (bucket < this.oldest) this.oldest = bucket;
    }
    ids.push(id);
    if (this.maxTs === null || ts > this.maxTs) {
      this.maxTs = ts;
      this.expire();
    }
    if (this.seen.size > this.maxEntries) this.dropOldest();
    return false;
  }

  private expire(): void {
    if (this.maxTs === null) return;
    const limit = this.maxTs - this.retentionMs;
    while (this.buckets.size > 1 && this.oldest + BUCKET_MS <= limit) this.dropOldest();
  }

  private dropOldest(): void {
    const ids = this.buckets.get(this.oldest);
    if (ids !== undefined) {
      for (const id of ids) this.seen.delete(id);
      this.buckets.delete(this.oldest);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const b of this.buckets.keys()) if (b < next) next = b;
    this.oldest = next;
  }

  /** A JSON-serializable copy of the state. */
  snapshot(): DedupState {
    const buckets = [...this.buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([b, ids]): [number, string[]] => [b, [...ids]]);
    return { version: 1, maxTs: this.maxTs, buckets };
  }
}

/** One valid event of a batch: its dedup id, event time and Kafka offset. */
export interface DedupCandidate {
  readonly id: string;
  /** Event time, epoch ms. */
  readonly ts: number;
  readonly offset: number;
}

/** An occurrence of an id: the record (offset) that carried it first, and its event time. */
export interface DedupOccurrence {
  readonly offset: number;
  readonly ts: number;
}

/**
 * De-duplication of one batch against an id store kept outside the stage state (a `DedupStore`,
 * `functions/ports/dedup-store.ts`; on AWS one DynamoDB item per id).
 *
 * The rule, per partition: an event is a duplicate when the id's occurrence before it (the last
 * remembered one at a lower offset) has a ts less than `retentionMs` before the event's ts;
 * otherwise the event becomes an occurrence of the id. (The in-state {@link Deduplicator} forgets
 * by hour buckets of the partition's newest ts instead: the two agree except for ids close to the
 * retention limit.)
 *
 * Retries: the store is written before the stage's fenced commit, so it may hold occurrences of a
 * dead attempt (offsets past `committed`). Each id keeps a short list: its last committed
 * occurrence and every later one. A record is judged against the occurrence before its own offset
 * and a record that is itself an occurrence is not a duplicate, so a retried (even bisected)
 * batch gets the answers of its first delivery, whatever the dead attempt wrote.
 *
 * @param known the store's occurrences per id (ascending offsets) before the batch
 * @param committed the partition's last committed offset (null: none)
 * @returns the answer per candidate (offset order), and the new occurrence lists of the ids that
 *   changed (older committed occurrences pruned)
 */
export function decideDuplicates(
  candidates: readonly DedupCandidate[],
  known: ReadonlyMap<string, readonly DedupOccurrence[]>,
  retentionMs: number,
  committed: number | null,
): { readonly duplicates: boolean[]; readonly remember: Map<string, DedupOccurrence[]> } {
  const current = new Map<string, readonly DedupOccurrence[]>(known);
  const remember = new Map<string, DedupOccurrence[]>();
  const duplicates = candidates.map((c) => {
    const list = current.get(c.id) ?? [];
    let before: DedupOccurrence | undefined;
    let at = 0;
    for (; at < list.length && list[at]!.offset <= c.offset; at++) {
      if (list[at]!.offset === c.offset) return false; // this very record: an occurrence
      before = list[at];
    }
    if (before !== undefined && c.ts - before.ts < retentionMs) return true;
    // A new occurrence, between the ones before and after it (after: a dead attempt's, re-judged
    // when the retry reaches them). Of the committed history only the last one is ever needed.
    const next = [...list.slice(0, at), { offset: c.offset, ts: c.ts }, ...list.slice(at)];
    let keepFrom = 0;
    if (committed !== null)
      while (keepFrom + 1 < next.length && next[keepFrom + 1]!.offset <= committed) keepFrom++;
    const kept = next.slice(keepFrom);
    current.set(c.id, kept);
    remember.set(c.id, kept);
    return false;
  });
  return { duplicates, remember };
}
