/**
 * De-duplication by 128-bit hashes of the ids, for partition-owned state (the AWS enrich
 * consumer; `functions/state/codecs.ts`). Same rule as the in-state {@link Deduplicator}: ids are
 * remembered in hour buckets of event time (an event older than the oldest live bucket goes into
 * that one), buckets older than `newest ts - retention` are dropped whole, and when more than
 * `max_entries` ids are held the oldest bucket goes first. So expiry is dropping whole buckets,
 * and the result is exactly the embedded run's.
 *
 * Exact, not a Bloom filter: a false positive would drop a real event. An id is kept as the first
 * 128 bits of its MD5 (used here as a fast, well-mixed hash, not for security): two different ids
 * collide with probability 2^-128 per pair, so with n ids held the chance that any pair collides
 * is about n^2 / 2^129: for n = 36 million (24 h of one partition at 417 events/s, prod at
 * 10k events/s over 24 partitions) about 2 x 10^-24. 16 bytes per id in a snapshot, and about
 * 23 bytes per id in memory (open addressing at <= 0.7 load).
 */
import { createHash } from 'node:crypto';
import type { Domain } from './domain.ts';

const BUCKET_MS = 3_600_000;

/** The 128-bit hash of an id, as four 32-bit words. */
export function idHash(id: string): Uint32Array {
  const d = createHash('md5').update(id).digest();
  const h = new Uint32Array(4);
  h[0] = d.readUInt32LE(0);
  h[1] = d.readUInt32LE(4);
  h[2] = d.readUInt32LE(8);
  h[3] = d.readUInt32LE(12);
  // All-zero marks an empty slot: the one hash that could be all zero is moved off it.
  if ((h[0] | h[1] | h[2] | h[3]) === 0) h[0] = 1;
  return h;
}

/** A set of 128-bit hashes: open addressing, linear probing, in one Uint32Array. */
export class HashSet128 {
  private words: Uint32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity / 0.7) cap *= 2;
    this.words = new Uint32Array(cap * 4);
    this.mask = cap - 1;
  }

  private slot(h: Uint32Array): number {
    const w = this.words;
    let i = h[0]! & this.mask;
    for (;;) {
      const o = i * 4;
      if ((w[o]! | w[o + 1]! | w[o + 2]! | w[o + 3]!) === 0) return ~i;
      if (w[o] === h[0] && w[o + 1] === h[1] && w[o + 2] === h[2] && w[o + 3] === h[3]) return i;
      i = (i + 1) & this.mask;
    }
  }

  has(h: Uint32Array): boolean {
    return this.slot(h) >= 0;
  }

  /** Adds `h`; false when it was there already. */
  add(h: Uint32Array): boolean {
    const s = this.slot(h);
    if (s >= 0) return false;
    const o = ~s * 4;
    this.words.set(h, o);
    this.size++;
    if (this.size > (this.mask + 1) * 0.7) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.words;
    this.words = new Uint32Array(old.length * 2);
    this.mask = (this.mask + 1) * 2 - 1;
    this.size = 0;
    const h = new Uint32Array(4);
    for (let o = 0; o < old.length; o += 4) {
      if ((old[o]! | old[o + 1]! | old[o + 2]! | old[o + 3]!) === 0) continue;
      h.set(old.subarray(o, o + 4));
      this.add(h);
    }
  }

  /** Every hash, 16 bytes each (slot order). */
  toBytes(): Uint8Array {
    const out = new Uint32Array(this.size * 4);
    const w = this.words;
    let n = 0;
    for (let o = 0; o < w.length; o += 4) {
      if ((w[o]! | w[o + 1]! | w[o + 2]! | w[o + 3]!) === 0) continue;
      out.set(w.subarray(o, o + 4), n);
      n += 4;
    }
    return new Uint8Array(out.buffer);
  }

  static fromWords(words: Uint32Array): HashSet128 {
    const set = new HashSet128(words.length / 4);
    for (let o = 0; o < words.length; o += 4) set.add(words.subarray(o, o + 4));
    return set;
  }
}

/** The hashed seen-set of one partition, bucketed by event-time hour. */
export class HashedDedupSet {
  readonly retentionMs: number;
  readonly maxEntries: number;
  private readonly buckets = new Map<number, HashSet128>();
  maxTs: number | null = null;
  private oldest = Number.POSITIVE_INFINITY;
  private count = 0;

