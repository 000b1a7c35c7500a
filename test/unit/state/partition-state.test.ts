import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryFencedTable, MemoryObjectStore } from '../../../functions/state/memory-table.ts';
import {
  clearStateCache,
  LegacyStateError,
  type Manifest,
  readOutbox,
  readState,
  runPartition,
  type StateCodec,
} from '../../../functions/state/partition-state.ts';
import type { StateId, StateRecord } from '../../../functions/state/table.ts';

/** A state of counters: a delta adds to some of them. Enough to tell any lost or doubled delta. */
type Counters = Map<string, number>;

const counters: StateCodec<Counters> = {
  kind: 'test.counters',
  empty: () => new Map(),
  encodeSnapshot: (s) => Buffer.from(JSON.stringify([...s])),
  decodeSnapshot: (b) => new Map(JSON.parse(Buffer.from(b).toString()) as [string, number][]),
  applyDelta: (s, d) => {
    for (const [k, n] of JSON.parse(Buffer.from(d).toString()) as [string, number][])
      s.set(k, (s.get(k) ?? 0) + n);
  },
};

const ID: StateId = { consumer: 'test', topic: 't', scope: '0' };

/** Applies `adds` as the batch of offsets `first..last`, as a consumer step would. */
async function batch(
  table: MemoryFencedTable,
  objects: MemoryObjectStore,
  last: number,
  adds: readonly [string, number][],
  options: { maxDeltas?: number; graceMs?: number; clock?: () => number } = {},
) {
  return runPartition(
    table,
    objects,
    ID,
    counters,
    async ({ loaded, state }) => {
      if ((loaded.fences['0'] ?? -1) >= last) return undefined;
      for (const [k, n] of adds) state.set(k, (state.get(k) ?? 0) + n);
      return { delta: Buffer.from(JSON.stringify(adds)), fences: { '0': last }, sources: {} };
    },
    options,
  );
}

function expected(batches: readonly (readonly [string, number][])[]): Counters {
  const m: Counters = new Map();
  for (const b of batches) for (const [k, n] of b) m.set(k, (m.get(k) ?? 0) + n);
  return m;
}

async function stored(table: MemoryFencedTable, objects: MemoryObjectStore): Promise<Counters> {
  const rec = (await table.load<Manifest>(ID)) as StateRecord<Manifest>;
  return readState(objects, ID, rec.state!, counters);
}

beforeEach(() => clearStateCache());

describe('partition state: snapshot + deltas', () => {
  it('restores from S3 exactly the state the batches built, whatever the compaction', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 1, max: 9 })), {
            maxLength: 5,
          }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1, max: 6 }),
        async (batches, maxDeltas) => {
          clearStateCache();
          const table = new MemoryFencedTable();
          const objects = new MemoryObjectStore();
          for (const [i, adds] of batches.entries()) await batch(table, objects, i, adds, { maxDeltas });
          const rec = await table.load<Manifest>(ID);
          expect(await stored(table, objects)).toEqual(expected(batches));
          expect(rec.state!.deltas.length).toBeLessThanOrEqual(maxDeltas);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes a snapshot instead of a delta once the deltas reach the limit', async () => {
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    // A large first batch, then small ones: deltas stay smaller than the snapshot.
    const big: [string, number][] = Array.from({ length: 200 }, (_, i) => [`key-${i}`, 1]);
    await batch(table, objects, 0, big, { maxDeltas: 3 });
    for (let i = 1; i < 8; i++) await batch(table, objects, i, [['a', 1]], { maxDeltas: 3 });
    const m = (await table.load<Manifest>(ID)).state!;
    // 0 1: deltas; 2: the first snapshot (the third object); 3 4 5: deltas; 6: a snapshot
    // (3 + 1 > 3) superseding the first one and three deltas; 7: a delta.
    expect(m.snapshot).not.toBeNull();
    expect(m.deltas.length).toBe(1);
    // Each snapshot supersedes what is named below the record version it was written against
    // (two writes per batch: batch 2 loads version 4, batch 6 version 12).
    expect(m.garbage.map((g) => g.below)).toEqual([4, 12]);
    expect(await stored(table, objects)).toEqual(new Map([...big, ['a', 7]]));
  });
});

