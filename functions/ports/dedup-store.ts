/**
 * Where the enrich stage remembers the event ids it has seen, when they are not part of its state
 * (SPEC §2 silver: de-duplicated by event_id).
 *
 * Embedded runs keep them in the stage state (a core `Deduplicator`, saved with the fence). On AWS
 * that state would hold every id of the retention period and be rewritten at every commit (tens of
 * MB per invocation at production rates), so the AWS adapter keeps one small item per id instead
 * (`functions/adapters/aws/dynamodb-dedup.ts`) and the stage state keeps only the fence.
 *
 * Every adapter decides with the core's `decideDuplicates` (the rule is documented there). Records
 * are told apart by offset, so asking again for records already answered (a retried or bisected
 * batch) gives the same answers: the store needs no transaction with the state commit.
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
