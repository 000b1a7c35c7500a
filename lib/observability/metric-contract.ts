/**
 * The custom-metric contract between the handlers (which emit via CloudWatch Embedded Metric Format,
 * e.g. Powertools Metrics) and the dashboard and alarms of the observability stack.
 *
 * Pure constants, no CDK import: handlers may import this file.
 *
 * Every metric is in namespace `Tidewater` and carries exactly the dimensions listed for it, where
 * - `service` is always `tidewater` (Powertools adds a `service` dimension to every metric: the
 *   functions get POWERTOOLS_SERVICE_NAME=tidewater so that the value is fixed),
 * - `Environment` is the deployment environment (env var TIDEWATER_ENV),
 * - `Layer` is `bronze` | `silver` | `gold`,
 * - `Pattern` is the CEP pattern (`velocity_spike`, `amount_anomaly`, ...),
 * - `Window` is a window name of the domain (`tumbling_1m`, `sliding_5m`, `sessions` for payments),
 * - `Consumer` is `ingest` | `enrich` | `windows` | `cep`.
 * Unit `Count` and statistic `Sum` for the counters; the latencies (`LATENCY_METRICS`) are in
 * `Milliseconds`, one value per output record (up to 100 per invocation), read as percentiles.
 */
export const METRIC_NAMESPACE = 'Tidewater';
export const METRIC_SERVICE = 'tidewater';

export const METRICS = {
  /** Rows read by a layer's writer (bronze: Kafka records; silver: valid events; gold: events fed to windows/CEP). */
  RecordsIn: { name: 'RecordsIn', dimensions: ['service', 'Environment', 'Layer'] },
  /** Rows written to a layer's tables. */
  RecordsOut: { name: 'RecordsOut', dimensions: ['service', 'Environment', 'Layer'] },
  /** Alerts raised, per CEP pattern. */
  Alerts: { name: 'Alerts', dimensions: ['service', 'Environment', 'Pattern'] },
  /** Events too late for a window (written to gold/late_events). */
  LateEvents: { name: 'LateEvents', dimensions: ['service', 'Environment', 'Window'] },
  /** Poison records sent to the dead-letter queue. */
  DeadLettered: { name: 'DeadLettered', dimensions: ['service', 'Environment'] },
  /** Duplicates dropped by event_id. */
  Duplicates: { name: 'Duplicates', dimensions: ['service', 'Environment'] },
  /**
   * Attempts redone because another invocation wrote the same state record first (optimistic
   * concurrency). State is partition-owned: only a zombie attempt (a timed-out invocation still
   * running beside its retry) can cause one, so it should stay at 0.
   */
  StateConflicts: { name: 'StateConflicts', dimensions: ['service', 'Environment', 'Consumer'] },
  /**
   * Batches whose partition state was read from S3 (snapshot + deltas): a cold execution
   * environment, or one that did not hold the committed version. Warm batches load nothing.
   */
  StateColdLoads: { name: 'StateColdLoads', dimensions: ['service', 'Environment', 'Consumer'] },
  /** Compacted snapshots written instead of a delta (`functions/state/partition-state.ts`). */
  StateSnapshots: { name: 'StateSnapshots', dimensions: ['service', 'Environment', 'Consumer'] },
} as const;

/**
 * Latency of a consumer's outputs, once written (functions/ports/metrics.ts), per `Consumer`:
 * ingest (bronze rows), enrich (silver rows), cep (alerts, written to gold and published). Read
 * with percentile statistics (p50, p99): the values are a distribution, recorded as EMF value
 * arrays, never summed.
 */
export const LATENCY_METRICS = {
  /** Event time (`ts`) to the output written: what a user of the data waits; enrich and cep. */
  EventToOutputLatency: {
    name: 'EventToOutputLatency',
    dimensions: ['service', 'Environment', 'Consumer'],
    consumers: ['enrich', 'cep'],
  },
  /**
   * Kafka timestamp of the record the consumer read to its output written: the consumer's own
   * hop (batching window, poll, processing, writes); ingest, enrich and cep.
   */
  KafkaToOutputLatency: {
    name: 'KafkaToOutputLatency',
    dimensions: ['service', 'Environment', 'Consumer'],
    consumers: ['ingest', 'enrich', 'cep'],
  },
} as const;

export const LAYERS = ['bronze', 'silver', 'gold'] as const;
/** SPEC §4 default patterns; the dashboard uses a SEARCH so that domain-specific patterns show too. */
export const DEFAULT_PATTERNS = [
  'velocity_spike',
  'amount_anomaly',
  'impossible_travel',
  'rapid_fire_burst',
  'merchant_diversity',
] as const;

/**
 * Environment variables every consumer function receives (values set by the processing stack).
 * Optional ones are absent where the resource does not exist (e.g. no MSK in `local`).
 */
export const FUNCTION_ENV = {
  /** Deployment environment name. */
  env: 'TIDEWATER_ENV',
  /** Event domain name (`config/domains/<name>.yaml`). */
  domain: 'TIDEWATER_DOMAIN',
  /** Consumer name: ingest | enrich | windows | cep. */
  consumer: 'TIDEWATER_CONSUMER',
  bronzeBucket: 'TIDEWATER_BRONZE_BUCKET',
  silverBucket: 'TIDEWATER_SILVER_BUCKET',
  goldBucket: 'TIDEWATER_GOLD_BUCKET',
  /** Bucket of the operational tables (`ops/batch_quality`): the gold bucket, writable under `ops/` only. */
  opsBucket: 'TIDEWATER_OPS_BUCKET',
  /** DynamoDB state table (pk/sk strings, TTL attribute `expires_at` in epoch seconds). */
  stateTable: 'TIDEWATER_STATE_TABLE',
  /** SQS queue URL for poison records. */
  deadLetterQueueUrl: 'TIDEWATER_DLQ_URL',
  rawEventsTopic: 'TIDEWATER_TOPIC_RAW_EVENTS',
  enrichedEventsTopic: 'TIDEWATER_TOPIC_ENRICHED_EVENTS',
  alertsTopic: 'TIDEWATER_TOPIC_ALERTS',
  /** Comma-separated bootstrap brokers for producing (SASL/IAM over TLS on MSK, plaintext locally). */
  kafkaBootstrapServers: 'TIDEWATER_KAFKA_BOOTSTRAP_SERVERS',
  /** `iam` on MSK, `none` for the local broker. */
  kafkaAuth: 'TIDEWATER_KAFKA_AUTH',
  /** `lakehouse.smallTablesWriteSeconds`: how long small tables' rows wait in the partition's outbox. */
  smallTablesWriteSeconds: 'TIDEWATER_SMALL_TABLES_WRITE_SECONDS',
} as const;