describe('partition state: one commit point', () => {
  it('costs one read and two conditional writes per batch, and loads nothing from S3 when warm', async () => {
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    await batch(table, objects, 0, [['a', 1]]);
    const before = { reads: table.reads, writes: table.writes, gets: objects.gets };
    await batch(table, objects, 1, [['a', 1]]);
    expect(table.reads - before.reads).toBe(1);
    expect(table.writes - before.writes).toBe(2);
    expect(objects.gets - before.gets).toBe(0);
  });

  it('reads the state from S3 when the environment is cold', async () => {
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    await batch(table, objects, 0, [['a', 1]]);
    await batch(table, objects, 1, [['a', 1]]);
    clearStateCache();
    const gets = objects.gets;
    await batch(table, objects, 2, [['a', 1]]);
    expect(objects.gets - gets).toBe(2);
    expect(await stored(table, objects)).toEqual(new Map([['a', 3]]));
  });

  it('leaves no visible effect when an attempt dies between its delta and its commit', async () => {
    // Prepare: a committed batch, then an attempt whose commit never lands.
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    await batch(table, objects, 0, [['a', 1]]);
    const dying = Object.assign(Object.create(table) as MemoryFencedTable, {
      commit: async () => {
        throw new Error('died before the commit');
      },
    });
    // Act
    await expect(batch(dying, objects, 1, [['a', 100]])).rejects.toThrow(/died/);
    const afterDeath = await stored(table, objects);
    const orphans = (await table.load(ID)).intent?.keys ?? [];
    await batch(table, objects, 1, [['a', 1]]);
    // Assess: the dead delta was written, is not part of the state, and its retry removed it.
    expect(afterDeath).toEqual(new Map([['a', 1]]));
    expect(orphans.length).toBe(1);
    expect(objects.objects.has(orphans[0]!)).toBe(false);
    expect(await stored(table, objects)).toEqual(new Map([['a', 2]]));
  });

  it('recomputes from the committed state after a conflict, never from the failed attempt’s', async () => {
    // Prepare: a warm state; the next attempt loses its intent write to a zombie of the same
    // partition that commits the same batch first.
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    await batch(table, objects, 0, [['a', 1]]);
    let raced = false;
    const racing = Object.assign(Object.create(table) as MemoryFencedTable, {
      beginIntent: async (id: StateId, v: number, keys: readonly string[]) => {
        if (!raced) {
          raced = true;
          await batch(table, objects, 1, [['b', 5]]);
        }
        return table.beginIntent(id, v, keys);
      },
    });
    // Act
    const outcome = await batch(racing, objects, 1, [['b', 5]]);
    await batch(table, objects, 2, [['b', 1]]);
    // Assess: the loser's attempt (which had added b=5 to the warm state) left nothing behind.
    expect(outcome.conflicts).toBe(1);
    expect(outcome.committed).toBe(false);
    expect(await stored(table, objects)).toEqual(
      new Map([
        ['a', 1],
        ['b', 6],
      ]),
    );
  });

  it('deletes superseded objects only after the grace period', async () => {
    let now = 0;
    const clock = () => now;
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    for (let i = 0; i < 3; i++)
      await batch(table, objects, i, [['a', 1]], { maxDeltas: 2, graceMs: 1000, clock });
    const m = (await table.load<Manifest>(ID)).state!;
    const below = Math.max(...m.garbage.map((g) => g.below));
    const current = [m.snapshot!.key, ...m.deltas.map((d) => d.key)];
    const superseded = [...objects.objects.keys()].filter((k) => !current.includes(k));
    expect(superseded.length).toBeGreaterThan(0);
    expect(below).toBeGreaterThan(0);
    now = 999;
    await batch(table, objects, 3, [['a', 1]], { maxDeltas: 2, graceMs: 1000, clock });
    expect(superseded.every((k) => objects.objects.has(k))).toBe(true);
    now = 1000;
    await batch(table, objects, 4, [['a', 1]], { maxDeltas: 2, graceMs: 1000, clock });
    expect(superseded.some((k) => objects.objects.has(k))).toBe(false);
    expect(await stored(table, objects)).toEqual(new Map([['a', 5]]));
  });

  it('keeps the commit item small whatever the number of compactions within the grace period', async () => {
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    for (let i = 0; i < 200; i++)
      await batch(table, objects, i, [['a', 1]], { maxDeltas: 2, graceMs: 3_600_000 });
    const m = (await table.load<Manifest>(ID)).state!;
    expect(m.garbage.length).toBeLessThanOrEqual(4);
    expect(JSON.stringify(m).length).toBeLessThan(1024);
    expect(await stored(table, objects)).toEqual(new Map([['a', 200]]));
  });

  it('refuses a state of the layout before partition-owned state, naming the command to run', async () => {
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    await table.beginIntent(ID, 0, []);
    await table.commit(ID, 1, {
      state: { version: 1, maxTs: 5, buckets: [] },
      fences: { '0': 3 },
      sources: {},
    });
    await expect(batch(table, objects, 4, [['a', 1]])).rejects.toThrow(LegacyStateError);
    await expect(batch(table, objects, 4, [['a', 1]])).rejects.toThrow(/tidewater state migrate/);
  });
});

/**
 * A batch that defers one row (`{ n: last }`) of table `t` in the outbox, or, when the outbox is
 * due, writes every held row and its own to `rows/<first>-<last>.json` (a consumer's `deferRows`).
 */