  constructor(domain: Pick<Domain, 'dedup'>) {
    this.retentionMs = domain.dedup.retentionMs;
    this.maxEntries = domain.dedup.maxEntries;
  }

  /** Ids held. */
  get size(): number {
    return this.count;
  }

  /** True when `h` was seen (a duplicate); otherwise remembers it (bucket of `ts`) and returns false. */
  isDuplicate(h: Uint32Array, ts: number): boolean {
    for (const set of this.buckets.values()) if (set.has(h)) return true;
    let bucket = ts - (((ts % BUCKET_MS) + BUCKET_MS) % BUCKET_MS);
    if (bucket < this.oldest && this.buckets.size > 0) bucket = this.oldest;
    let set = this.buckets.get(bucket);
    if (set === undefined) {
      set = new HashSet128();
      this.buckets.set(bucket, set);
      if (bucket < this.oldest) this.oldest = bucket;
    }
    set.add(h);
    this.count++;
    if (this.maxTs === null || ts > this.maxTs) {
      this.maxTs = ts;
      const limit = ts - this.retentionMs;
      while (this.buckets.size > 1 && this.oldest + BUCKET_MS <= limit) this.dropOldest();
    }
    if (this.count > this.maxEntries) this.dropOldest();
    return false;
  }

  private dropOldest(): void {
    const set = this.buckets.get(this.oldest);
    if (set !== undefined) {
      this.count -= set.size;
      this.buckets.delete(this.oldest);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const b of this.buckets.keys()) if (b < next) next = b;
    this.oldest = next;
  }

  /**
   * Bytes: `[maxTs f64 (NaN: none)][buckets u32]` then per bucket, oldest first,
   * `[start f64][ids u32][16 bytes per id]`.
   */
  toBytes(): Uint8Array {
    const parts = [...this.buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, set]) => [s, set.toBytes()] as const);
    const size = 12 + parts.reduce((n, [, b]) => n + 12 + b.byteLength, 0);
    const out = Buffer.alloc(size);
    out.writeDoubleLE(this.maxTs ?? Number.NaN, 0);
    out.writeUInt32LE(parts.length, 8);
    let o = 12;
    for (const [start, bytes] of parts) {
      out.writeDoubleLE(start, o);
      out.writeUInt32LE(bytes.byteLength / 16, o + 8);
      out.set(bytes, o + 12);
      o += 12 + bytes.byteLength;
    }
    return out;
  }

  static fromBytes(domain: Pick<Domain, 'dedup'>, bytes: Uint8Array): HashedDedupSet {
    const set = new HashedDedupSet(domain);
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const maxTs = b.readDoubleLE(0);
    set.maxTs = Number.isNaN(maxTs) ? null : maxTs;
    const n = b.readUInt32LE(8);
    let o = 12;
    for (let i = 0; i < n; i++) {
      const start = b.readDoubleLE(o);
      const ids = b.readUInt32LE(o + 8);
      const words = new Uint32Array(ids * 4);
      new Uint8Array(words.buffer).set(b.subarray(o + 12, o + 12 + ids * 16));
      const s = HashSet128.fromWords(words);
      set.buckets.set(start, s);
      set.count += s.size;
      if (start < set.oldest) set.oldest = start;
      o += 12 + ids * 16;
    }
    return set;
  }
}

/**
 * A batch's new ids, in order, as a delta: `[ts f64][16 bytes]` each. Applying it replays
 * {@link HashedDedupSet.isDuplicate} and so reproduces expiry exactly.
 */
export class DedupDelta {
  private readonly chunks: Buffer[] = [];

  add(h: Uint32Array, ts: number): void {
    const b = Buffer.alloc(24);
    b.writeDoubleLE(ts, 0);
    b.set(new Uint8Array(h.buffer, h.byteOffset, 16), 8);
    this.chunks.push(b);
  }

  toBytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }

  static apply(set: HashedDedupSet, delta: Uint8Array): void {
    const b = Buffer.from(delta.buffer, delta.byteOffset, delta.byteLength);
    const h = new Uint32Array(4);
    for (let o = 0; o + 24 <= b.byteLength; o += 24) {
      h[0] = b.readUInt32LE(o + 8);
      h[1] = b.readUInt32LE(o + 12);
      h[2] = b.readUInt32LE(o + 16);
      h[3] = b.readUInt32LE(o + 20);
      set.isDuplicate(h, b.readDoubleLE(o));
    }
  }
}
