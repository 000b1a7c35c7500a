/**
 * Where a stage keeps its state between batches (SPEC §5): one item per
 * (consumer, topic, partition), fenced by the last Kafka offset applied to it. In memory for
 * embedded runs; DynamoDB on AWS (the fence goes into the same conditional write).
 */

/** Which state: the stage (`enrich`, `windows`, `cep`) and the topic partition it consumes. */
export interface StateKey {
  readonly consumer: string;
  readonly topic: string;
  readonly partition: number;
}

/** A stage state with the last offset applied to it. */
export interface FencedState<S> {
  /** JSON-serializable state (a core `DedupState`, `WindowState`, `CepState`, ...). */
  readonly state: S;
  /** The last offset of the partition whose effect is in `state`. */
  readonly lastOffset: number;
}

/**
 * `save` was refused: the stored fence is not the one the caller loaded (another invocation, or an
 * earlier delivery of the same batch, committed first). The caller must drop its work: reloading
 * skips every record up to the stored offset.
 */
export class StaleFenceError extends Error {
  readonly key: StateKey;
  readonly expected: number | null;
  readonly actual: number | null;
  constructor(key: StateKey, expected: number | null, actual: number | null) {
    super(
      `state of ${key.consumer} ${key.topic}-${key.partition} was committed at offset ${String(actual)} by someone else (this writer loaded it at ${String(expected)})`,
    );
    this.name = 'StaleFenceError';
    this.key = key;
    this.expected = expected;
    this.actual = actual;
  }
}

export interface StateStore {
  /** The stored state and fence, or undefined when the stage never committed for this key. */
  load<S>(key: StateKey): Promise<FencedState<S> | undefined>;
  /**
   * Stores `next` if, and only if, the stored fence is still `expectedLastOffset` (null: nothing
   * stored yet) and `next.lastOffset` is greater than it; otherwise throws {@link StaleFenceError}
   * and changes nothing. On DynamoDB this is one conditional write.
   */
  save<S>(key: StateKey, next: FencedState<S>, expectedLastOffset: number | null): Promise<void>;
}

/** `consumer/topic/partition`, a convenient map key or DynamoDB partition key. */
export function stateKeyId(key: StateKey): string {
  return `${key.consumer}/${key.topic}/${key.partition}`;
}
