/**
 * The window engine against a deliberately naive reference model on random streams (out of
 * order, several partitions, late events), and cut/serialize/restore equivalence.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Domain, Row, SilverEvent, WindowSpec } from '../../../functions/core/index.ts';
import { WindowEngine } from '../../../functions/core/index.ts';
import { roundTrip, sortRows, testDomain, windowStream } from './helpers.ts';

const domain = testDomain();
const OOO = domain.maxOutOfOrdernessMs;
const T0 = 1_793_606_400_000;

const streamArb = windowStream(2, T0);

interface Accepted {
  readonly e: SilverEvent;
  readonly measure: number | null;
}

/** Straight from SPEC §3, recomputing everything from the prefix at every arrival. */
function naive(
  d: Domain,
  events: readonly SilverEvent[],
): { rows: Record<string, Row[]>; late: Array<[string, string, number, number]> } {
  const pid = (e: SilverEvent) => `${e.topic}-${e.partition}`;
  const late: Array<[string, string, number, number]> = [];
  const accepted = new Map<string, Accepted[]>(d.windows.map((w) => [w.name, []]));
  // Partition watermarks, replayed from scratch for every event.
  const watermarks = (prefix: readonly SilverEvent[]): Map<string, number> => {
    const wm = new Map<string, number>();
    for (const e of prefix) {
      const known = wm.get(pid(e));
      const min = wm.size === 0 ? Number.NEGATIVE_INFINITY : Math.min(...wm.values());
      wm.set(pid(e), Math.max(known ?? min, e.ts - OOO));
    }
    return wm;
  };
  const sessionsOf = (
    w: WindowSpec,
    list: readonly Accepted[],
  ): Array<{ start: number; last: number; members: Accepted[] }> => {
    const sorted = [...list].sort((a, b) => a.e.ts - b.e.ts);
    const out: Array<{ start: number; last: number; members: Accepted[] }> = [];
    for (const a of sorted) {
      const cur = out[out.length - 1];
      if (cur && a.e.ts - cur.last < w.gapMs) {
        cur.last = a.e.ts;
        cur.members.push(a);
      } else out.push({ start: a.e.ts, last: a.e.ts, members: [a] });
    }
    return out;
  };
  events.forEach((e, i) => {
    const wms = watermarks(events.slice(0, i));
    const min = wms.size === 0 ? Number.NEGATIVE_INFINITY : Math.min(...wms.values());
    const wm = wms.get(pid(e)) ?? min;
    for (const w of d.windows) {
      const group = e.row[w.groupBy];
      if (group === null || group === undefined) continue;
      const measure = typeof e.row['x'] === 'number' ? (e.row['x'] as number) : null;
      const list = accepted.get(w.name)!;
      if (w.type === 'session') {
        if (e.ts + w.gapMs <= wm) {
          late.push([w.name, e.id, e.ts, e.ts + w.gapMs]);
          continue;
        }
        const mine = list.filter((a) => a.e.row[w.groupBy] === group);
        const touchedFinal = sessionsOf(w, mine).filter(
          (s) => s.start - w.gapMs < e.ts && e.ts < s.last + w.gapMs && s.last + w.gapMs <= min,
        );
        if (touchedFinal.length > 0) {
          late.push([w.name, e.id, touchedFinal[0]!.start, touchedFinal[0]!.last + w.gapMs]);
          continue;
        }
        list.push({ e, measure });
      } else {
        for (
          let start = Math.floor(e.ts / w.slideMs) * w.slideMs;
          start + w.sizeMs > e.ts;
          start -= w.slideMs
        ) {
          if (start + w.sizeMs <= wm) late.push([w.name, e.id, start, start + w.sizeMs]);
          else list.push({ e: { ...e, offset: start }, measure });
        }
      }
    }
  });
  const rows: Record<string, Row[]> = {};
  for (const w of d.windows) {
    const list = accepted.get(w.name)!;
    const aggregate = (members: readonly Accepted[]): Row => {
      const ms = members.map((m) => m.measure).filter((m): m is number => m !== null);
      const sum = ms.reduce((a, b) => a + b, 0);
      const row: Row = {};
      for (const a of w.aggregates) {
        if (a === 'count') row['event_count'] = members.length;
        else if (a === 'sum') row['x_sum'] = ms.length ? sum : null;
        else if (a === 'min') row['x_min'] = ms.length ? Math.min(...ms) : null;
        else if (a === 'max') row['x_max'] = ms.length ? Math.max(...ms) : null;
        else row['x_avg'] = ms.length ? sum / ms.length : null;
      }
      return row;
    };
    const out: Row[] = [];
    const groups = [...new Set(list.map((a) => String(a.e.row[w.groupBy])))];
    for (const g of groups) {
      const mine = list.filter((a) => String(a.e.row[w.groupBy]) === g);
      if (w.type === 'session') {
        for (const s of sessionsOf(w, mine))
          out.push({ session_start: s.start, session_end: s.last, [w.groupBy]: g, ...aggregate(s.members) });
      } else {
        for (const start of [...new Set(mine.map((a) => a.e.offset))]) {
          out.push({
            window_start: start,
            window_end: start + w.sizeMs,
            [w.groupBy]: g,
            ...aggregate(mine.filter((a) => a.e.offset === start)),
          });
        }
      }
    }
    rows[w.name] = out;
  }
  return { rows, late };
}

