import { describe, expect, it } from 'vitest';
import {
  CepEngine,
  type CepKeyState,
  cepConfig,
  copyCepKeyState,
  haversineKm,
  loadDomain,
  type Row,
} from '../../../functions/core/index.ts';
import { ev, roundTrip, testDomain } from './helpers.ts';

// Test domain thresholds: velocity > 4 in 60 s, burst >= 3 in 5 s, diversity >= 3 merchants in 60 s,
// amount: >= 3 earlier, > mean + 1.5 sigma (HIGH beyond 3 sigma), travel > 100 km at > 900 km/h.
const domain = testDomain();
const S = 1_000;
const T0 = 1_793_606_400_000;

const patterns = (alerts: readonly Row[]) => alerts.map((a) => a['pattern']);

function feed(engine: CepEngine, events: ReturnType<typeof ev>[]): Row[] {
  return events.flatMap((e) => engine.process(e));
}

describe('velocity_spike', () => {
  it('fires on the transaction that makes the count exceed the threshold, once', () => {
    // Prepare
    const engine = new CepEngine(domain);
    const txs = [0, 10, 20, 30, 40, 50].map((t, i) => ev({ ts: T0 + t * S, id: `v${i}` }));
    // Act
    const alerts = feed(engine, txs).filter((a) => a['pattern'] === 'velocity_spike');
    // Assess
    expect(alerts.map((a) => [a['alert_id'], a['severity']])).toEqual([['velocity_spike:v4', 'HIGH']]);
  });

  it('stays quiet while the condition holds and fires again after it was false', () => {
    // Prepare
    const engine = new CepEngine(domain);
    feed(
      engine,
      [0, 10, 20, 30, 40].map((t) => ev({ ts: T0 + t * S })),
    );
    // Act
    const stillTrue = feed(engine, [ev({ ts: T0 + 45 * S })]);
    const nowFalse = feed(engine, [ev({ ts: T0 + 200 * S })]);
    const again = feed(
      engine,
      [210, 220, 230, 240].map((t, i) => ev({ ts: T0 + t * S, id: `w${i}` })),
    );
    // Assess
    expect(patterns(stillTrue)).not.toContain('velocity_spike');
    expect(patterns(nowFalse)).not.toContain('velocity_spike');
    expect(again.filter((a) => a['pattern'] === 'velocity_spike').map((a) => a['alert_id'])).toEqual([
      'velocity_spike:w3',
    ]);
  });
});

describe('out-of-order transactions', () => {
  it('are counted against every transaction within one window before their own time', () => {
    // Prepare
    const engine = new CepEngine(domain);
    feed(
      engine,
      [0, 10, 20, 30, 62].map((t) => ev({ ts: T0 + t * S })),
    );
    // Act: 3 s behind the newest (= max_out_of_orderness); (t - 60 s, t] still reaches back to 0 s
    const alerts = feed(engine, [ev({ ts: T0 + 59 * S, id: 'behind' })]);
    // Assess
    expect(alerts.map((a) => a['alert_id'])).toContain('velocity_spike:behind');
  });
});

describe('rapid_fire_burst', () => {
  it('fires when at least 3 transactions fall within 5 s', () => {
    // Prepare
    const engine = new CepEngine(domain);
    // Act
    const alerts = feed(
      engine,
      [0, 2, 4].map((t, i) => ev({ ts: T0 + t * S, id: `b${i}` })),
    );
    // Assess
    expect(alerts.filter((a) => a['pattern'] === 'rapid_fire_burst').map((a) => a['alert_id'])).toEqual([
      'rapid_fire_burst:b2',
    ]);
  });

  it('does not count a transaction exactly one window old (range is (t - W, t])', () => {
    // Prepare
    const engine = new CepEngine(domain);
    // Act
    const alerts = feed(
      engine,
      [0, 3, 5].map((t) => ev({ ts: T0 + t * S })),
    );
    // Assess
    expect(patterns(alerts)).not.toContain('rapid_fire_burst');
  });

  it('ignores events that are not transactions', () => {
    // Prepare
    const engine = new CepEngine(domain);
    // Act
    const alerts = feed(
      engine,
      [0, 1, 2].map((t) => ev({ ts: T0 + t * S, type: 'view' })),
    );
    // Assess
    expect(alerts).toEqual([]);
  });
});

