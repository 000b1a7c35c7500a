/**
 * The fenced attempt (`functions/handlers/lib/fenced.ts`) on the emulator's DynamoDB and S3, with
 * deaths injected at the exact steps where a wrong order of writes leaves orphan files: a retry
 * with other batch boundaries that dies while deleting a dead attempt's files, and an attempt with
 * nothing new that dies while doing the same. The fault test (`faults.test.ts`) hits these at
 * random; here each one is hit on purpose.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbStateTable,
  type StateId,
  type StateUpdate,
} from '../../functions/adapters/aws/dynamodb-state.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store.ts';
import { MetricsCollector } from '../../functions/adapters/embedded/metrics-collector.ts';
import {
  type Compute,
  type LeaseOptions,
  runFenced,
  StateLeaseTimeoutError,
} from '../../functions/handlers/lib/fenced.ts';
import { createResources, type Resources } from './handlers.support.ts';

let res: Resources;
let objects: S3ObjectStore;
let table: DynamoDbStateTable;

beforeAll(async () => {
  res = await createResources();
  objects = new S3ObjectStore({ buckets: res.buckets, client: res.clients.s3 });
  table = new DynamoDbStateTable({ tableName: res.table, client: res.clients.dynamodb });
});

class InjectedDeath extends Error {
  override readonly name = 'InjectedDeath';
}

/** The real S3 store whose next `delete` dies before reaching S3. */
class DyingDeletes extends S3ObjectStore {
  deaths = 0;
  override async delete(keys: readonly string[]): Promise<void> {
    if (this.deaths > 0) {
      this.deaths--;
      throw new InjectedDeath(`died before deleting ${keys.join(', ')}`);
    }
    return super.delete(keys);
  }
}

/** The real state table whose next `commit` dies before reaching DynamoDB. */
class DyingCommits extends DynamoDbStateTable {
  deaths = 0;
  override async commit<St>(id: StateId, v: number, update: StateUpdate<St>, ref?: string): Promise<void> {
    if (this.deaths > 0) {
      this.deaths--;
      throw new InjectedDeath(`died before committing v${v + 1}`);
    }
    return super.commit(id, v, update, ref);
  }
}

/** A batch of offsets [first, last] of partition 0: one bronze file named by its bounds. */
function batch(prefix: string, first: number, last: number): Compute<{ n: number }> {
  return async (loaded, out) => {
    if ((loaded.fences['0'] ?? -1) >= last) return undefined;
    await out.put(`${prefix}/t-0-${first}-${last}.parquet`, new Uint8Array([first, last]));
    return { state: { n: (loaded.state?.n ?? 0) + last - first + 1 }, fences: { '0': last }, sources: {} };
  };
}

describe('a fenced attempt that dies between its writes', () => {
  it('leaves no orphan when a retry with other boundaries dies while deleting the dead attempt’s file', async () => {
    // Prepare: an attempt over offsets 0-249 wrote its file and died before committing.
    const prefix = 'bronze/fenced-bisect';
    const id = { consumer: 'ingest', topic: 'fenced-bisect', scope: '0' };
    const s3 = new DyingDeletes({ buckets: res.buckets, client: res.clients.s3 });
    const dynamo = new DyingCommits({ tableName: res.table, client: res.clients.dynamodb });
    dynamo.deaths = 1;
    await expect(runFenced(dynamo, s3, id, batch(prefix, 0, 249))).rejects.toBeInstanceOf(InjectedDeath);
    expect(await objects.list(`${prefix}/`)).toEqual([`${prefix}/t-0-0-249.parquet`]);
    // Act: the bisected retry (0-124) dies while deleting it; the next retry goes through.
    s3.deaths = 1;
    await expect(runFenced(dynamo, s3, id, batch(prefix, 0, 124))).rejects.toBeInstanceOf(InjectedDeath);
    const done = await runFenced(dynamo, s3, id, batch(prefix, 0, 124));
    // Assess
    expect(done.committed).toBe(true);
    expect(await objects.list(`${prefix}/`)).toEqual([`${prefix}/t-0-0-124.parquet`]);
    const after = await table.load<{ n: number }>(id);
    expect(after.intent).toBeUndefined();
    expect(after.state).toEqual({ n: 125 });
  });

  it('leaves no orphan when an attempt with nothing new dies while deleting a dead attempt’s file', async () => {
    // Prepare: 0-99 committed; an attempt over 0-199 wrote its file and died before committing.
    const prefix = 'bronze/fenced-idle';
    const id = { consumer: 'ingest', topic: 'fenced-idle', scope: '0' };
    const s3 = new DyingDeletes({ buckets: res.buckets, client: res.clients.s3 });
    const dynamo = new DyingCommits({ tableName: res.table, client: res.clients.dynamodb });
    await runFenced(dynamo, s3, id, batch(prefix, 0, 99));
    dynamo.deaths = 1;
    await expect(runFenced(dynamo, s3, id, batch(prefix, 0, 199))).rejects.toBeInstanceOf(InjectedDeath);
    // Act: a redelivery of 0-99 alone (nothing new) dies while deleting 0-199; the next one goes through.
    s3.deaths = 1;
    await expect(runFenced(dynamo, s3, id, batch(prefix, 0, 99))).rejects.toBeInstanceOf(InjectedDeath);
    const idle = await runFenced(dynamo, s3, id, batch(prefix, 0, 99));
    // Assess
    expect(idle.committed).toBe(false);
    expect(await objects.list(`${prefix}/`)).toEqual([`${prefix}/t-0-0-99.parquet`]);
    expect((await table.load(id)).intent).toBeUndefined();
  });
});