/**
 * Runs the engine over `events`, taking final windows after the given indexes and, when
 * `restore`, continuing from a JSON round trip of the state (a new invocation).
 */
function run(events: readonly SilverEvent[], cuts: readonly number[] = [], restore = true) {
  const rows: Record<string, Row[]> = Object.fromEntries(domain.windows.map((w) => [w.name, []]));
  const late: Row[] = [];
  const take = (out: { rows: Record<string, Row[]>; late: Row[] }) => {
    for (const [k, v] of Object.entries(out.rows)) rows[k]!.push(...v);
    late.push(...out.late);
  };
  let engine = new WindowEngine(domain);
  events.forEach((e, i) => {
    engine.add(e);
    if (cuts.includes(i)) {
      take(engine.collect());
      if (restore) engine = new WindowEngine(domain, roundTrip(engine.snapshot()));
    }
  });
  take(engine.flush());
  return { rows, late };
}

const lateKeys = (late: readonly Row[]) =>
  late
    .map(
      (r) =>
        [r['window_name'], r['id'], r['window_start'], r['window_end']] as [string, string, number, number],
    )
    .sort();

describe('window engine properties', () => {
  for (const w of domain.windows) {
    it(`${w.type} windows agree with the naive reference model on random out-of-order streams`, () => {
      fc.assert(
        fc.property(streamArb, fc.boolean(), (events, collectEveryEvent) => {
          const expected = naive(domain, events);
          // Emitting final windows after every event exercises the emitted-session bookkeeping.
          const actual = run(events, collectEveryEvent ? events.map((_, i) => i) : [], false);
          expect(sortRows(actual.rows[w.name]!)).toEqual(sortRows(expected.rows[w.name]!));
          expect(lateKeys(actual.late).filter((k) => k[0] === w.name)).toEqual(
            expected.late.filter((k) => k[0] === w.name).sort(),
          );
        }),
        { numRuns: 200 },
      );
    });
  }

  it('gives the result of one uncut run when the stream is cut anywhere and the state JSON-restored', () => {
    fc.assert(
      fc.property(
        streamArb.chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.uniqueArray(fc.integer({ min: 0, max: events.length - 1 }), { maxLength: 6 }),
          ),
        ),
        ([events, cuts]) => {
          const uncut = run(events);
          const cut = run(events, cuts);
          for (const w of domain.windows)
            expect(sortRows(cut.rows[w.name]!)).toEqual(sortRows(uncut.rows[w.name]!));
          expect(sortRows(cut.late)).toEqual(sortRows(uncut.late));
        },
      ),
      { numRuns: 150 },
    );
  });
});
