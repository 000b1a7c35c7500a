/**
 * Per-key state kept in a store of its own (on AWS: the cep consumer's key states), written BEFORE
 * the stage's fenced commit (SPEC §5). An attempt that dies after writing some keys must not
 * change what its retry computes, so every item keeps two versions: the state after the last
 * records applied to the key (`applied`: the offset of the last one), and the state as it was
 * before the attempts that are not committed yet (`prev`, `prevApplied`).
 *
 * - {@link stateAsOf}: the state as of the partition's last committed offset: `state` when its
 *   `applied` is committed, else `prev` (a dead attempt's write is ignored).
 * - {@link nextVersion}: the item after an attempt applied records up to `applied`: `prev` moves
 *   forward only over a committed version, so however many attempts die in a row, `prev` stays
 *   the committed state.
 */

export interface Versioned<S> {
  readonly state: S;
  /** Offset of the last record applied to `state`. */
  readonly applied: number;
  /** The state before the uncommitted attempts (null: the key had none). */
  readonly prev: S | null;
  readonly prevApplied: number | null;
}

function isCommitted(offset: number | null, committed: number | null): boolean {
  return offset !== null && committed !== null && offset <= committed;
}

/** The key's state as of the last committed offset of its partition (null: none). */
export function stateAsOf<S>(item: Versioned<S> | undefined, committed: number | null): S | null {
  if (item === undefined) return null;
  if (isCommitted(item.applied, committed)) return item.state;
  return isCommitted(item.prevApplied, committed) ? item.prev : null;
}

/** The item to write after an attempt took the key to `state` with records up to `applied`. */
export function nextVersion<S>(
  item: Versioned<S> | undefined,
  state: S,
  applied: number,
  committed: number | null,
): Versioned<S> {
  const base = stateAsOf(item, committed);
  const baseApplied =
    item === undefined
      ? null
      : isCommitted(item.applied, committed)
        ? item.applied
        : isCommitted(item.prevApplied, committed)
          ? item.prevApplied
          : null;
  return { state, applied, prev: base, prevApplied: base === null ? null : baseApplied };
}
