import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextVersion, stateAsOf, type Versioned } from '../../../functions/core/index.ts';

describe('versioned per-key state (written before the fenced commit)', () => {
  it('reads the last committed state whatever dead attempts wrote in between', () => {
    fc.assert(
      fc.property(
        // Per batch: does the attempt die after writing the key (before its commit)? How many times?
        fc.array(fc.record({ deaths: fc.nat({ max: 3 }), touches: fc.boolean() }), { maxLength: 30 }),
        (batches) => {
          let item: Versioned<number> | undefined;
          let committed: number | null = null;
          let truth: number | null = null; // the key's state as of the last commit
          let offset = 0;
          for (const b of batches) {
            const last = offset + 9;
            for (let d = 0; d < b.deaths; d++) {
              // A dead attempt computes from the committed state and writes, then dies.
              expect(stateAsOf(item, committed)).toBe(truth);
              if (b.touches)
                item = nextVersion(item, 1000 + d + (stateAsOf(item, committed) ?? 0), last, committed);
            }
            const base = stateAsOf(item, committed);
            expect(base).toBe(truth);
            if (b.touches) {
              const next = (base ?? 0) + 1;
              item = nextVersion(item, next, last, committed);
              truth = next;
            }
            committed = last;
            offset = last + 1;
          }
          expect(stateAsOf(item, committed)).toBe(truth);
        },
      ),
      { numRuns: 500 },
    );
  });
});
