import { describe, expect, it } from 'vitest';
import { mergeWindowStates, type Row, WindowEngine } from '../../../functions/core/index.ts';
import { ev, roundTrip, sortRows, testDomain } from './helpers.ts';

const domain = testDomain();
const S = 1_000;
const T0 = 1_793_606_400_000; // aligned to 10 s

function only(domainRows: Record<string, Row[]>, name: string): Row[] {
  return domainRows[name] ?? [];
}

describe('tumbling windows', () => {
  it('aggregates count, sum, min, max and avg per group in epoch-aligned windows', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    // Act
    for (const [ts, x] of [
      [T0 + 1 * S, 4],
      [T0 + 2 * S, 10],
      [T0 + 9 * S, 1],
    ] as const) {
      engine.add(ev({ ts, x }));
    }
    const out = engine.flush();
    // Assess
    expect(only(out.rows, 'tumbling_10s')).toEqual([
      {
        window_start: T0,
        window_end: T0 + 10 * S,
        g: 'a',
        event_count: 3,
        x_sum: 15,
        x_min: 1,
        x_max: 10,
        x_avg: 5,
      },
    ]);
  });

  it('counts events without a measure but leaves the measure columns null', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    // Act
    engine.add(ev({ ts: T0, x: null, type: 'view' }));
    const [row] = only(engine.flush().rows, 'tumbling_10s');
    // Assess
    expect(row).toMatchObject({ event_count: 1, x_sum: null, x_min: null, x_max: null, x_avg: null });
  });

  it('skips events whose group-by value is null', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    // Act
    engine.add(ev({ ts: T0, g: null }));
    // Assess
    expect(only(engine.flush().rows, 'tumbling_10s')).toEqual([]);
  });

  it('puts an event exactly at a window end into the next window', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    // Act
    engine.add(ev({ ts: T0 + 10 * S }));
    // Assess
    expect(only(engine.flush().rows, 'tumbling_10s').map((r) => r['window_start'])).toEqual([T0 + 10 * S]);
  });
});

describe('sliding windows', () => {
  it('counts an event in every window of size/slide windows that contains it', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    // Act
    engine.add(ev({ ts: T0 + 7 * S, x: 2 }));
    // Assess
    expect(only(engine.flush().rows, 'sliding_10s')).toEqual([
      { window_start: T0, window_end: T0 + 10 * S, g: 'a', event_count: 1, x_sum: 2 },
      { window_start: T0 + 5 * S, window_end: T0 + 15 * S, g: 'a', event_count: 1, x_sum: 2 },
    ]);
  });
});

describe('session windows', () => {
  it('closes a session after the gap and reports its last event ts as session_end', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    // Act
    for (const t of [0, 5, 12, 30]) engine.add(ev({ ts: T0 + t * S, x: 1 }));
    const rows = only(engine.flush().rows, 'sessions');
    // Assess
    expect(rows.map((r) => [r['session_start'], r['session_end'], r['event_count']])).toEqual([
      [T0, T0 + 12 * S, 3],
      [T0 + 30 * S, T0 + 30 * S, 1],
    ]);
  });

  it('starts a new session when the gap is exactly reached', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    // Act
    engine.add(ev({ ts: T0 }));
    engine.add(ev({ ts: T0 + 8 * S }));
    // Assess
    expect(only(engine.flush().rows, 'sessions')).toHaveLength(2);
  });

  it('merges two sessions when an event bridges them', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0, x: 1 }));
    engine.add(ev({ ts: T0 + 10 * S, x: 2 }));
    // Act
    engine.add(ev({ ts: T0 + 5 * S, x: 4 }));
    // Assess
    expect(only(engine.flush().rows, 'sessions')).toEqual([
      {
        session_start: T0,
        session_end: T0 + 10 * S,
        user: 'u1',
        event_count: 3,
        x_sum: 7,
        x_min: 1,
        x_max: 4,
      },
    ]);
  });

  it('keeps sessions of different users apart', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    // Act
    engine.add(ev({ ts: T0, user: 'a' }));
    engine.add(ev({ ts: T0 + S, user: 'b' }));
    // Assess
    expect(only(engine.flush().rows, 'sessions').map((r) => r['user'])).toEqual(['a', 'b']);
  });
});

