import type { Versioned } from '../core/index.ts';

/**
 * Where a stage keeps per-key state outside its one state record: on AWS the cep consumer's
 * partition-owned key states (`functions/handlers/lib/cep-consumer.ts`), loaded for the keys of a
 * batch and saved for the keys it changed, which become the batch's state delta. Items carry two
 * versions (`Versioned`, core) so a store written before the fenced commit never changes what a
 * retry computes; the partition state backend drops a failed attempt's changes altogether.
 * Embedded runs keep the keys in the stage state instead.
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
