/**
 * Test helpers for the core: the recorded Lambda Kafka fixtures behind a typed loader, a small
 * domain with short windows for engine tests, and a factory for silver events.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  type Domain,
  type LambdaKafkaEvent,
  parseDomainObject,
  type Row,
  type SilverEvent,
} from '../../../functions/core/index.ts';

export type KafkaFixture = 'msk-payments' | 'self-managed-payments';

/** Loads a recorded Lambda Kafka event from `test/fixtures/events/<name>.json`. */
export function loadKafkaFixture(name: KafkaFixture): LambdaKafkaEvent {
  const url = new URL(`../../fixtures/events/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as LambdaKafkaEvent;
}

/** The raw config of the engine test domain; tests override pieces of it. */
export function testDomainConfig(): Record<string, unknown> {
  return {
    name: 'unit',
    key_field: 'user',
    dedup_field: 'id',
    event_time_field: 'ts',
    event_type_field: 'type',
    event_types: ['tx', 'view'],
    max_out_of_orderness: '3s',
    fields: {
      id: { type: 'string', required: true },
      type: { type: 'string', required: true },
      user: { type: 'string', required: true },
      ts: { type: 'timestamp', required: true },
      g: { type: 'string' },
      x: { type: 'number' },
      merchant: { type: 'string' },
      lat: { type: 'number', pair: 'lon' },
      lon: { type: 'number' },
    },
    windows: [
      {
        name: 'tumbling_10s',
        type: 'tumbling',
        size: '10s',
        group_by: 'g',
        measure: 'x',
        aggregates: ['count', 'sum', 'min', 'max', 'avg'],
      },
      {
        name: 'sliding_10s',
        type: 'sliding',
        size: '10s',
        slide: '5s',
        group_by: 'g',
        measure: 'x',
        aggregates: ['count', 'sum'],
      },
      {
        name: 'sessions',
        type: 'session',
        gap: '8s',
        group_by: 'user',
        measure: 'x',
        aggregates: ['count', 'sum', 'min', 'max'],
      },
    ],
    cep: {
      transaction_type: 'tx',
      amount_field: 'x',
      merchant_field: 'merchant',
      location: { lat: 'lat', lon: 'lon' },
      state_ttl_margin: '1m',
      patterns: {
        velocity_spike: { more_than: 4, window: '60s' },
        amount_anomaly: { min_history: 3, sigma: 1.5, high_sigma: 3 },
        impossible_travel: { min_distance_km: 100, min_speed_kmh: 900 },
        rapid_fire_burst: { at_least: 3, window: '5s' },
        merchant_diversity: { at_least: 3, window: '60s' },
      },
    },
  };
}

/** The engine test domain (windows 10 s, sessions gap 8 s, out-of-orderness 3 s, small CEP thresholds). */
export function testDomain(patch: (config: Record<string, unknown>) => void = () => {}): Domain {
  const config = testDomainConfig();
  patch(config);
  return parseDomainObject(config, 'unit.yaml');
}

export interface EventInit {
  ts: number;
  user?: string;
  type?: string;
  g?: string | null;
  x?: number | null;
  merchant?: string | null;
  lat?: number | null;
  lon?: number | null;
  partition?: number;
  id?: string;
}

let counter = 0;

/** A silver event of the test domain; ids are unique unless given. */
export function ev(init: EventInit): SilverEvent {
  const id = init.id ?? `e${++counter}`;
  const row: Row = {
    id,
    type: init.type ?? 'tx',
    user: init.user ?? 'u1',
    ts: init.ts,
    g: init.g === undefined ? 'a' : init.g,
    x: init.x === undefined ? 1 : init.x,
    merchant: init.merchant ?? null,
    lat: init.lat ?? null,
    lon: init.lon ?? null,
  };
  return {
    row,
    ts: init.ts,
    key: String(row['user']),
    id,
    type: String(row['type']),
    topic: 't',
    partition: init.partition ?? 0,
    offset: counter,
  };
}

/** JSON round trip, as an adapter persisting state would do. */
export function roundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Sorts rows by their JSON text for order-insensitive comparison. */
export function sortRows(rows: readonly Row[]): Row[] {
  return [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

/**
 * Random stream for window engine properties: drifting arrival clock, event time jittered
 * backwards (sometimes far: late), over `partitions` partitions and two users. Whole seconds, so
 * that window ends, watermarks and gaps often coincide exactly (the edges).
 */
export function windowStream(partitions: number, t0 = 1_793_606_400_000): fc.Arbitrary<SilverEvent[]> {
  return fc
    .array(
      fc.record({
        advance: fc.integer({ min: 0, max: 4 }).map((s) => s * 1_000),
        lag: fc
          .oneof(
            { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }) },
          )
          .map((s) => s * 1_000),
        partition: fc.integer({ min: 0, max: partitions - 1 }),
        user: fc.constantFrom('u1', 'u2'),
        g: fc.constantFrom('a', 'b', null),
        x: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(null)),
      }),
      { minLength: 1, maxLength: 80 },
    )
    .map((steps) => {
      let clock = t0;
      return steps.map((s) => {
        clock += s.advance;
        return ev({ ts: clock - s.lag, partition: s.partition, user: s.user, g: s.g, x: s.x });
      });
    });
}
