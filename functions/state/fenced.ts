/**
 * One fenced attempt of a consumer over one state record: the effectively-once protocol (SPEC §5).
 *
 * 1. `load`: version `v`, fences, state, and a leftover `intent` if an earlier attempt died.
 * 2. Compute the batch from that state (records at or below the fences are skipped). Outputs are
 *    buffered; side effects that are idempotent by id (dead letters by coordinates, enriched
 *    events by source offset, alerts by alert_id) go out now.
 * 3. `beginIntent(v)`: conditional on `v`, records the attempt's output keys (state objects
 *    included), plus the leftover intent's keys it does not overwrite (so a death at step 4
 *    forgets nothing) → `v+1`.
 * 4. Delete those leftover keys: a retried batch can have different boundaries (bisect, partial
 *    batch response), so a dead attempt's files, named by their first/last offsets, and its state
 *    delta would otherwise survive beside the retry's.
 * 5. Write the outputs (deterministic keys), THEN
 * 6. `commit(v+1)`: conditional on `v+1`, the new state and fences in the same write, intent
 *    cleared → `v+2`.
 * An attempt with nothing new to apply deletes a leftover intent's keys first and clears the
 * intent (`clearIntent(v)`) after: in the other order, a death in between leaves orphans.
 * A failed condition at 3 or 6 (`StateConflictError`) means another invocation moved the record:
 * with partition-owned state only a zombie attempt of the same partition (a timed-out invocation
 * still running beside its retry) can do that. The attempt deletes its own outputs, reloads and
 * recomputes. Writes are coalesced: one intent and one commit per state per invocation, whatever
 * the number of records.
 *
 * Throttling is retried by the table adapter; a write that still fails fails the batch, which is
 * redelivered: never dropped.
 */
import { sleep } from '../adapters/aws/retry.ts';
import type { Metrics } from '../ports/metrics.ts';
import { BufferedObjectStore } from './buffered-objects.ts';
import {
  type FencedTable,
  type ObjectStoreWithDelete,
  StateConflictError,
  type StateId,
  type StateRecord,
  type StateUpdate,
} from './table.ts';

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
  /** The record's version after the attempt (its commit, or what was loaded when nothing was new). */
  readonly version: number;
}

export interface RunFencedOptions {
  /** Conflicts tolerated before giving up (the batch then fails and is redelivered). @default 50 */
  readonly maxConflicts?: number;
  /** Counts every conflict as `StateConflicts` (dimension `consumer`). */
  readonly metrics?: Metrics;
}

export async function runFenced<St>(
  table: FencedTable,
  objects: ObjectStoreWithDelete,
  id: StateId,
  compute: Compute<St>,
  options: RunFencedOptions = {},
): Promise<FencedOutcome> {
  const maxConflicts = options.maxConflicts ?? 50;
  const conflicted = (): void => options.metrics?.count('StateConflicts', 1, { consumer: id.consumer });
  // Zero is a measurement too: the series exists (a flat line on the dashboard) before any conflict.
  options.metrics?.count('StateConflicts', 0, { consumer: id.consumer });
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
      let version = loaded.version;
      if (loaded.intent !== undefined) {
        if (loaded.intent.keys.length > 0) await objects.delete(loaded.intent.keys);
        try {
          await table.clearIntent(id, loaded.version);
          version++;
        } catch (err) {
          if (err instanceof StateConflictError) {
            conflicted();
            continue;
          }
          throw err;
        }
      }
      return { committed: false, keys: [], conflicts, version };
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
    return { committed: true, keys, conflicts, version: version + 1 };
  }
}
