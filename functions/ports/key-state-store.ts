import type { Versioned } from '../core/index.ts';

/**
 * Where a stage keeps per-key state in items of their own instead of in its one state item (on
 * AWS: the CEP keys, one DynamoDB item each with a TTL, SPEC §4). Items are written before the
 * stage's fenced commit and carry two versions (`Versioned`, core), so a dead attempt's writes
 * never change what its retry computes. Embedded runs keep the keys in the stage state instead.
 */
export interface KeyStateStore<S> {
  /** The stored items of `keys` in one partition (a key without an item is absent). */
  load(
    at: { readonly topic: string; readonly partition: number },
    keys: readonly string[],
  ): Promise<Map<string, Versioned<S>>>;
  /** Writes `items` (each replaces the key's item). */
  save(
    at: { readonly topic: string; readonly partition: number },
    items: ReadonlyMap<string, Versioned<S>>,
  ): Promise<void>;
}
