import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deduplicator, decideDuplicates } from '../../../functions/core/index.ts';
import { roundTrip } from './helpers.ts';

const H = 3_600_000;
const T0 = 1_793_606_400_000;
const cfg = { dedup: { retentionMs: 24 * H, maxEntries: 1_000 } };

describe('de-duplication', () => {
  it('lets the first copy of an id through and flags every later copy', () => {
    // Prepare
    const d = new Deduplicator(cfg);
    // Act
    const seen = [d.isDuplicate('a', T0), d.isDuplicate('a', T0), d.isDuplicate('a', T0 + 5 * H)];
    // Assess
    expect(seen).toEqual([false, true, true]);
  });

  it('forgets ids older than the retention of event time', () => {
    // Prepare
    const d = new Deduplicator(cfg);
    d.isDuplicate('old', T0);
    // Act
    d.isDuplicate('new', T0 + 26 * H);
    // Assess
    expect(d.isDuplicate('old', T0 + 26 * H)).toBe(false);
    expect(d.size).toBe(2);
  });

  it('drops the oldest ids first when the entry cap is reached', () => {
    // Prepare
    const d = new Deduplicator({ dedup: { retentionMs: 24 * H, maxEntries: 3 } });
    // Act
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) d.isDuplicate(id, T0 + i * H);
    // Assess
    expect(d.size).toBe(3);
    expect(d.isDuplicate('d', T0)).toBe(true);
  });

  it('gives the same answers after a JSON snapshot at any point', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 0, max: 60 })), {
          maxLength: 40,
        }),
        fc.integer({ min: 0, max: 40 }),
        (events, cut) => {
          const one = new Deduplicator(cfg);
          const expected = events.map(([id, h]) => one.isDuplicate(id, T0 + h * H));
          let two = new Deduplicator(cfg);
          const actual = events.map(([id, h], i) => {
            if (i === cut) two = new Deduplicator(cfg, roundTrip(two.snapshot()));
            return two.isDuplicate(id, T0 + h * H);
          });
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('de-duplication against an id store (decideDuplicates)', () => {
  const RET = 10_000;
  type Occ = { offset: number; ts: number };
  /** The rule, naively, in one pass: duplicate when the id's last occurrence is less than RET before. */
  function naive(stream: ReadonlyArray<{ id: string; ts: number; offset: number }>): boolean[] {
    const last = new Map<string, number>();
    return stream.map((c) => {
      const prev = last.get(c.id);
      if (prev !== undefined && c.ts - prev < RET) return true;
      last.set(c.id, c.ts);
      return false;
    });
  }

  const streams = fc
    .array(
      fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd'), dt: fc.integer({ min: -4_000, max: 7_000 }) }),
      { maxLength: 80 },
    )
    .map((xs) => {
      let ts = 1_000_000;
      return xs.map((x, offset) => {
        ts += x.dt;
        return { id: x.id, ts, offset };
      });
    });

  it('with attempts that die after writing the store and retries with other boundaries, answers like one naive pass', () => {
    fc.assert(
      fc.property(
        streams,
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 12 }), dies: fc.boolean(), keep: fc.nat() }), {
          minLength: 1,
        }),
        (stream, plan) => {
          const store = new Map<string, Occ[]>();
          /** The committed offset each id's list was last written with. */
          const writtenAt = new Map<string, number | null>();
          const write = (remember: Map<string, Occ[]>) => {
            for (const [id, list] of remember) {
              store.set(id, list);
              writtenAt.set(id, committed);
            }
          };
          const answers: boolean[] = [];
          let committed: number | null = null;
          let from = 0;
          for (let step = 0; from < stream.length; step++) {
            const p = plan[step % plan.length]!;
            let batch = stream.slice(from, from + p.size);
            if (p.dies) {
              // The attempt writes the store, then dies before its commit; the retry is bisected.
              write(decideDuplicates(batch, store, RET, committed).remember);
              batch = batch.slice(0, 1 + (p.keep % batch.length));
            }
            const r = decideDuplicates(batch, store, RET, committed);
            write(r.remember);
            answers.push(...r.duplicates);
            committed = batch[batch.length - 1]!.offset;
            from += batch.length;
          }
          expect(answers).toEqual(naive(stream));
          // Committed history is pruned when an id is written: of the occurrences committed by
          // then, only the last one is kept.
          for (const [id, list] of store) {
            const at = writtenAt.get(id) ?? null;
            if (at !== null) expect(list.filter((o) => o.offset <= at).length).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('asks nothing to be written again when a batch is asked again after its commit', () => {
    const batch = [
      { id: 'a', ts: 0, offset: 0 },
      { id: 'a', ts: 5, offset: 1 },
      { id: 'b', ts: 6, offset: 2 },
    ];
    const first = decideDuplicates(batch, new Map(), RET, null);
    expect(first.duplicates).toEqual([false, true, false]);
    const again = decideDuplicates(batch, first.remember, RET, 2);
    expect(again.duplicates).toEqual(first.duplicates);
    expect(again.remember.size).toBe(0);
  });
});
