/**
 * Partition-parallel fixed windows (the windows consumer's design, SPEC §3/§4 "State"): one engine
 * per partition, knowing only its own partition, gives each window's partial aggregates once its
 * own watermark passed the window; merged (`fixedRows`), they are the rows one engine of every
 * partition gives, and the late events are the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Aggregate, Domain, Row, SilverEvent } from '../../../functions/core/index.ts';
import { WindowEngine } from '../../../functions/core/index.ts';
import { sortRows, testDomain, windowStream } from './helpers.ts';

const all = testDomain();
const fixed: Domain = { ...all, windows: all.windows.filter((w) => w.type !== 'session') };
const T0 = 1_793_606_400_000;
const NOT_YET = -8_640_000_000_000_000;

const streamArb = windowStream(3, T0);

/** Rows with sums and averages rounded: partial sums merged add in another order. */
function rounded(rows: readonly Row[]): Row[] {
  return sortRows(
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [
          k,
          typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v,
        ]),
      ),
    ),
  );
}

describe('fixed windows computed per partition and merged', () => {
  it('give the rows and late events of one engine of every partition, cut into batches anywhere', () => {
    fc.assert(
      fc.property(
        streamArb,
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 10 }),
        (events, cuts) => {
          // Reference: one engine, every partition registered before any event.
          const pids = [0, 1, 2].map((p) => `${events[0]!.topic}-${p}`);
          const one = new WindowEngine(fixed, {
            version: 1,
            partitions: Object.fromEntries(pids.map((p) => [p, NOT_YET])),
            fixed: {},
            sessions: {},
          });
          for (const e of events) one.add(e);
          const reference = one.flush();
          // Per partition, in batches (collect after each), then the end of the run.
          const partials = new Map<string, Array<readonly [string, Aggregate]>>();
          const late: Row[] = [];
          for (const p of [0, 1, 2]) {
            const own: SilverEvent[] = events.filter((e) => e.partition === p);
            const engine = new WindowEngine(fixed);
            let i = 0;
            let c = 0;
            const take = (out: ReturnType<WindowEngine['collectPartials']>) => {
              late.push(...out.late);
              for (const [w, list] of Object.entries(out.partials))
                for (const [start, g, agg] of list) {
                  const k = `${w}|${start}`;
                  partials.set(k, [...(partials.get(k) ?? []), [g, agg]]);
                }
            };
            while (i < own.length) {
              const n = cuts[c++ % cuts.length]!;
              for (const e of own.slice(i, i + n)) engine.add(e);
              i += n;
              take(engine.collectPartials());
            }
            take(engine.flushPartials());
          }
          const merger = new WindowEngine(fixed);
          const merged: Record<string, Row[]> = {};
          for (const [k, parts] of partials) {
            const [w, start] = k.split('|');
            merged[w!] = [...(merged[w!] ?? []), ...merger.fixedRows(w!, Number(start), parts)];
          }
          for (const w of fixed.windows)
            expect({ w: w.name, rows: rounded(merged[w.name] ?? []) }).toEqual({
              w: w.name,
              rows: rounded(reference.rows[w.name] ?? []),
            });
          expect(sortRows(late)).toEqual(sortRows(reference.late));
        },
      ),
      { numRuns: 200 },
    );
  });
});
