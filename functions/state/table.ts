/**
 * The port of the commit point: one fenced, versioned record per state (SPEC §5). On AWS it is an
 * item of the DynamoDB state table (`functions/adapters/aws/dynamodb-state.ts`); in tests,
 * {@link MemoryFencedTable} (`memory-table.ts`), so the protocol in `fenced.ts` and the partition
 * state backend in `partition-state.ts` are unit-tested without the emulator.
 *
 * A record holds a version (incremented by every write: optimistic concurrency), the last applied
 * offset per consumed partition (`fences`), per source partition (`sources`), the stage state
 * (small: since partition-owned state, a manifest of S3 objects) and the output keys of an attempt
 * that has not committed yet (`intent`).
 */
import type { ObjectStore } from '../ports/object-store.ts';

export interface StateId {
  readonly consumer: string;
  readonly topic: string;
  /** A partition number. */
  readonly scope: string;
}

export interface Intent {
  readonly keys: readonly string[];
  /** Epoch ms of `beginIntent`. */
  readonly at: number;
}

export interface StateRecord<S> {
  /** 0 when the record does not exist. */
  readonly version: number;
  readonly fences: Readonly<Record<string, number>>;
  readonly sources: Readonly<Record<string, number>>;
  readonly state: S | undefined;
  readonly intent: Intent | undefined;
  /** S3 key of a spilled state (the layout before partition-owned state), if any. */
  readonly stateRef: string | undefined;
}

/** The record of a state never written (version 0). */
export const NO_RECORD: StateRecord<never> = {
  version: 0,
  fences: {},
  sources: {},
  state: undefined,
  intent: undefined,
  stateRef: undefined,
};

export interface StateUpdate<S> {
  readonly state: S;
  readonly fences: Readonly<Record<string, number>>;
  readonly sources: Readonly<Record<string, number>>;
}

/** The record moved since it was loaded: reload and recompute. */
export class StateConflictError extends Error {
  readonly id: StateId;
  readonly expectedVersion: number;
  constructor(id: StateId, expectedVersion: number) {
    super(`state ${stateIdString(id)} changed since version ${expectedVersion} was loaded`);
    this.name = 'StateConflictError';
    this.id = id;
    this.expectedVersion = expectedVersion;
  }
}

export function stateIdString(id: StateId): string {
  return `${id.consumer}/${id.topic}/${id.scope}`;
}

/** The four storage primitives the fenced protocol needs (each write conditional on the version). */
export interface FencedTable {
  load<S>(id: StateId): Promise<StateRecord<S>>;
  /** Records an attempt's output keys; returns the new version. Throws StateConflictError. */
  beginIntent(id: StateId, expectedVersion: number, keys: readonly string[]): Promise<number>;
  /** Writes state and fences and clears the intent. Throws StateConflictError. */
  commit<S>(
    id: StateId,
    expectedVersion: number,
    update: StateUpdate<S>,
    previousRef?: string,
  ): Promise<void>;
  /** Drops a leftover intent whose keys were deleted. Throws StateConflictError. */
  clearIntent(id: StateId, expectedVersion: number): Promise<void>;
}

/** An object store that can also delete (S3, the memory store of tests). */
export interface ObjectStoreWithDelete extends ObjectStore {
  delete(keys: readonly string[]): Promise<void>;
}
