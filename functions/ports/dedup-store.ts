/**
 * Where the enrich stage remembers the event ids it has seen, when they are not part of its state
 * (SPEC §2 silver: de-duplicated by event_id).
 *
 * Embedded runs keep them in the stage state (a core `Deduplicator`, saved with the fence). The AWS
 * consumer answers from its partition-owned seen-set (core `HashedDedupSet`, the same rule, on the
 * partition state backend: `functions/handlers/lib/enrich-consumer.ts`), so the stage state keeps
 * only the fence. The set the consumer asks is the attempt's own: a failed attempt remembers nothing.
 */
import type { DedupCandidate } from '../core/index.ts';

export type { DedupCandidate } from '../core/index.ts';

export interface DedupStore {
  /**
   * For each candidate (in offset order, of one partition), true when it is a duplicate; the
   * others are remembered before this resolves.
   * @param committed the partition's last committed offset (null: none): older occurrences can go
   */
  duplicates(
    at: { readonly topic: string; readonly partition: number },
    candidates: readonly DedupCandidate[],
    committed: number | null,
  ): Promise<boolean[]>;
}
