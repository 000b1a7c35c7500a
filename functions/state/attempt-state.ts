import { type FencedState, StaleFenceError, type StateKey, type StateStore } from '../ports/state-store.ts';
import type { StateRecord } from './table.ts';

/**
 * The `StateStore` a pipeline stage sees during one attempt: `load` answers from the loaded
 * record (its fence, and the stage state given here), `save` captures the new state (the real
 * conditional write is the attempt's commit, `fenced.ts`).
 */
export class AttemptStateStore<St> implements StateStore {
  private readonly fences: Readonly<Record<string, number>>;
  private readonly state: St | undefined;
  saved: FencedState<St> | undefined;

  constructor(loaded: Pick<StateRecord<unknown>, 'fences'>, state?: St) {
    this.fences = loaded.fences;
    this.state = state;
  }

  async load<T>(key: StateKey): Promise<FencedState<T> | undefined> {
    const fence = this.fences[String(key.partition)];
    if (fence === undefined) return undefined;
    return { state: this.state as unknown as T, lastOffset: fence };
  }

  async save<T>(key: StateKey, next: FencedState<T>, expectedLastOffset: number | null): Promise<void> {
    const fence = this.fences[String(key.partition)] ?? null;
    if (fence !== expectedLastOffset) throw new StaleFenceError(key, expectedLastOffset, fence);
    this.saved = next as unknown as FencedState<St>;
  }

  /** The offset the stage saved: the new fence of its partition. */
  savedOffset(stage: string): number {
    if (this.saved === undefined) throw new Error(`${stage}: the stage did not save its state`);
    return this.saved.lastOffset;
  }
}
