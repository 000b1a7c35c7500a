/**
 * The CEP engine against a deliberately naive reference (every earlier transaction kept, counts
 * and statistics recomputed from scratch) on random streams whose disorder stays within
 * max_out_of_orderness, and cut/serialize/restore equivalence.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CepEngine,
  type CepPattern,
  haversineKm,
  type Row,
  type SilverEvent,
} from '../../../functions/core/index.ts';
import { ev, roundTrip, testDomain } from './helpers.ts';

const domain = testDomain();
const P = domain.cep!.patterns;
const T0 = 1_793_606_400_000;
const CITIES: ReadonlyArray<[number, number]> = [
  [52.52, 13.405],
  [48.857, 2.352],
  [52.4, 13.1],
  [40.71, -74.0],
];

const streamArb = fc
  .array(
    fc.record({
      advance: fc.integer({ min: 0, max: 4 }).map((s) => s * 1_000),
      lag: fc.integer({ min: 0, max: domain.maxOutOfOrdernessMs / 1_000 }).map((s) => s * 1_000),
      user: fc.constantFrom('u1', 'u2'),
      type: fc.constantFrom('tx', 'tx', 'tx', 'view'),
      merchant: fc.constantFrom('m1', 'm2', 'm3', 'm4', null),
      x: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(10, 11, 12, 13) },
        { weight: 1, arbitrary: fc.constantFrom(50, 400, null) },
      ),
      city: fc.oneof(
        { weight: 2, arbitrary: fc.constant(-1) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) },
      ),
    }),
    { minLength: 1, maxLength: 80 },
  )
  .map((steps) => {
    // Event time never more than max_out_of_orderness behind the newest one: counts are exact.
    let clock = T0;
    return steps.map((s) => {
      clock += s.advance;
      const loc = s.city >= 0 ? CITIES[s.city]! : null;
      return ev({
        ts: clock - s.lag,
        user: s.user,
        type: s.type,
        merchant: s.merchant,
        x: s.x,
        lat: loc?.[0] ?? null,
        lon: loc?.[1] ?? null,
      });
    });
  });

/** SPEC §4 read literally. */
function naive(events: readonly SilverEvent[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const history = new Map<string, SilverEvent[]>();
  const armed = new Map<string, boolean>();
  const crossing = (key: string, pattern: CepPattern, cond: boolean, e: SilverEvent, severity: string) => {
    const k = `${key}/${pattern}`;
    if (cond && armed.get(k) !== false) {
      out.push([`${pattern}:${e.id}`, severity]);
      armed.set(k, false);
    } else if (!cond) armed.set(k, true);
  };
  for (const e of events) {
    const before = history.get(e.key) ?? [];
    const located = before.filter((p) => typeof p.row['lat'] === 'number');
    if (typeof e.row['lat'] === 'number' && located.length > 0) {
      const prev = located[located.length - 1]!;
      const km = haversineKm(
        prev.row['lat'] as number,
        prev.row['lon'] as number,
        e.row['lat'] as number,
        e.row['lon'] as number,
      );
      const hours = Math.abs(e.ts - prev.ts) / 3_600_000;
      const speed = hours === 0 ? Number.POSITIVE_INFINITY : km / hours;
      if (km > P.impossibleTravel!.minDistanceKm && speed > P.impossibleTravel!.minSpeedKmh)
        out.push([`impossible_travel:${e.id}`, 'CRITICAL']);
    }
    if (e.type === 'tx') {
      const txs = [...before.filter((p) => p.type === 'tx'), e];
      const inRange = (w: number) => txs.filter((p) => p.ts > e.ts - w && p.ts <= e.ts);
      crossing(
        e.key,
        'velocity_spike',
        inRange(P.velocitySpike!.windowMs).length > P.velocitySpike!.moreThan,
        e,
        'HIGH',
      );
      crossing(
        e.key,
        'rapid_fire_burst',
        inRange(P.rapidFireBurst!.windowMs).length >= P.rapidFireBurst!.atLeast,
        e,
        'HIGH',
      );
      const merchants = new Set(
        inRange(P.merchantDiversity!.windowMs)
          .map((p) => p.row['merchant'])
          .filter((m) => m !== null),
      );
      crossing(e.key, 'merchant_diversity', merchants.size >= P.merchantDiversity!.atLeast, e, 'MEDIUM');
      const amount = e.row['x'];
      if (typeof amount === 'number') {
        const earlier = txs
          .slice(0, -1)
          .map((p) => p.row['x'])
          .filter((x): x is number => typeof x === 'number');
        if (earlier.length >= P.amountAnomaly!.minHistory) {
          const mean = earlier.reduce((a, b) => a + b, 0) / earlier.length;
          const sd = Math.sqrt(earlier.reduce((a, b) => a + (b - mean) ** 2, 0) / (earlier.length - 1));
          if (sd > 0 && amount > mean + P.amountAnomaly!.sigma * sd) {
            out.push([
              `amount_anomaly:${e.id}`,
              amount > mean + P.amountAnomaly!.highSigma * sd ? 'HIGH' : 'MEDIUM',
            ]);
          }
        }
      }
    }
    history.set(e.key, [...before, e]);
  }
  return out.sort();
}

function run(events: readonly SilverEvent[], cuts: readonly number[] = []): Array<[string, string]> {
  const alerts: Row[] = [];
  let engine = new CepEngine(domain);
  events.forEach((e, i) => {
    alerts.push(...engine.process(e));
    if (cuts.includes(i)) engine = new CepEngine(domain, roundTrip(engine.snapshot()));
  });
  return alerts.map((a): [string, string] => [String(a['alert_id']), String(a['severity'])]).sort();
}

describe('CEP engine properties', () => {
  for (const pattern of [
    'velocity_spike',
    'amount_anomaly',
    'impossible_travel',
    'rapid_fire_burst',
    'merchant_diversity',
  ]) {
    it(`${pattern} agrees with the naive reference model on random out-of-order streams`, () => {
      fc.assert(
        fc.property(streamArb, (events) => {
          const only = (xs: Array<[string, string]>) => xs.filter(([id]) => id.startsWith(`${pattern}:`));
          expect(only(run(events))).toEqual(only(naive(events)));
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
          expect(run(events, cuts)).toEqual(run(events));
        },
      ),
      { numRuns: 150 },
    );
  });
});
