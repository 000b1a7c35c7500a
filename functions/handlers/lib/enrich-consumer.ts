import {
  DedupDelta,
  type HashedDedupSet,
  idHash,
  type KafkaBatchResponse,
  type LambdaKafkaEvent,
} from '../../core/index.ts';
import { BATCH_QUALITY } from '../../lakehouse/quality.ts';
import { CONSUMERS } from '../../pipeline/context.ts';
import { EnrichStage } from '../../pipeline/enrich.ts';
import { batchQualityRow } from '../../pipeline/quality.ts';
import type { DedupStore } from '../../ports/dedup-store.ts';
import { AttemptStateStore } from '../../state/attempt-state.ts';
import { dedupCodec } from '../../state/codecs.ts';
import {
  deferRows,
  type EnrichDeps,
  flushOutboxes,
  perPartition,
  runOnState,
  stageContext,
} from './partitions.ts';

/**
 * The partition's hashed seen-set as the enrich stage's `DedupStore`: each new id is remembered in
 * the set and in the batch's delta (the set is the attempt's: the backend drops it unless the
 * attempt commits, so no id of a failed attempt is remembered).
 */
function partitionDedup(set: HashedDedupSet, delta: DedupDelta): DedupStore {
  return {
    async duplicates(_at, candidates) {
      return candidates.map((c) => {
        const h = idHash(c.id);
        if (set.isDuplicate(h, c.ts)) return true;
        delta.add(h, c.ts);
        return false;
      });
    },
  };
}

/**
 * enrich: raw → silver + dead letters + enriched topic + ops/batch_quality. State: the partition's
 * seen event ids (hashed, hour buckets; `core/dedup-hashes.ts`) on the partition state backend,
 * and its deferred batch quality rows (the outbox; {@link flushEnrich} writes them at a run's end).
 */
export async function enrich(deps: EnrichDeps, event: LambdaKafkaEvent): Promise<KafkaBatchResponse> {
  const codec = dedupCodec(deps.domain);
  return perPartition(deps, event, async (b) => {
    await runOnState(
      deps,
      { consumer: CONSUMERS.enrich, topic: b.topic, scope: String(b.partition) },
      codec,
      async ({ loaded, state, out, outbox }) => {
        const store = new AttemptStateStore(loaded);
        const delta = new DedupDelta();
        const ctx = stageContext(deps, out, store, { dedup: partitionDedup(state, delta) });
        // The events are published and let go with the batch: their strings need not be copied
        // out of the record texts.
        const stage = await EnrichStage.open(
          ctx,
          { topic: b.topic, partition: b.partition },
          { copyStrings: false },
        );
        const r = await stage.apply({ topic: b.topic, partition: b.partition, records: b.records });
        if (r.range === undefined) return undefined;
        const quality = batchQualityRow(r.range, {
          records: r.records,
          valid: r.silverRows,
          poison: r.deadLettered,
          duplicates: r.duplicates,
          late: 0,
          batchTs: r.maxKafkaTs,
        });
        // One quality row per batch: deferred in the partition's outbox, written about once a minute.
        const deferred = await deferRows(ctx, outbox, [{ schema: BATCH_QUALITY, rows: [quality] }], r.range);
        // Outputs before state: the events reach the enriched topic before the fence moves.
        await deps.enriched.publish(r.forward);
        await stage.commit();
        return {
          delta: delta.toBytes(),
          ...(deferred.change === undefined ? {} : { outbox: deferred.change }),
          fences: { ...loaded.fences, [String(b.partition)]: store.savedOffset('enrich') },
          sources: loaded.sources,
        };
      },
    );
  });
}

/** Writes the batch quality rows every partition of `topic` holds deferred (the end of a run). */
export async function flushEnrich(
  deps: EnrichDeps,
  topic: string,
  partitions: readonly number[],
): Promise<number> {
  return flushOutboxes(deps, CONSUMERS.enrich, dedupCodec(deps.domain), topic, partitions, [BATCH_QUALITY]);
}
