/**
 * The Kafka partial batch response (`FunctionResponseTypes: [ReportBatchItemFailures]`), one
 * definition for the handlers, the local event source mapping and the tests.
 *
 * Shape: `{"batchItemFailures": [{"itemIdentifier": {"partition": "<topic>-<partition>", "offset": N}}]}`,
 * `partition` being the key of the event's `records` (AWS Lambda Developer Guide, "Configuring
 * error handling controls for Kafka event sources",
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html).
 *
 * What Lambda retries is not pinned down by that page: it says only that the function can return
 * "which records in a batch failed processing, so Lambda can retry only the failed records". For
 * Kinesis and DynamoDB streams the guide says Lambda checkpoints at the lowest reported sequence
 * number and retries everything after it; if Kafka retried just the listed records instead, the
 * later records of a failed partition, unlisted, would be committed unprocessed: data loss.
 * So a failed partition reports EVERY record of the batch that was not applied, from the first
 * failure to the end of its partition's batch ({@link unappliedRecords}): under either reading
 * Lambda retries exactly those records, in order. (Records applied twice are harmless: the
 * consumers' fences skip them.)
 */

export interface KafkaBatchItemIdentifier {
  /** `"<topic>-<partition>"`, the key of the partition's records in the event. */
  readonly partition: string;
  readonly offset: number;
}

export interface KafkaBatchResponse {
  batchItemFailures: { itemIdentifier: KafkaBatchItemIdentifier }[];
}

/** The successful answer: nothing to retry. */
export function batchSucceeded(): KafkaBatchResponse {
  return { batchItemFailures: [] };
}

/**
 * The identifiers of every record of one partition's batch from offset `from` (the first record
 * not applied) to the end, in offset order. `offsets` are the partition's offsets in the event.
 */
export function unappliedRecords(
  partition: string,
  offsets: readonly number[],
  from: number = Number.NEGATIVE_INFINITY,
): { itemIdentifier: KafkaBatchItemIdentifier }[] {
  return offsets
    .filter((o) => o >= from)
    .sort((a, b) => a - b)
    .map((offset) => ({ itemIdentifier: { partition, offset } }));
}
