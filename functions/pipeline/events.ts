import type { SourceRange } from '../adapters/parquet/partition.ts';
import type { SilverEvent } from '../core/index.ts';

/**
 * A batch of silver events, the input of `windows` and `cep`. `source` is the batch of records
 * they came from: on AWS a batch of the enriched topic (events decoded with
 * `decodeEnrichedRecord`), in embedded mode the raw batch `enrich` processed. It counts even
 * when it holds no event (all poison, say): the stage's fence still moves past it.
 */
export interface EventBatch {
  readonly source: SourceRange;
  /** In arrival (offset) order; each event's coordinates lie within `source`. */
  readonly events: readonly SilverEvent[];
}
