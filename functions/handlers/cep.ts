/**
 * cep Kafka consumer — placeholder so the CDK app can bundle it. Wired in issue 6.
 */
import type { MSKEvent, SelfManagedKafkaEvent } from 'aws-lambda';

/** Kafka partial batch response (ReportBatchItemFailures). */
export interface KafkaBatchResponse {
  batchItemFailures: { itemIdentifier: { partition: string; offset: number } }[];
}

export async function handler(_event: MSKEvent | SelfManagedKafkaEvent): Promise<KafkaBatchResponse> {
  return { batchItemFailures: [] };
}
