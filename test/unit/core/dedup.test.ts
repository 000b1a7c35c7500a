import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deduplicator } from '../../../functions/core/index.ts';
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
