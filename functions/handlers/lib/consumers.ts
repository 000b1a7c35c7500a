/**
 * The four consumers as plain functions of (dependencies, Lambda Kafka event) → partial batch
 * response, one file each; the exported Lambda handlers (`../ingest.ts`, ...) are these wrapped in
 * middy with Powertools, and tests and the local event source mapping call them with their own
 * dependencies. What they share (dependencies, grouping by partition, the per-partition lifecycle,
 * enriched-record decoding) is in `partitions.ts`; their state is partition-owned
 * (`functions/state/partition-state.ts`).
 */
export type { KafkaBatchResponse } from '../../core/index.ts';
export { cep } from './cep-consumer.ts';
export { enrich } from './enrich-consumer.ts';
export { ingest } from './ingest-consumer.ts';
export { byPartition, type ConsumerDeps, type EnrichedPublisher, parseSource } from './partitions.ts';
export { flushWindows, ownerOf, partialPrefix, windows, windowsStateId } from './windows-consumer.ts';
