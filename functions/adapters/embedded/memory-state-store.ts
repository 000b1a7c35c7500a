import {
  type FencedState,
  StaleFenceError,
  type StateKey,
  type StateStore,
  stateKeyId,
} from '../../ports/state-store.ts';

export interface MemoryStateStoreOptions {
  /**
   * `json` (default): states are kept as JSON text, so what comes back from `load` is a copy and a
   * state that is not plain JSON fails at `save`, as it would on DynamoDB (tests, fidelity).
   * `reference`: the object given to `save` is kept as is and handed back by `load`; for a run
   * whose stages hand over fresh snapshots (`snapshot()` builds a new object every time) and
   * that never reloads them: `tidewater run`, where serializing a million dedup ids at every
   * checkpoint only to drop them at exit measured about 5 % of the run.
   */
  readonly keep?: 'json' | 'reference';
}

/** `StateStore` in memory (embedded runs, tests); see {@link MemoryStateStoreOptions} for how states are kept. */
export class MemoryStateStore implements StateStore {
  private readonly items = new Map<string, { json?: string; state?: unknown; lastOffset: number }>();
  private readonly byReference: boolean;
  /** Saves accepted and refused, for tests and the run summary. */
  saves = 0;
  refused = 0;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.byReference = options.keep === 'reference';
  }

  async load<S>(key: StateKey): Promise<FencedState<S> | undefined> {
    const item = this.items.get(stateKeyId(key));
    if (item === undefined) return undefined;
    const state = item.json === undefined ? item.state : JSON.parse(item.json);
    return { state: state as S, lastOffset: item.lastOffset };
  }

  async save<S>(key: StateKey, next: FencedState<S>, expectedLastOffset: number | null): Promise<void> {
    const id = stateKeyId(key);
    const actual = this.items.get(id)?.lastOffset ?? null;
    if (actual !== expectedLastOffset || (actual !== null && next.lastOffset <= actual)) {
      this.refused++;
      throw new StaleFenceError(key, expectedLastOffset, actual);
    }
    this.items.set(
      id,
      this.byReference
        ? { state: next.state, lastOffset: next.lastOffset }
        : { json: JSON.stringify(next.state), lastOffset: next.lastOffset },
    );
    this.saves++;
  }

  /** Size of the stored state of a key, in bytes of JSON (undefined when none). */
  sizeOf(key: StateKey): number | undefined {
    const item = this.items.get(stateKeyId(key));
    if (item === undefined) return undefined;
    return item.json === undefined ? JSON.stringify(item.state).length : item.json.length;
  }
}
