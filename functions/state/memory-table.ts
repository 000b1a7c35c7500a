import type { ObjectStore } from '../ports/object-store.ts';
import {
  type FencedTable,
  NO_RECORD,
  type ObjectStoreWithDelete,
  StateConflictError,
  type StateId,
  type StateRecord,
  type StateUpdate,
  stateIdString,
} from './table.ts';

/**
 * {@link FencedTable} in memory, with the DynamoDB adapter's semantics (version conditions,
 * intent, commit clears the intent). States are kept as JSON text, so a caller can never change a
 * stored state through a reference. `reads` and `writes` count the requests, as the bench does.
 */
export class MemoryFencedTable implements FencedTable {
  private readonly items = new Map<string, { version: number; json: string }>();
  reads = 0;
  writes = 0;

  async load<S>(id: StateId): Promise<StateRecord<S>> {
    this.reads++;
    const item = this.items.get(stateIdString(id));
    if (item === undefined) {
      return NO_RECORD;
    }
    return JSON.parse(item.json) as StateRecord<S>;
  }

  private current(id: StateId): StateRecord<unknown> | undefined {
    const item = this.items.get(stateIdString(id));
    return item === undefined ? undefined : (JSON.parse(item.json) as StateRecord<unknown>);
  }

  private check(id: StateId, expected: number): StateRecord<unknown> | undefined {
    this.writes++;
    const now = this.current(id);
    if ((now?.version ?? 0) !== expected) throw new StateConflictError(id, expected);
    return now;
  }

  private store(id: StateId, record: StateRecord<unknown>): void {
    this.items.set(stateIdString(id), { version: record.version, json: JSON.stringify(record) });
  }

  async beginIntent(id: StateId, expectedVersion: number, keys: readonly string[]): Promise<number> {
    const now = this.check(id, expectedVersion);
    const next = expectedVersion + 1;
    this.store(id, {
      version: next,
      fences: now?.fences ?? {},
      sources: now?.sources ?? {},
      state: now?.state,
      intent: { keys: [...keys], at: Date.now() },
      stateRef: now?.stateRef,
    });
    return next;
  }

  async commit<S>(id: StateId, expectedVersion: number, update: StateUpdate<S>): Promise<void> {
    this.check(id, expectedVersion);
    this.store(id, {
      version: expectedVersion + 1,
      fences: update.fences,
      sources: update.sources,
      state: update.state,
      intent: undefined,
      stateRef: undefined,
    });
  }

  async clearIntent(id: StateId, expectedVersion: number): Promise<void> {
    const now = this.check(id, expectedVersion);
    this.store(id, {
      version: expectedVersion + 1,
      fences: now?.fences ?? {},
      sources: now?.sources ?? {},
      state: now?.state,
      intent: undefined,
      stateRef: now?.stateRef,
    });
  }
}

/** An object store in memory (copies in and out), counting puts, gets and deletes. */
export class MemoryObjectStore implements ObjectStoreWithDelete, ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  puts = 0;
  gets = 0;
  deletes = 0;

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.puts++;
    this.objects.set(key, Uint8Array.from(bytes));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.gets++;
    const b = this.objects.get(key);
    return b === undefined ? undefined : Uint8Array.from(b);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const k of keys) {
      this.deletes++;
      this.objects.delete(k);
    }
  }
}
