import type { Row } from '../core/index.ts';

/**
 * Where CEP alerts are published besides `gold/alerts` (the alerts Kafka topic on AWS; a counter
 * in embedded mode). Alert ids are deterministic (`<pattern>:<event id>`), so a consumer
 * de-duplicates a redelivered alert by `alert_id`.
 */
export interface AlertSink {
  /** `alerts` are `gold/alerts` rows (alert_id, pattern, severity, key, event id, ts, details). */
  send(alerts: readonly Row[]): Promise<void>;
}