async function rowBatch(
  table: MemoryFencedTable,
  objects: MemoryObjectStore,
  last: number,
  options: { maxDeltas?: number; outboxMaxAgeMs?: number; outboxMaxRows?: number; clock?: () => number },
) {
  return runPartition(
    table,
    objects,
    ID,
    counters,
    async ({ loaded, state, out, outbox }) => {
      if ((loaded.fences['0'] ?? -1) >= last) return undefined;
      state.set('batches', (state.get('batches') ?? 0) + 1);
      const delta = Buffer.from(JSON.stringify([['batches', 1]]));
      const row = { n: last };
      if (outbox.due) {
        const held = outbox.pending;
        const rows = [...(held?.tables['t'] ?? []), row];
        await out.put(`rows/${held?.firstOffset ?? last}-${last}.json`, Buffer.from(JSON.stringify(rows)));
        if (held === null) return { delta, fences: { '0': last }, sources: {} };
        return { delta, outbox: { flushed: true }, fences: { '0': last }, sources: {} };
      }
      return { delta, outbox: { add: { t: [row] }, firstOffset: last }, fences: { '0': last }, sources: {} };
    },
    options,
  );
}

/** Every row written to `rows/` objects, in the order of their first offset. */
function writtenRows(objects: MemoryObjectStore): number[] {
  return [...objects.objects.entries()]
    .filter(([k]) => k.startsWith('rows/'))
    .sort(([a], [b]) => Number(a.slice(5).split('-')[0]) - Number(b.slice(5).split('-')[0]))
    .flatMap(([, v]) => (JSON.parse(Buffer.from(v).toString()) as { n: number }[]).map((r) => r.n));
}

describe('partition state: the outbox of deferred rows', () => {
  it('writes every deferred row exactly once, whatever the compaction, cold loads and clock', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ advance: fc.integer({ min: 0, max: 40 }), cold: fc.boolean() }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        async (steps, maxDeltas, outboxMaxRows) => {
          clearStateCache();
          let now = 0;
          const options = { maxDeltas, outboxMaxAgeMs: 60, outboxMaxRows, clock: () => now };
          const table = new MemoryFencedTable();
          const objects = new MemoryObjectStore();
          for (const [i, s] of steps.entries()) {
            now += s.advance;
            if (s.cold) clearStateCache();
            await rowBatch(table, objects, i, options);
          }
          const m = (await table.load<Manifest>(ID)).state!;
          const held = await readOutbox(objects, ID, m, counters);
          const pending = (held?.tables['t'] ?? []).map((r) => r['n'] as number);
          // Assess: written then held, every batch's row once, in order; the codec's state intact.
          expect([...writtenRows(objects), ...pending]).toEqual(steps.map((_, i) => i));
          expect(held === null || pending.length <= outboxMaxRows + 1).toBe(true);
          expect(await stored(table, objects)).toEqual(new Map([['batches', steps.length]]));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('holds rows until they are older than the maximum age, then writes them in one object', async () => {
    let now = 0;
    const options = { outboxMaxAgeMs: 60_000, clock: () => now };
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    for (let i = 0; i < 5; i++) {
      await rowBatch(table, objects, i, options);
      now += 10_000;
    }
    expect(writtenRows(objects)).toEqual([]);
    now = 60_000;
    await rowBatch(table, objects, 5, options);
    expect([...objects.objects.keys()].filter((k) => k.startsWith('rows/'))).toEqual(['rows/0-5.json']);
    expect(writtenRows(objects)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('holds nothing with a maximum age of 0: every batch writes its own rows', async () => {
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    for (let i = 0; i < 3; i++) await rowBatch(table, objects, i, { outboxMaxAgeMs: 0 });
    const m = (await table.load<Manifest>(ID)).state!;
    expect([...objects.objects.keys()].filter((k) => k.startsWith('rows/')).sort()).toEqual([
      'rows/0-0.json',
      'rows/1-1.json',
      'rows/2-2.json',
    ]);
    expect(await readOutbox(objects, ID, m, counters)).toBeNull();
  });

  it('loses no deferred row when an attempt dies between its delta and its commit', async () => {
    const table = new MemoryFencedTable();
    const objects = new MemoryObjectStore();
    await rowBatch(table, objects, 0, {});
    const dying = Object.assign(Object.create(table) as MemoryFencedTable, {
      commit: async () => {
        throw new Error('died before the commit');
      },
    });
    await expect(rowBatch(dying, objects, 1, {})).rejects.toThrow(/died/);
    await rowBatch(table, objects, 1, {});
    const m = (await table.load<Manifest>(ID)).state!;
    const held = await readOutbox(objects, ID, m, counters);
    expect(held?.tables['t']).toEqual([{ n: 0 }, { n: 1 }]);
    expect(held?.firstOffset).toBe(0);
  });
});
