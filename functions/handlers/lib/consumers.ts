/**
 * The four consumers as plain functions of (dependencies, Lambda Kafka event) → partial batch
 * response, one file each; the exported Lambda handlers (`../ingest.ts`, ...) are these wrapped in
 * middy with Powertools, and tests and the local event source mapping call them with their own
 * dependencies. What they share (dependencies, grouping by partition, the per-partition lifecycle,
 * enriched-record decoding) is in `partitions.ts`; their state is partition-owned
 * (`functions/state/partition-state.ts`).
 */
import { type KafkaBatchResponse, type LambdaKafkaEvent, parsePartitionId } from '../../core/index.ts';
import { cep, flushCep } from './cep-consumer.ts';
import { enrich, flushEnrich } from './enrich-consumer.ts';
import { ingest } from './ingest-consumer.ts';
import type { CepDeps, DepsByConsumer, EnrichDeps, WindowsDeps } from './partitions.ts';
import { flushWindows, windows } from './windows-consumer.ts';

export type { KafkaBatchResponse } from '../../core/index.ts';
export { cep, flushCep } from './cep-consumer.ts';
export { enrich, flushEnrich } from './enrich-consumer.ts';
export { ingest } from './ingest-consumer.ts';
export {
  type BaseDeps,
  byPartition,
  type CepDeps,
  type DepsByConsumer,
  type EnrichDeps,
  type EnrichedPublisher,
  type IngestDeps,
  parseSource,
  type StatefulDeps,
  type WindowsDeps,
} from './partitions.ts';
export { flushWindows, ownerOf, partialPrefix, windows, windowsStateId } from './windows-consumer.ts';

/**
 * Ends a run the way embedded runs end: enrich and cep write the rows their partitions hold
 * deferred (batch quality, gold alerts), then the windows consumer flushes its engines and
 * merges (`flushWindows`), which also writes its deferred late rows. The raw partitions are the
 * windows consumer's `sourcePartitions`.
 */
export async function flushRun(
  deps: { readonly enrich: EnrichDeps; readonly windows: WindowsDeps; readonly cep: CepDeps },
  topics: { readonly raw: string; readonly enriched: string },
): Promise<void> {
  const ids = await deps.windows.sourcePartitions();
  const partitions = ids.flatMap((id) => {
    const p = parsePartitionId(id);
    return p === undefined ? [] : [p.partition];
  });
  await flushEnrich(deps.enrich, topics.raw, partitions);
  // The enriched topic has as many partitions as the raw one (the enrich stage keeps partitions).
  await flushCep(deps.cep, topics.enriched, partitions);
  await flushWindows(deps.windows, topics.enriched);
}

/** Runs consumer `consumer` on `event` with its own dependencies out of `deps`. */
export function runConsumer(
  deps: DepsByConsumer,
  consumer: keyof DepsByConsumer,
  event: LambdaKafkaEvent,
): Promise<KafkaBatchResponse> {
  switch (consumer) {
    case 'ingest':
      return ingest(deps.ingest, event);
    case 'enrich':
      return enrich(deps.enrich, event);
    case 'windows':
      return windows(deps.windows, event);
    case 'cep':
      return cep(deps.cep, event);
  }
}
