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
}

/** Metrics that go nowhere. */
export const NO_METRICS: Metrics = { count: () => undefined };