describe('merchant_diversity', () => {
  it('fires at the third distinct merchant within 60 s', () => {
    // Prepare
    const engine = new CepEngine(domain);
    const txs = ['m1', 'm1', 'm2', 'm3'].map((m, i) => ev({ ts: T0 + i * 10 * S, merchant: m, id: `d${i}` }));
    // Act
    const alerts = feed(engine, txs).filter((a) => a['pattern'] === 'merchant_diversity');
    // Assess
    expect(
      alerts.map((a) => [
        a['alert_id'],
        a['severity'],
        JSON.parse(String(a['details']))['distinct_merchants'],
      ]),
    ).toEqual([['merchant_diversity:d3', 'MEDIUM', 3]]);
  });
});

describe('amount_anomaly', () => {
  it('fires MEDIUM above mean + 1.5 sigma of the earlier amounts', () => {
    // Prepare
    const engine = new CepEngine(domain);
    feed(
      engine,
      [10, 12, 10, 12].map((x, i) => ev({ ts: T0 + i * 20 * S, x })),
    );
    // Act: mean 11, sigma 1.1547 -> threshold 12.73, HIGH beyond 14.46
    const alerts = feed(engine, [ev({ ts: T0 + 100 * S, x: 13, id: 'a1' })]);
    // Assess
    expect(alerts.map((a) => [a['alert_id'], a['severity']])).toEqual([['amount_anomaly:a1', 'MEDIUM']]);
  });

  it('fires HIGH beyond mean + high_sigma', () => {
    // Prepare
    const engine = new CepEngine(domain);
    feed(
      engine,
      [10, 12, 10, 12].map((x, i) => ev({ ts: T0 + i * 20 * S, x })),
    );
    // Act
    const alerts = feed(engine, [ev({ ts: T0 + 100 * S, x: 100 })]);
    // Assess
    expect(alerts.map((a) => a['severity'])).toEqual(['HIGH']);
  });

  it('needs enough history and a positive standard deviation', () => {
    // Prepare
    const engine = new CepEngine(domain);
    const few = new CepEngine(domain);
    feed(
      engine,
      [10, 10, 10].map((x, i) => ev({ ts: T0 + i * 20 * S, x })),
    );
    feed(
      few,
      [10, 12].map((x, i) => ev({ ts: T0 + i * 20 * S, x })),
    );
    // Act
    const flat = feed(engine, [ev({ ts: T0 + 100 * S, x: 1000 })]);
    const short = feed(few, [ev({ ts: T0 + 100 * S, x: 1000 })]);
    // Assess
    expect(patterns(flat)).not.toContain('amount_anomaly');
    expect(patterns(short)).not.toContain('amount_anomaly');
  });

  it('lets the anomalous amount join the statistics (Welford)', () => {
    // Prepare
    const engine = new CepEngine(domain);
    const amounts = [10, 12, 10, 12, 100];
    // Act
    feed(
      engine,
      amounts.map((x, i) => ev({ ts: T0 + i * 20 * S, x })),
    );
    const s = engine.keyState('u1');
    // Assess
    const mean = amounts.reduce((a, b) => a + b) / amounts.length;
    expect(s?.n).toBe(5);
    expect(s?.mean).toBeCloseTo(mean, 9);
    expect(s?.m2).toBeCloseTo(
      amounts.reduce((a, x) => a + (x - mean) ** 2, 0),
      9,
    );
  });
});

