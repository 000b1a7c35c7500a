/**
 * The fenced attempt (`functions/state/fenced.ts`) on the emulator's DynamoDB and S3, with
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
import { type Compute, runFenced } from '../../functions/state/fenced.ts';
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
    const id: StateId = { consumer: 'windows', topic: `race-${randomUUID()}`, scope: '0' };
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
