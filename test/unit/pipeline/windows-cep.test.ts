import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../../functions/adapters/embedded/index.ts';
import type { SourceRange } from '../../../functions/adapters/parquet/index.ts';
import type { SilverEvent } from '../../../functions/core/index.ts';
import { CepStage, type EventBatch, WindowsStage } from '../../../functions/pipeline/index.ts';
import { ev, testDomain } from '../core/helpers.ts';
import { testContext } from './helpers.ts';

const domain = testDomain();
const S = 1000;
const BASE = Date.UTC(2026, 10, 2, 8, 0, 0);
const AT = { topic: 't', partition: 0 };

/** Events at the given seconds after BASE with offsets from..; the batch covers exactly them. */
function batch(
  from: number,
  seconds: readonly number[],
  init: Partial<Parameters<typeof ev>[0]> = {},
): EventBatch {
  const events: SilverEvent[] = seconds.map((s, i) => ({
    ...ev({ ts: BASE + s * S, ...init }),
    offset: from + i,
  }));
  const source: SourceRange = {
    topic: 't',
    partition: 0,
    firstOffset: from,
    lastOffset: from + seconds.length - 1,
  };
  return { source, events };
}

describe('WindowsStage', () => {
  it('writes nothing before commit, then the final windows named after the offsets applied', async () => {
    // Prepare
    const ctx = testContext(domain);
    const stage = await WindowsStage.open(ctx, AT);
    await stage.apply(batch(0, [1, 2, 3]));
    await stage.apply(batch(3, [30]));
    expect(ctx.objects.puts).toEqual([]);
    // Act
    const c = await stage.commit();
    // Assess
    expect(c.range).toEqual({ topic: 't', partition: 0, firstOffset: 0, lastOffset: 3 });
    expect(ctx.objects.puts).toContain('gold/window_tumbling_10s/dt=2026-11-02/hr=08/t-0-0-3.parquet');
    expect(c.written.rows['gold/window_tumbling_10s']).toBe(1);
  });

  it('flushes every open window at finish', async () => {
    // Prepare
    const ctx = testContext(domain);
    const stage = await WindowsStage.open(ctx, AT);
    await stage.apply(batch(0, [1, 2, 3]));
    // Act
    stage.finish();
    const c = await stage.commit();
    // Assess: one tumbling window, two sliding windows (10 s sliding by 5 s), one session
    expect(c.written.rows['gold/window_tumbling_10s']).toBe(1);
    expect(c.written.rows['gold/window_sliding_10s']).toBe(2);
    expect(c.written.rows['gold/sessions']).toBe(1);
  });

  it('writes an event too late for its window to gold/late_events', async () => {
    // Prepare
    const ctx = testContext(domain);
    const stage = await WindowsStage.open(ctx, AT);
    await stage.apply(batch(0, [100]));
    // Act: 50 s behind a watermark of 97 s
    const r = await stage.apply(batch(1, [50]));
    const c = await stage.commit();
    // Assess
    expect(r.lateEvents).toBe(1);
    expect(r.lateRows).toBeGreaterThanOrEqual(1);
    expect(c.written.rows['gold/late_events']).toBe(r.lateRows);
  });

  it('ignores the events of a redelivered batch whose offsets were committed', async () => {
    // Prepare
    const state = new MemoryStateStore();
    const a = await WindowsStage.open(testContext(domain, state), AT);
    const first = batch(0, [1, 2]);
    await a.apply(first);
    await a.commit();
    const b = await WindowsStage.open(testContext(domain, state), AT);
    // Act
    const r = await b.apply(first);
    // Assess
    expect(r.range).toBeUndefined();
    expect(r.events).toBe(0);
  });
});

describe('CepStage', () => {
  it('publishes alerts and writes gold/alerts at commit, with deterministic alert ids', async () => {
    // Prepare: rapid_fire_burst fires at the 3rd transaction within 5 s
    const ctx = testContext(domain);
    const stage = await CepStage.open(ctx, AT);
    const b = batch(0, [1, 2, 3], { user: 'u9' });
    // Act
    const applied = await stage.apply(b);
    const before = ctx.alerts.total;
    const c = await stage.commit();
    // Assess
    expect(applied.byPattern['rapid_fire_burst']).toBe(1);
    expect(before).toBe(0);
    expect(ctx.alerts.total).toBe(applied.alerts);
    expect(ctx.alerts.sample.map((a) => a['alert_id'])).toContain(`rapid_fire_burst:${b.events[2]!.id}`);
    expect(c.written.rows['gold/alerts']).toBe(applied.alerts);
    expect(ctx.metrics.get('Alerts', { pattern: 'rapid_fire_burst' })).toBe(1);
  });

  it('stamps each alert with detected_at on the stage clock and records its latencies once written', async () => {
    // Prepare: a clock that moves 5 ms per reading; the events came from Kafka records stamped 2 s before
    let now = BASE + 60 * S;
    const tick = () => {
      now += 5;
      return now;
    };
    const ctx = { ...testContext(domain), clock: tick };
    const stage = await CepStage.open(ctx, AT);
    const b = batch(0, [1, 2, 3], { user: 'u9' });
    const events = b.events.map((e) => ({ ...e, kafkaTs: e.ts + 2 * S }));
    // Act
    await stage.apply({ ...b, events });
    const decidedBy = now;
    await stage.commit();
    // Assess
    const [alert] = ctx.alerts.sample;
    expect(alert?.['detected_at']).toBeGreaterThan(BASE + 60 * S);
    expect(alert?.['detected_at']).toBeLessThanOrEqual(decidedBy);
    const writtenAt = now;
    expect(ctx.metrics.latencyValues('EventToOutputLatency', 'cep')).toEqual([writtenAt - (BASE + 3 * S)]);
    expect(ctx.metrics.latencyValues('KafkaToOutputLatency', 'cep')).toEqual([writtenAt - (BASE + 5 * S)]);
  });

  it('keeps per-user CEP state across invocations through the state store', async () => {
    // Prepare: two transactions, commit, then the third in a new invocation
    const state = new MemoryStateStore();
    const a = await CepStage.open(testContext(domain, state), AT);
    await a.apply(batch(0, [1, 2], { user: 'u9' }));
    await a.commit();
    const b = await CepStage.open(testContext(domain, state), AT);
    // Act
    const r = await b.apply(batch(2, [3], { user: 'u9' }));
    // Assess
    expect(r.byPattern['rapid_fire_burst']).toBe(1);
  });
});
