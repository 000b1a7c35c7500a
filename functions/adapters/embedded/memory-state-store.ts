import {
  type FencedState,
  StaleFenceError,
  type StateKey,
  type StateStore,
  stateKeyId,
} from '../../ports/state-store.ts';

/**
 * `StateStore` in memory (embedded runs, tests). States are kept as JSON text, so what comes back
 * from `load` is a copy and a state that is not plain JSON fails at `save`, as it would on DynamoDB.
 */
export class MemoryStateStore implements StateStore {
  private readonly items = new Map<string, { json: string; lastOffset: number }>();
  /** Saves accepted and refused, for tests and the run summary. */
  saves = 0;
  refused = 0;

  async load<S>(key: StateKey): Promise<FencedState<S> | undefined> {
    const item = this.items.get(stateKeyId(key));
    if (item === undefined) return undefined;
    return { state: JSON.parse(item.json) as S, lastOffset: item.lastOffset };
  }

  async save<S>(key: StateKey, next: FencedState<S>, expectedLastOffset: number | null): Promise<void> {
    const id = stateKeyId(key);
    const actual = this.items.get(id)?.lastOffset ?? null;
    if (actual !== expectedLastOffset || (actual !== null && next.lastOffset <= actual)) {
      this.refused++;
      throw new StaleFenceError(key, expectedLastOffset, actual);
    }
    this.items.set(id, { json: JSON.stringify(next.state), lastOffset: next.lastOffset });
    this.saves++;
  }

  /** Size of the stored state of a key, in bytes of JSON (undefined when none). */
  sizeOf(key: StateKey): number | undefined {
    return this.items.get(stateKeyId(key))?.json.length;
  }
}
