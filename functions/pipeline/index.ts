/**
 * The pipeline stages (SPEC §2-§5), shared by the embedded run and the Lambda consumers:
 *
 * | stage | consumes | writes | state |
 * | --- | --- | --- | --- |
 * | {@link ingestBatch} | raw topic | `bronze/raw_events` | none |
 * | {@link EnrichStage} | raw topic | `silver/events`, dead letters; forwards events | dedup |
 * | {@link WindowsStage} | enriched events | `gold/window_*`, `gold/sessions`, `gold/late_events` | windows |
 * | {@link CepStage} | enriched events | `gold/alerts`, alert sink | CEP |
 *
 * A stateful stage is opened per (topic, partition), applies batches in offset order, and commits
 * (outputs first, then the state, fenced by the last applied offset). {@link runPipeline} chains
 * all four in one process.
 */
export { type CepApplyResult, type CepCommitResult, CepStage } from './cep.ts';
export { type ConservationInput, type ConservationResult, checkConservation } from './conservation.ts';
export { CONSUMERS, type StageContext } from './context.ts';
export { type EnrichResult, EnrichStage } from './enrich.ts';
export {
  decodeEnrichedRecord,
  type EnrichedRecord,
  EnrichedRecordError,
  encodeEnrichedEvent,
  SOURCE_HEADER,
} from './enriched.ts';
export type { EventBatch } from './events.ts';
export { Fence } from './fence.ts';
export { type IngestResult, ingestBatch } from './ingest.ts';
export { type PipelineOptions, type RunProgress, type RunResult, runPipeline } from './pipeline.ts';
export { type BatchCounts, batchQualityRow } from './quality.ts';
export { type WindowsApplyResult, type WindowsCommitResult, WindowsStage } from './windows.ts';
export { emptyWritten, flushWrites, type Written, writeRows } from './write.ts';
export {
  defaultParquetWorkers,
  ParquetWritePool,
  type ParquetWritePoolOptions,
  type TableWrites,
} from './write-pool.ts';