describe('a write conflict', () => {
  it('redoes the attempt from a fresh load and counts it as StateConflicts of the consumer', async () => {
    // Prepare: another invocation moves the item between this attempt's load and its intent.
    const racing = new RacingIntents({ tableName: res.table, client: res.clients.dynamodb });
    const metrics = new MetricsCollector();
    const id: StateId = { consumer: 'windows', topic: `race-${randomUUID()}`, scope: '*' };
    let computed = 0;
    // Act
    const outcome = await runFenced(
      racing,
      objects,
      id,
      async (loaded, out) => {
        computed++;
        await out.put(`gold/race/${id.topic}-${computed}.parquet`, new Uint8Array([computed]));
        return { state: { n: computed }, fences: { ...loaded.fences, '0': 9 }, sources: {} };
      },
      { metrics },
    );
    // Assess
    expect(outcome.committed).toBe(true);
    expect(outcome.conflicts).toBe(1);
    expect(computed).toBe(2);
    expect(metrics.get('StateConflicts', { consumer: 'windows' })).toBe(1);
    expect((await table.load<{ n: number }>(id)).state).toEqual({ n: 2 });
  });
});

describe('the lease of a shared state', () => {
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const sharedId = (name: string): StateId => ({
    consumer: 'windows',
    topic: `${name}-${randomUUID()}`,
    scope: '*',
  });

  /** An attempt over partition `p` that takes `ms` to compute and logs when it ran. */
  function slow(p: number, ms: number, log: Array<[number, number, number]>): Compute<{ n: number }> {
    return async (loaded, out) => {
      const start = Date.now();
      await sleep(ms);
      await out.put(`gold/lease/${randomUUID()}.parquet`, new Uint8Array([p]));
      log.push([p, start, Date.now()]);
      return {
        state: { n: (loaded.state?.n ?? 0) + 1 },
        fences: { ...loaded.fences, [String(p)]: 1 },
        sources: {},
      };
    };
  }

  const overlaps = (log: ReadonlyArray<[number, number, number]>): number => {
    const byStart = [...log].sort((a, b) => a[1] - b[1]);
    let n = 0;
    for (let i = 1; i < byStart.length; i++) if (byStart[i]![1] < byStart[i - 1]![2]) n++;
    return n;
  };

  it('makes concurrent attempts take turns: each computes once and none conflicts (without it they race)', async () => {
    // Prepare
    const lease: LeaseOptions = { ttlMs: 2_000 };
    const leased = sharedId('lease-turns');
    const racing = sharedId('lease-none');
    const metrics = new MetricsCollector();
    const withLease: Array<[number, number, number]> = [];
    const without: Array<[number, number, number]> = [];
    // Act: three partitions at once, with and without the lease.
    const a = await Promise.all(
      [0, 1, 2].map((p) => runFenced(table, objects, leased, slow(p, 150, withLease), { metrics, lease })),
    );
    const b = await Promise.all(
      [0, 1, 2].map((p) => runFenced(table, objects, racing, slow(p, 150, without))),
    );
    // Assess
    expect(a.map((o) => o.conflicts)).toEqual([0, 0, 0]);
    expect(withLease).toHaveLength(3);
    expect(overlaps(withLease)).toBe(0);
    expect(metrics.get('StateLeaseWaitMs', { consumer: 'windows' })).toBeGreaterThan(0);
    expect((await table.load<{ n: number }>(leased)).state).toEqual({ n: 3 });
    expect(b.reduce((n, o) => n + o.conflicts, 0)).toBeGreaterThan(0);
    expect(without.length).toBeGreaterThan(3);
    expect((await table.load<{ n: number }>(racing)).state).toEqual({ n: 3 });
  });

  it('is renewed while a long attempt runs, so a waiting attempt does not start before it commits', async () => {
    // Prepare: a lease of 300 ms and an attempt of 1.2 s.
    const id = sharedId('lease-renew');
    const lease: LeaseOptions = { ttlMs: 300 };
    const log: Array<[number, number, number]> = [];
    // Act
    const first = runFenced(table, objects, id, slow(0, 1_200, log), { lease });
    await sleep(100);
    const second = runFenced(table, objects, id, slow(1, 10, log), { lease });
    const outcomes = await Promise.all([first, second]);
    // Assess
    expect(outcomes.map((o) => o.conflicts)).toEqual([0, 0]);
    expect(log.map(([p]) => p)).toEqual([0, 1]);
    expect(overlaps(log)).toBe(0);
  });

  it('held by an attempt that died, blocks the state only until it expires', async () => {
    // Prepare: a holder that never renews nor releases.
    const id = sharedId('lease-dead');
    expect(await table.acquireLease(id, 'dead-attempt', 800)).toBe(true);
    const metrics = new MetricsCollector();
    const t0 = Date.now();
    // Act
    const outcome = await runFenced(table, objects, id, slow(0, 10, []), {
      metrics,
      lease: { ttlMs: 5_000 },
    });
    // Assess
    expect(outcome.committed).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(metrics.get('StateLeaseWaitMs', { consumer: 'windows' })).toBeGreaterThanOrEqual(700);
  });

  it('gives up after maxWaitMs with StateLeaseTimeoutError, having computed and written nothing', async () => {
    // Prepare
    const id = sharedId('lease-timeout');
    expect(await table.acquireLease(id, 'slow-attempt', 60_000)).toBe(true);
    const log: Array<[number, number, number]> = [];
    // Act / Assess
    await expect(
      runFenced(table, objects, id, slow(0, 10, log), { lease: { ttlMs: 5_000, maxWaitMs: 300 } }),
    ).rejects.toBeInstanceOf(StateLeaseTimeoutError);
    expect(log).toEqual([]);
    expect((await table.load(id)).version).toBe(0);
  });

  it('is freed when the attempt fails, so the next one does not wait for it to expire', async () => {
    // Prepare
    const id = sharedId('lease-failed');
    const metrics = new MetricsCollector();
    const failing: Compute<{ n: number }> = async () => {
      throw new InjectedDeath('compute failed');
    };
    // Act
    await expect(runFenced(table, objects, id, failing, { lease: { ttlMs: 60_000 } })).rejects.toBeInstanceOf(
      InjectedDeath,
    );
    const outcome = await runFenced(table, objects, id, slow(0, 10, []), {
      metrics,
      lease: { ttlMs: 60_000 },
    });
    // Assess
    expect(outcome.committed).toBe(true);
    expect(metrics.get('StateLeaseWaitMs', { consumer: 'windows' })).toBe(0);
  });
});

/** The real state table where, once, another writer moves the item right before an intent. */
class RacingIntents extends DynamoDbStateTable {
  private raced = false;
  override async beginIntent(id: StateId, v: number, keys: readonly string[]): Promise<number> {
    if (!this.raced) {
      this.raced = true;
      await super.beginIntent(id, v, []);
    }
    return super.beginIntent(id, v, keys);
  }
}
