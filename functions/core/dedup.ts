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
