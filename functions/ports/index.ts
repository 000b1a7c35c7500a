/**
 * The ports: small interfaces the pipeline stages talk through. Embedded adapters live in
 * `functions/adapters/embedded/`; the AWS ones implement the same interfaces.
 */
export type { AlertSink } from './alert-sink.ts';
export type { DeadLetterSink } from './dead-letter-sink.ts';
export type { DedupCandidate, DedupStore } from './dedup-store.ts';
export { batchRange, type EventSource, type SourceBatch, type SourceRecord } from './event-source.ts';
export type { KeyStateStore } from './key-state-store.ts';
export { type Layer, type MetricDimensions, type MetricName, type Metrics, NO_METRICS } from './metrics.ts';
export type { ObjectStore } from './object-store.ts';
export {
  type FencedState,
  StaleFenceError,
  type StateKey,
  type StateStore,
  stateKeyId,
} from './state-store.ts';
