import type { SourceRange } from '../adapters/parquet/partition.ts';
import type { StateKey, StateStore } from '../ports/state-store.ts';

/**
 * The offset bookkeeping every stateful stage shares (SPEC §5): what was committed, what was
 * applied since, and which records of a (re)delivered batch are new.
 *
 * - `open` loads the state and its fence (the last committed offset).
 * - `fresh` keeps the records of a batch whose offset is past everything applied: a redelivered
 *   batch (or its already-applied head) is skipped, so it changes nothing twice.
 * - `commit` saves the state with the last applied offset, conditional on the fence loaded, and
 *   refuses (StaleFenceError) when someone else committed in between.
 */
export class Fence<S> {
  readonly key: StateKey;
  private readonly store: StateStore;
  private committed: number | null;
  private applied: number | null;
  private pendingFirst: number | null = null;

  private constructor(store: StateStore, key: StateKey, committed: number | null) {
    this.store = store;
    this.key = key;
    this.committed = committed;
    this.applied = committed;
  }

  /** Loads the stored state of `key` (undefined when none) and its fence. */
  static async open<S>(store: StateStore, key: StateKey): Promise<{ fence: Fence<S>; state: S | undefined }> {
    const stored = await store.load<S>(key);
    return { fence: new Fence<S>(store, key, stored?.lastOffset ?? null), state: stored?.state };
  }

  /** Last offset whose effect is in the live state (committed or not); null before any. */
  get lastApplied(): number | null {
    return this.applied;
  }

  /** Last offset committed to the store; null before any. */
  get lastCommitted(): number | null {
    return this.committed;
  }

  /** The items with an offset past the last applied one (all of them on a first delivery). */
  fresh<T extends { readonly offset: number }>(items: readonly T[]): readonly T[] {
    const applied = this.applied;
    if (applied === null) return items;
    let i = 0;
    while (i < items.length && items[i]!.offset <= applied) i++;
    return i === 0 ? items : items.slice(i);
  }

  /**
   * Marks `range` as applied (only the part past the last applied offset counts) and returns that
   * part, or undefined when the whole range had been applied already.
   */
  apply(range: SourceRange): SourceRange | undefined {
    const applied = this.applied;
    if (applied !== null && range.lastOffset <= applied) return undefined;
    const first = applied === null ? range.firstOffset : Math.max(range.firstOffset, applied + 1);
    if (this.pendingFirst === null) this.pendingFirst = first;
    this.applied = range.lastOffset;
    return { ...range, firstOffset: first };
  }

  /** Offsets applied since the last commit (undefined when none): the name of buffered outputs. */
  pending(): SourceRange | undefined {
    if (this.pendingFirst === null || this.applied === null) return undefined;
    return {
      topic: this.key.topic,
      partition: this.key.partition,
      firstOffset: this.pendingFirst,
      lastOffset: this.applied,
    };
  }

  /** Saves `state` fenced by the last committed offset; a no-op when nothing was applied since. */
  async commit(state: () => S): Promise<void> {
    if (this.pendingFirst === null || this.applied === null) return;
    await this.store.save(this.key, { state: state(), lastOffset: this.applied }, this.committed);
    this.committed = this.applied;
    this.pendingFirst = null;
  }
}
