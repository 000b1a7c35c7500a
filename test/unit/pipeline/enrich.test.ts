import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../../functions/adapters/embedded/index.ts';
import { EnrichStage } from '../../../functions/pipeline/index.ts';
import { StaleFenceError } from '../../../functions/ports/index.ts';
import { batchOf, eventValue, TOPIC, testContext } from './helpers.ts';

const AT = { topic: TOPIC, partition: 0 };

describe('EnrichStage', () => {
  it('writes valid events to silver and forwards them in arrival order', async () => {
    // Prepare
    const ctx = testContext();
    const stage = await EnrichStage.open(ctx, AT);
    // Act
    const r = await stage.apply(batchOf(0, [eventValue(0), eventValue(1), eventValue(2)]));
    // Assess
    expect(r.silverRows).toBe(3);
    expect(r.forward.map((e) => e.id)).toEqual(['e-0', 'e-1', 'e-2']);
    expect(ctx.objects.puts).toEqual(['silver/events/dt=2026-11-02/hr=08/raw-events-0-0-2.parquet']);
  });

  it('sends a poison record to the dead-letter sink with its reason, coordinates and raw bytes', async () => {
    // Prepare
    const ctx = testContext();
    const stage = await EnrichStage.open(ctx, AT);
    const broken = '{"event_id": "e-9", oops';
    // Act
    const r = await stage.apply(batchOf(40, [eventValue(0), broken, eventValue(2)]));
    // Assess
    expect(r.deadLettered).toBe(1);
    expect(r.silverRows).toBe(2);
    const [letter] = ctx.deadLetters.letters;
    expect(letter).toMatchObject({
      topic: TOPIC,
      partition: 0,
      offset: 41,
      reason: { code: 'invalid_json' },
    });
    expect(Buffer.from(letter!.valueBase64!, 'base64').toString('utf8')).toBe(broken);
    expect(ctx.deadLetters.sent[0]!.source).toEqual({
      topic: TOPIC,
      partition: 0,
      firstOffset: 40,
      lastOffset: 42,
    });
    expect(r.poisonByCode).toEqual({ invalid_json: 1 });
  });

  it('names the broken rule of a valid-JSON poison record', async () => {
    // Prepare
    const ctx = testContext();
    const stage = await EnrichStage.open(ctx, AT);
    // Act
    await stage.apply(batchOf(0, [eventValue(0, { amount: -5 })]));
    // Assess
    expect(ctx.deadLetters.letters[0]!.reason).toMatchObject({ code: 'out_of_range', field: 'amount' });
  });

  it('drops a second event with the same event_id as a duplicate, across batches', async () => {
    // Prepare
    const ctx = testContext();
    const stage = await EnrichStage.open(ctx, AT);
    await stage.apply(batchOf(0, [eventValue(1)]));
    // Act
    const r = await stage.apply(batchOf(1, [eventValue(1), eventValue(2)]));
    // Assess
    expect(r.duplicates).toBe(1);
    expect(r.forward.map((e) => e.id)).toEqual(['e-2']);
    expect(ctx.metrics.get('Duplicates')).toBe(1);
  });

  it('skips a redelivered batch already committed: nothing is written or counted twice', async () => {
    // Prepare
    const state = new MemoryStateStore();
    const first = testContext(undefined, state);
    const batch = batchOf(0, [eventValue(0), eventValue(1)]);
    const a = await EnrichStage.open(first, AT);
    await a.apply(batch);
    await a.commit();
    const again = testContext(undefined, state);
    const b = await EnrichStage.open(again, AT);
    // Act
    const r = await b.apply(batch);
    // Assess
    expect(r.range).toBeUndefined();
    expect(r.records).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(again.objects.puts).toEqual([]);
  });

  it('applies only the new tail of a partly redelivered batch', async () => {
    // Prepare
    const state = new MemoryStateStore();
    const a = await EnrichStage.open(testContext(undefined, state), AT);
    await a.apply(batchOf(0, [eventValue(0), eventValue(1)]));
    await a.commit();
    const ctx = testContext(undefined, state);
    const b = await EnrichStage.open(ctx, AT);
    // Act
    const r = await b.apply(batchOf(0, [eventValue(0), eventValue(1), eventValue(2), eventValue(3)]));
    // Assess
    expect(r.range).toEqual({ topic: TOPIC, partition: 0, firstOffset: 2, lastOffset: 3 });
    expect(r.forward.map((e) => e.id)).toEqual(['e-2', 'e-3']);
    expect(r.duplicates).toBe(0);
  });

  it('refuses to commit over a state another invocation committed first', async () => {
    // Prepare
    const state = new MemoryStateStore();
    const a = await EnrichStage.open(testContext(undefined, state), AT);
    const b = await EnrichStage.open(testContext(undefined, state), AT);
    await a.apply(batchOf(0, [eventValue(0)]));
    await b.apply(batchOf(0, [eventValue(0)]));
    await a.commit();
    // Act
    const late = b.commit();
    // Assess
    await expect(late).rejects.toBeInstanceOf(StaleFenceError);
    expect((await state.load({ consumer: 'enrich', ...AT }))?.lastOffset).toBe(0);
  });

  it('carries the dedup state through the store to the next invocation', async () => {
    // Prepare
    const state = new MemoryStateStore();
    const a = await EnrichStage.open(testContext(undefined, state), AT);
    await a.apply(batchOf(0, [eventValue(7)]));
    await a.commit();
    const b = await EnrichStage.open(testContext(undefined, state), AT);
    // Act
    const r = await b.apply(batchOf(1, [eventValue(7)]));
    // Assess
    expect(r.duplicates).toBe(1);
    expect(r.silverRows).toBe(0);
  });
});
