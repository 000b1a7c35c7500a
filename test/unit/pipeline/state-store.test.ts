import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../../functions/adapters/embedded/index.ts';
import { StaleFenceError, type StateKey } from '../../../functions/ports/index.ts';

const KEY: StateKey = { consumer: 'enrich', topic: 'raw-events', partition: 0 };

describe('MemoryStateStore', () => {
  it('returns nothing for a key never saved', async () => {
    // Prepare
    const store = new MemoryStateStore();
    // Act
    const loaded = await store.load(KEY);
    // Assess
    expect(loaded).toBeUndefined();
  });

  it('saves a first state when the caller expects none, and loads a copy of it', async () => {
    // Prepare
    const store = new MemoryStateStore();
    const state = { ids: ['a'] };
    // Act
    await store.save(KEY, { state, lastOffset: 9 }, null);
    state.ids.push('mutated after save');
    const loaded = await store.load<{ ids: string[] }>(KEY);
    // Assess
    expect(loaded).toEqual({ state: { ids: ['a'] }, lastOffset: 9 });
  });

  it('keeps the saved object itself when asked to keep states by reference, fences still enforced', async () => {
    // Prepare
    const store = new MemoryStateStore({ keep: 'reference' });
    const state = { ids: ['a'] };
    // Act
    await store.save(KEY, { state, lastOffset: 9 }, null);
    const loaded = await store.load<{ ids: string[] }>(KEY);
    const stale = store.save(KEY, { state: { ids: [] }, lastOffset: 12 }, null);
    // Assess
    expect(loaded?.state).toBe(state);
    expect(store.sizeOf(KEY)).toBe(JSON.stringify(state).length);
    await expect(stale).rejects.toBeInstanceOf(StaleFenceError);
  });

  it('refuses a save whose expected fence is stale and keeps the stored state', async () => {
    // Prepare
    const store = new MemoryStateStore();
    await store.save(KEY, { state: 'first', lastOffset: 9 }, null);
    await store.save(KEY, { state: 'second', lastOffset: 19 }, 9);
    // Act
    const stale = store.save(KEY, { state: 'late writer', lastOffset: 19 }, 9);
    // Assess
    await expect(stale).rejects.toBeInstanceOf(StaleFenceError);
    expect(await store.load(KEY)).toEqual({ state: 'second', lastOffset: 19 });
    expect(store.refused).toBe(1);
  });

  it('refuses a second first-save of the same key (two writers that both loaded nothing)', async () => {
    // Prepare
    const store = new MemoryStateStore();
    await store.save(KEY, { state: 'winner', lastOffset: 4 }, null);
    // Act
    const loser = store.save(KEY, { state: 'loser', lastOffset: 4 }, null);
    // Assess
    await expect(loser).rejects.toThrow(/committed at offset 4/);
  });

  it('refuses a save that does not move the fence forward', async () => {
    // Prepare
    const store = new MemoryStateStore();
    await store.save(KEY, { state: 'a', lastOffset: 10 }, null);
    // Act
    const backwards = store.save(KEY, { state: 'b', lastOffset: 10 }, 10);
    // Assess
    await expect(backwards).rejects.toBeInstanceOf(StaleFenceError);
  });

  it('keeps states of different partitions apart', async () => {
    // Prepare
    const store = new MemoryStateStore();
    // Act
    await store.save(KEY, { state: 'p0', lastOffset: 1 }, null);
    await store.save({ ...KEY, partition: 1 }, { state: 'p1', lastOffset: 1 }, null);
    // Assess
    expect((await store.load(KEY))?.state).toBe('p0');
    expect((await store.load({ ...KEY, partition: 1 }))?.state).toBe('p1');
  });

  it('rejects a state that is not plain JSON at save time', async () => {
    // Prepare
    const store = new MemoryStateStore();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    // Act
    const save = store.save(KEY, { state: cyclic, lastOffset: 1 }, null);
    // Assess
    await expect(save).rejects.toThrow(TypeError);
  });
});
