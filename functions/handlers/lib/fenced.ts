import {
  type DynamoDbStateTable,
  StateConflictError,
  type StateId,
  type StateRecord,
  type StateUpdate,
} from '../../adapters/aws/dynamodb-state.ts';
import { sleep } from '../../adapters/aws/retry.ts';
import type { Metrics } from '../../ports/metrics.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import {
  type FencedState,
  StaleFenceError,
  type StateKey,
  type StateStore,
} from '../../ports/state-store.ts';
import { BufferedObjectStore } from './buffered-objects.ts';

/**
 * One fenced attempt of a consumer over one state item — the effectively-once protocol whose full
 * design is in `functions/adapters/aws/dynamodb-state.ts`: load → compute (outputs buffered) →
 * record the outputs as intent → delete a dead attempt's leftover outputs → write outputs →
 * commit state + fences (conditional), retrying the whole attempt when the item moved.
 */
export interface ObjectStoreWithDelete extends ObjectStore {
  delete(keys: readonly string[]): Promise<void>;
}

export type Compute<St> = (
  loaded: StateRecord<St>,
  out: BufferedObjectStore,
) => Promise<StateUpdate<St> | undefined>;

export interface FencedOutcome {
  /** False when every record had been applied already (nothing written). */
  readonly committed: boolean;
  /** Keys written by the committed attempt. */
  readonly keys: readonly string[];
  /** Attempts that lost a race and were redone. */
  readonly conflicts: number;
}

export interface RunFencedOptions {
  /** Conflicts tolerated before giving up (the batch then fails and is redelivered). @default 50 */
  readonly maxConflicts?: number;
  /** Counts every conflict as `StateConflicts` (dimension `consumer`: the state's consumer). */
  readonly metrics?: Metrics;
}

export async function runFenced<St>(
  table: DynamoDbStateTable,
  objects: ObjectStoreWithDelete,
  id: StateId,
  compute: Compute<St>,
  options: RunFencedOptions = {},
): Promise<FencedOutcome> {
  const maxConflicts = options.maxConflicts ?? 50;
  const conflicted = (): void => options.metrics?.count('StateConflicts', 1, { consumer: id.consumer });
  for (let conflicts = 0; ; conflicts++) {
    if (conflicts > maxConflicts) {
      throw new Error(
        `state ${id.consumer}/${id.topic}/${id.scope}: gave up after ${maxConflicts} write conflicts`,
      );
    }
    if (conflicts > 0) await sleep(Math.floor(Math.random() * Math.min(500, 10 * 2 ** conflicts)));
    const loaded = await table.load<St>(id);
    const out = new BufferedObjectStore(objects);
    const update = await compute(loaded, out);
    if (update === undefined) {
      // Nothing new. A leftover intent is a dead (or superseded) attempt's: remove its outputs,
      // THEN forget them. The other order leaves orphans when the attempt dies in between.
      if (loaded.intent !== undefined) {
        if (loaded.intent.keys.length > 0) await objects.delete(loaded.intent.keys);
        try {
          await table.clearIntent(id, loaded.version);
        } catch (err) {
          if (err instanceof StateConflictError) {
            conflicted();
            continue;
          }
          throw err;
        }
      }
      return { committed: false, keys: [], conflicts };
    }
    const keys = out.keys();
    // A leftover intent's keys that this attempt does not overwrite stay in the new intent until
    // the commit clears it: if this attempt dies before it has deleted them, the next one still
    // knows them (replacing the intent with only this attempt's keys made them orphans).
    const mine = new Set(keys);
    const stale = loaded.intent?.keys.filter((k) => !mine.has(k)) ?? [];
    let version: number;
    try {
      version = await table.beginIntent(id, loaded.version, [...keys, ...stale]);
    } catch (err) {
      if (err instanceof StateConflictError) {
        conflicted();
        continue;
      }
      throw err;
    }
    if (stale.length > 0) await objects.delete(stale);
    await out.flush();
    try {
      await table.commit(id, version, update, loaded.stateRef);
    } catch (err) {
      if (err instanceof StateConflictError) {
        conflicted();
        await objects.delete(keys).catch(() => undefined);
        continue;
      }
      throw err;
    }
    return { committed: true, keys, conflicts };
  }
}

/**
 * The `StateStore` a pipeline stage sees during one attempt: `load` answers from the loaded
 * record, `save` captures the new state (the real conditional write is `runFenced`'s commit).
 */
export class AttemptStateStore<St> implements StateStore {
  private readonly loaded: StateRecord<St>;
  saved: FencedState<St> | undefined;

  constructor(loaded: StateRecord<St>) {
    this.loaded = loaded;
  }

  async load<T>(key: StateKey): Promise<FencedState<T> | undefined> {
    const fence = this.loaded.fences[String(key.partition)];
    if (fence === undefined) return undefined;
    return { state: this.loaded.state as unknown as T, lastOffset: fence };
  }

  async save<T>(key: StateKey, next: FencedState<T>, expectedLastOffset: number | null): Promise<void> {
    const fence = this.loaded.fences[String(key.partition)] ?? null;
    if (fence !== expectedLastOffset) throw new StaleFenceError(key, expectedLastOffset, fence);
    this.saved = next as unknown as FencedState<St>;
  }
}
