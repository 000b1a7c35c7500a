import type { ParquetEncodeOptions } from '../adapters/parquet/index.ts';
import type { CepKeyState, Domain } from '../core/index.ts';
import type { AlertSink } from '../ports/alert-sink.ts';
import type { DeadLetterSink } from '../ports/dead-letter-sink.ts';
import type { DedupStore } from '../ports/dedup-store.ts';
import type { KeyStateStore } from '../ports/key-state-store.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { StateStore } from '../ports/state-store.ts';
import type { TableWrites } from './write-pool.ts';

/**
 * What a stage needs from the outside world: the domain, and the ports it writes through. Build
 * it once per process (a Lambda module scope, or one embedded run) and pass it to every stage.
 */
export interface StageContext {
  readonly domain: Domain;
  /** The lakehouse root: keys `bronze/...`, `silver/...`, `gold/...`, `ops/...`. */
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly metrics: Metrics;
  /** Needed by the enrich stage. */
  readonly deadLetters?: DeadLetterSink;
  /**
   * Where the enrich stage remembers event ids (AWS: the partition's hashed seen-set). When absent, the
   * ids are part of the enrich state (a core `Deduplicator`, saved with the fence). @default in state
   */
  readonly dedup?: DedupStore;
  /**
   * Where the cep stage keeps its key states (AWS: the partition's key states, partition-owned). When
   * absent they are part of the cep state. @default in state
   */
  readonly cepKeys?: KeyStateStore<CepKeyState>;
  /** Used by the cep stage when given (besides `gold/alerts`). */
  readonly alerts?: AlertSink;
  /** Wall clock for bronze `ingest_ts`, `processed_at` and alerts' `detected_at`. @default Date.now */
  readonly clock?: () => number;
  /** Parquet options of every file written. @default zstd, one row group per file */
  readonly parquet?: ParquetEncodeOptions;
  /**
   * Deferred Parquet writes (embedded runs: a worker pool). When given, `writeRows` queues the rows
   * and returns; each stage drains it before saving its state (outputs before state, SPEC §5), and
   * the objects are listed by `writes.objects`. @default inline writes
   */
  readonly writes?: TableWrites;
}

/** Consumer names: the `consumer` of each stage's state key, and the Lambda functions on AWS. */
export const CONSUMERS = {
  ingest: 'ingest',
  enrich: 'enrich',
  windows: 'windows',
  cep: 'cep',
} as const;