describe('watermarks and lateness', () => {
  it('emits a window only once the watermark (max ts - out-of-orderness) reaches its end', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0 + S }));
    // Act
    engine.add(ev({ ts: T0 + 12 * S, g: 'b' }));
    const before = only(engine.collect().rows, 'tumbling_10s');
    engine.add(ev({ ts: T0 + 13 * S, g: 'b' }));
    const after = only(engine.collect().rows, 'tumbling_10s');
    // Assess
    expect(before).toEqual([]);
    expect(after.map((r) => r['window_start'])).toEqual([T0]);
  });

  it('waits for the slowest partition before a window is final', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0 + S, partition: 0 }));
    engine.add(ev({ ts: T0 + 2 * S, partition: 1 }));
    // Act
    engine.add(ev({ ts: T0 + 60 * S, partition: 0 }));
    const rows = only(engine.collect().rows, 'tumbling_10s');
    // Assess
    expect(rows).toEqual([]);
    expect(engine.minWatermark).toBe(T0 + 2 * S - 3 * S);
  });

  it('drops an event whose window end is at or before its partition watermark into the late output', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0 + 13 * S }));
    // Act
    engine.add(ev({ ts: T0 + 9 * S, id: 'late-1' }));
    const out = engine.flush();
    // Assess
    expect(only(out.rows, 'tumbling_10s').map((r) => r['window_start'])).toEqual([T0 + 10 * S]);
    expect(out.late.filter((r) => r['window_name'] === 'tumbling_10s')).toEqual([
      {
        window_name: 'tumbling_10s',
        window_start: T0,
        window_end: T0 + 10 * S,
        group_value: 'a',
        id: 'late-1',
        user: 'u1',
        ts: T0 + 9 * S,
        watermark: T0 + 10 * S,
        topic: 't',
        partition: 0,
        offset: expect.any(Number),
      },
    ]);
  });

  it('accepts an out-of-order event while its window is still open', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0 + 12 * S }));
    // Act
    engine.add(ev({ ts: T0 + 9 * S }));
    const out = engine.flush();
    // Assess
    expect(out.late).toEqual([]);
    expect(only(out.rows, 'tumbling_10s').map((r) => r['event_count'])).toEqual([1, 1]);
  });

  it('judges lateness by the event partition watermark, not by other partitions', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0 + 5 * S, partition: 1 }));
    engine.add(ev({ ts: T0 + 30 * S, partition: 0 }));
    // Act
    engine.add(ev({ ts: T0 + 6 * S, partition: 1 }));
    // Assess
    expect(engine.flush().late).toEqual([]);
  });

  it('reports a sliding event late only for the windows it missed', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0 + 13 * S }));
    // Act
    engine.add(ev({ ts: T0 + 8 * S, id: 'l' }));
    const out = engine.flush();
    // Assess
    expect(out.late.filter((r) => r['window_name'] === 'sliding_10s').map((r) => r['window_start'])).toEqual([
      T0,
    ]);
    expect(only(out.rows, 'sliding_10s').find((r) => r['window_start'] === T0 + 5 * S)?.['event_count']).toBe(
      2,
    );
  });

  it('starts a new partition at the current minimum watermark so emitted windows stay final', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0 + 20 * S, partition: 0 }));
    engine.collect();
    // Act
    engine.add(ev({ ts: T0 + 5 * S, partition: 7, id: 'newcomer' }));
    // Assess
    expect(engine.watermark('t-7')).toBe(T0 + 17 * S);
    expect(engine.flush().late.map((r) => r['id'])).toContain('newcomer');
  });

  it('reports a session event late when its own gap window has passed the watermark', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0 + 30 * S, user: 'other' }));
    // Act
    engine.add(ev({ ts: T0 + 10 * S, user: 'u1', id: 's-late' }));
    const late = engine.flush().late.filter((r) => r['window_name'] === 'sessions');
    // Assess
    expect(late.map((r) => [r['id'], r['window_start'], r['window_end']])).toEqual([
      ['s-late', T0 + 10 * S, T0 + 18 * S],
    ]);
  });

  it('reports an event late when it would extend a session that is already final', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0, user: 'u1' }));
    engine.add(ev({ ts: T0 + 11 * S, user: 'x' }));
    const emitted = only(engine.collect().rows, 'sessions');
    // Act: its own window [T0+7s, T0+15s) is open, but it would bridge into the emitted session.
    engine.add(ev({ ts: T0 + 7 * S, user: 'u1', id: 'bridge' }));
    const out = engine.flush();
    // Assess
    expect(emitted.map((r) => r['user'])).toEqual(['u1']);
    expect(out.late.map((r) => [r['id'], r['window_start'], r['window_end']])).toEqual([
      ['bridge', T0, T0 + 8 * S],
    ]);
  });
});

