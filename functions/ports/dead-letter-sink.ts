import type { SourceRange } from '../adapters/parquet/partition.ts';
import type { DeadLetter } from '../core/index.ts';

/**
 * Where poison records go (SPEC §1): the reason, the Kafka coordinates and the raw bytes
 * (base64) of each. A JSONL folder in embedded mode, SQS on AWS.
 */
export interface DeadLetterSink {
  /**
   * Sends the poison records of one batch (`source` = the batch's coordinates, for deterministic
   * naming: a redelivered batch replaces, never duplicates). Resolves only once they are stored;
   * a sink that cannot store them must reject (never drop silently).
   */
  send(source: SourceRange, letters: readonly DeadLetter[]): Promise<void>;
}
