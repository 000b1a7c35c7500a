import type { KafkaBatchResponse, LambdaKafkaEvent } from '../../core/index.ts';
import { CONSUMERS } from '../../pipeline/context.ts';
import { ingestBatch } from '../../pipeline/ingest.ts';
import { AttemptStateStore } from '../../state/attempt-state.ts';
import { runFenced } from '../../state/fenced.ts';
import { fresh, type IngestDeps, perPartition, stageContext } from './partitions.ts';

const NO_STATE = {} as const;

/**
 * ingest: raw → bronze. Stateless in content; with a state table (the processing stack gives it
 * one) fenced like the others, so a retry with other boundaries writes no row twice. Without one
 * (tests, tools), the bronze file of a batch is simply overwritten when the same batch is
 * redelivered, and a redelivery with different boundaries can leave overlapping bronze files.
 */
export async function ingest(deps: IngestDeps, event: LambdaKafkaEvent): Promise<KafkaBatchResponse> {
  const table = deps.table;
  return perPartition(deps, event, async (b) => {
    const batch = { topic: b.topic, partition: b.partition };
    if (table === undefined) {
      await ingestBatch(stageContext(deps, deps.objects, new AttemptStateStore({ fences: {} })), {
        ...batch,
        records: b.records,
      });
      return;
    }
    await runFenced<typeof NO_STATE>(
      table,
      deps.objects,
      { consumer: CONSUMERS.ingest, topic: b.topic, scope: String(b.partition) },
      async (loaded, out) => {
        const records = fresh(b.records, loaded.fences[String(b.partition)]);
        if (records.length === 0) return undefined;
        await ingestBatch(stageContext(deps, out, new AttemptStateStore(loaded)), { ...batch, records });
        return {
          state: NO_STATE,
          fences: { ...loaded.fences, [String(b.partition)]: records[records.length - 1]!.offset },
          sources: loaded.sources,
        };
      },
      { metrics: deps.metrics },
    );
  });
}