describe('session lateness edges', () => {
  it('treats a session whose end equals the minimum watermark as final even before it is emitted', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0, user: 'u1' }));
    engine.add(ev({ ts: T0 + 11 * S, user: 'u2' }));
    // Act
    engine.add(ev({ ts: T0 + 5 * S, user: 'u1', id: 'edge' }));
    // Assess
    expect(
      engine
        .flush()
        .late.filter((r) => r['window_name'] === 'sessions')
        .map((r) => r['id']),
    ).toEqual(['edge']);
  });

  it('starts a new session for an event exactly one gap after an emitted session', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0, user: 'u1' }));
    engine.add(ev({ ts: T0 + 11 * S, user: 'u2' }));
    engine.collect();
    // Act
    engine.add(ev({ ts: T0 + 8 * S, user: 'u1' }));
    const out = engine.flush();
    // Assess
    expect(out.late).toEqual([]);
    expect(
      only(out.rows, 'sessions')
        .filter((r) => r['user'] === 'u1')
        .map((r) => r['session_start']),
    ).toEqual([T0 + 8 * S]);
  });

  it('remembers an emitted session until no on-time event can reach it any more', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.add(ev({ ts: T0, user: 'u1' }));
    engine.add(ev({ ts: T0 + 13 * S, user: 'u2' }));
    engine.collect();
    const restored = new WindowEngine(domain, roundTrip(engine.snapshot()));
    // Act: its own window [5 s, 13 s) is still open, but it is within the gap of the emitted session.
    restored.add(ev({ ts: T0 + 5 * S, user: 'u1', id: 'reach' }));
    // Assess
    expect(
      restored
        .flush()
        .late.filter((r) => r['window_name'] === 'sessions')
        .map((r) => r['id']),
    ).toEqual(['reach']);
  });
});

describe('state', () => {
  it('restores from a JSON snapshot and continues as if never interrupted', () => {
    // Prepare
    const a = new WindowEngine(domain);
    const b = new WindowEngine(domain);
    const events = [0, 4, 11, 2, 25, 27].map((t, i) => ev({ ts: T0 + t * S, x: i, partition: i % 2 }));
    // Act
    for (const e of events) a.add(e);
    const uncut = a.flush();
    for (const e of events.slice(0, 3)) b.add(e);
    const first = b.collect();
    const restored = new WindowEngine(domain, roundTrip(b.snapshot()));
    for (const e of events.slice(3)) restored.add(e);
    const second = restored.flush();
    // Assess
    expect(sortRows([...(first.rows['sessions'] ?? []), ...(second.rows['sessions'] ?? [])])).toEqual(
      sortRows(uncut.rows['sessions'] ?? []),
    );
    expect(sortRows([...(first.rows['tumbling_10s'] ?? []), ...(second.rows['tumbling_10s'] ?? [])])).toEqual(
      sortRows(uncut.rows['tumbling_10s'] ?? []),
    );
  });

  it('refuses events after flush', () => {
    // Prepare
    const engine = new WindowEngine(domain);
    engine.flush();
    // Act + Assess
    expect(() => engine.add(ev({ ts: T0 }))).toThrow(/after flush/);
  });

  it('merges the states of engines that consumed disjoint partitions', () => {
    // Prepare
    const p0 = [1, 3, 15].map((t) => ev({ ts: T0 + t * S, partition: 0, user: 'a', x: t }));
    const p1 = [2, 9, 16].map((t) => ev({ ts: T0 + t * S, partition: 1, user: 'a', x: t }));
    const single = new WindowEngine(domain);
    const left = new WindowEngine(domain);
    const right = new WindowEngine(domain);
    for (const e of [...p0, ...p1].sort((x, y) => x.ts - y.ts)) single.add(e);
    for (const e of p0) left.add(e);
    for (const e of p1) right.add(e);
    // Act
    const merged = new WindowEngine(domain, mergeWindowStates(domain, left.snapshot(), right.snapshot()));
    // Assess
    expect(sortRows(merged.flush().rows['sessions'] ?? [])).toEqual(
      sortRows(single.flush().rows['sessions'] ?? []),
    );
  });
});
