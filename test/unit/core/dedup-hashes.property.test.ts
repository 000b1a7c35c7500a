import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupDelta, Deduplicator, HashedDedupSet, idHash } from '../../../functions/core/index.ts';

const HOUR = 3_600_000;
const domain = { dedup: { retentionMs: 3 * HOUR, maxEntries: 40 } };
/** Ids from a small alphabet (many repeats) with event times over a few hours, some out of order. */
const stream = fc.array(
  fc.tuple(
    fc.integer({ min: 0, max: 60 }).map((n) => `id-${n}`),
    fc.integer({ min: 0, max: 8 * HOUR }),
  ),
  { maxLength: 300 },
);

/** A snapshot's buckets with their hashes sorted (slot order depends on the insertion history). */
function normalized(bytes: Uint8Array): Array<[number, string[]]> {
  const b = Buffer.from(bytes);
  const out: Array<[number, string[]]> = [];
  let o = 12;
  for (let i = 0; i < b.readUInt32LE(8); i++) {
    const n = b.readUInt32LE(o + 8);
    const ids: string[] = [];
    for (let j = 0; j < n; j++) ids.push(b.subarray(o + 12 + 16 * j, o + 28 + 16 * j).toString('hex'));
    out.push([b.readDoubleLE(o), ids.sort()]);
    o += 12 + 16 * n;
  }
  return out;
}

describe('the hashed seen-set of partition-owned dedup', () => {
  it('answers exactly as the in-state Deduplicator of embedded runs (buckets, expiry, max entries)', () => {
    fc.assert(
      fc.property(stream, (events) => {
        const plain = new Deduplicator(domain);
        const hashed = new HashedDedupSet(domain);
        for (const [id, ts] of events)
          expect(hashed.isDuplicate(idHash(id), ts)).toBe(plain.isDuplicate(id, ts));
        expect(hashed.size).toBe(plain.size);
      }),
    );
  });

  it('is restored exactly from a snapshot plus the deltas of later batches', () => {
    fc.assert(
      fc.property(stream, fc.integer({ min: 0, max: 300 }), (events, cut) => {
        const live = new HashedDedupSet(domain);
        const head = events.slice(0, cut);
        for (const [id, ts] of head) live.isDuplicate(idHash(id), ts);
        const snapshot = live.toBytes();
        const delta = new DedupDelta();
        for (const [id, ts] of events.slice(cut)) {
          const h = idHash(id);
          if (!live.isDuplicate(h, ts)) delta.add(h, ts);
        }
        const restored = HashedDedupSet.fromBytes(domain, snapshot);
        DedupDelta.apply(restored, delta.toBytes());
        expect(restored.size).toBe(live.size);
        expect(restored.maxTs).toBe(live.maxTs);
        expect(normalized(restored.toBytes())).toEqual(normalized(live.toBytes()));
        for (let n = 0; n <= 60; n++) {
          const h = idHash(`id-${n}`);
          const probeTs = live.maxTs ?? 0;
          // Same answer for every id (asked on copies: asking remembers).
          const a = HashedDedupSet.fromBytes(domain, live.toBytes()).isDuplicate(h, probeTs);
          const b = HashedDedupSet.fromBytes(domain, restored.toBytes()).isDuplicate(h, probeTs);
          expect(b).toBe(a);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('keeps 16 bytes per id in a snapshot', () => {
    const set = new HashedDedupSet({ dedup: { retentionMs: 24 * HOUR, maxEntries: 1_000_000 } });
    for (let i = 0; i < 10_000; i++) set.isDuplicate(idHash(`event-${i}`), 1_000 * i);
    expect(set.size).toBe(10_000);
    expect(set.toBytes().byteLength).toBe(12 + 16 * 10_000 + 12 * 3);
  });
});
