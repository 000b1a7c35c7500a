/**
 * Counters the stages emit. Names and dimensions follow the metric contract of the observability
 * stack (`lib/observability/metric-contract.ts`): CloudWatch EMF on AWS, an in-process collector
 * in embedded mode.
 */

export type MetricName =
  | 'RecordsIn'
  | 'RecordsOut'
  | 'Alerts'
  | 'LateEvents'
  | 'DeadLettered'
  | 'Duplicates'
  | 'StateConflicts'
  | 'StateColdLoads'
  | 'StateSnapshots';
export type Layer = 'bronze' | 'silver' | 'gold';

/**
 * Latencies of a consumer's outputs, in milliseconds, one value per output record, taken once the
 * output is written: `EventToOutputLatency` from the record's event time, `KafkaToOutputLatency`
 * from the Kafka timestamp of the record the consumer read (its own hop, batching window included).
 */
export type LatencyMetricName = 'EventToOutputLatency' | 'KafkaToOutputLatency';

/** The consumer that wrote the outputs (`ingest`: bronze, `enrich`: silver, `cep`: alerts). */
export interface LatencyDimensions {
  readonly consumer: string;
}

/**
 * `layer` for RecordsIn/RecordsOut, `pattern` for Alerts, `window` (the domain's window name) for
 * LateEvents, `consumer` for the State* metrics; DeadLettered and Duplicates have none.
 */
export interface MetricDimensions {
  readonly layer?: Layer;
  readonly pattern?: string;
  readonly window?: string;
  /** The consumer whose state write lost a race (StateConflicts), was loaded from S3 (StateColdLoads) or compacted (StateSnapshots). */
  readonly consumer?: string;
}

export interface Metrics {
  /** Adds `value` to a counter. Must not throw or block: metrics never fail a batch. */
  count(name: MetricName, value: number, dimensions?: MetricDimensions): void;
  /**
   * Records latencies (ms), one per output record: a distribution, not a sum, so that p50/p99 can
   * be computed from it. Must not throw or block.
   */
  latency(name: LatencyMetricName, valuesMs: readonly number[], dimensions: LatencyDimensions): void;
}

/** Metrics that go nowhere. */
export const NO_METRICS: Metrics = { count: () => undefined, latency: () => undefined };