describe('impossible_travel', () => {
  it('fires CRITICAL for two consecutive located events too far apart too fast', () => {
    // Prepare
    const engine = new CepEngine(domain);
    engine.process(ev({ ts: T0, type: 'view', lat: 52.52, lon: 13.405 }));
    // Act: Berlin -> Paris (~878 km) in 10 minutes
    const alerts = engine.process(
      ev({ ts: T0 + 600 * S, type: 'view', lat: 48.857, lon: 2.352, id: 'paris' }),
    );
    // Assess
    expect(alerts.map((a) => [a['alert_id'], a['severity']])).toEqual([
      ['impossible_travel:paris', 'CRITICAL'],
    ]);
    expect(JSON.parse(String(alerts[0]?.['details']))['distance_km']).toBeCloseTo(
      haversineKm(52.52, 13.405, 48.857, 2.352),
      2,
    );
  });

  it('stays quiet for a plausible flight', () => {
    // Prepare
    const engine = new CepEngine(domain);
    engine.process(ev({ ts: T0, lat: 52.52, lon: 13.405 }));
    // Act: 878 km in 2 hours
    const alerts = engine.process(ev({ ts: T0 + 7_200 * S, lat: 48.857, lon: 2.352 }));
    // Assess
    expect(patterns(alerts)).not.toContain('impossible_travel');
  });

  it('counts equal timestamps as infinite speed', () => {
    // Prepare
    const engine = new CepEngine(domain);
    engine.process(ev({ ts: T0, type: 'view', lat: 0, lon: 0 }));
    // Act
    const alerts = engine.process(ev({ ts: T0, type: 'view', lat: 0, lon: 2 }));
    // Assess
    expect(alerts.map((a) => JSON.parse(String(a['details']))['speed_kmh'])).toEqual([null]);
  });

  it('ignores short hops however fast', () => {
    // Prepare
    const engine = new CepEngine(domain);
    engine.process(ev({ ts: T0, type: 'view', lat: 0, lon: 0 }));
    // Act: ~55 km in one second
    const alerts = engine.process(ev({ ts: T0 + S, type: 'view', lat: 0, lon: 0.5 }));
    // Assess
    expect(alerts).toEqual([]);
  });

  it('uses the haversine distance with R = 6371.0088 km', () => {
    expect(haversineKm(0, 0, 0, 1)).toBeCloseTo((6371.0088 * Math.PI) / 180, 9);
  });
});

describe('per-key state', () => {
  it('keeps only transactions the count windows can still need', () => {
    // Prepare
    const engine = new CepEngine(domain);
    // Act: one transaction every 30 s for an hour
    feed(
      engine,
      Array.from({ length: 120 }, (_, i) => ev({ ts: T0 + i * 30 * S })),
    );
    // Assess: horizon 60 s + out-of-orderness 3 s
    expect(engine.keyState('u1')?.tx.length).toBeLessThanOrEqual(3);
  });

  it('expires after the newest event time plus the longest window plus the margin', () => {
    // Prepare
    const engine = new CepEngine(domain);
    // Act
    engine.process(ev({ ts: T0 }));
    engine.process(ev({ ts: T0 - 5 * S }));
    // Assess: 60 s window + 1 m margin
    expect(engine.keyState('u1')?.expiresAt).toBe(T0 + 120 * S);
    expect(engine.evictExpired(T0 + 120 * S)).toBe(1);
  });

  it('is plain JSON that restores to the same behaviour', () => {
    // Prepare
    const engine = new CepEngine(domain);
    feed(
      engine,
      [0, 1].map((t) => ev({ ts: T0 + t * S })),
    );
    // Act
    const restored = new CepEngine(domain, roundTrip(engine.snapshot()));
    const alerts = restored.process(ev({ ts: T0 + 2 * S, id: 'r' }));
    // Assess
    expect(alerts.map((a) => a['alert_id'])).toEqual(['rapid_fire_burst:r']);
  });

  it('uses the payments thresholds of SPEC §4', () => {
    // Act
    const cfg = cepConfig(loadDomain('payments'));
    // Assess
    expect(cfg?.spec.patterns).toEqual({
      velocitySpike: { moreThan: 20, windowMs: 3_600_000 },
      amountAnomaly: { minHistory: 10, sigma: 3, highSigma: 5 },
      impossibleTravel: { minDistanceKm: 100, minSpeedKmh: 900 },
      rapidFireBurst: { atLeast: 5, windowMs: 10_000 },
      merchantDiversity: { atLeast: 8, windowMs: 3_600_000 },
    });
  });
});

describe('copyCepKeyState', () => {
  it('copies every field deeply: equal to a structured clone, sharing no array', () => {
    // Prepare
    const s: CepKeyState = {
      tx: [1, 2, 3],
      m: ['m-1', null, 'm-2'],
      maxTxTs: 3,
      n: 2,
      mean: 10.5,
      m2: 0.5,
      loc: [3, 48.8, 2.3, 'e-3'],
      fired: 5,
      maxTs: 4,
      expiresAt: 99,
    };
    // Act
    const copy = copyCepKeyState(s);
    // Assess
    expect(copy).toStrictEqual(structuredClone(s));
    expect(copy.tx).not.toBe(s.tx);
    expect(copy.m).not.toBe(s.m);
    expect(copy.loc).not.toBe(s.loc);
    expect(copyCepKeyState({ ...s, loc: null }).loc).toBeNull();
  });
});
