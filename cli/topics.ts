import { Admin, Producer } from '@platformatic/kafka';
import { endpoints, parseBrokers } from '../localstack/endpoints.ts';
import { UserError } from './errors.ts';

/** The brokers of a `--brokers host:port[,...]` option; the local stack's without one. */
export function brokersOf(option: string | undefined): string[] {
  return option === undefined ? endpoints().kafkaBrokers : parseBrokers(option);
}

/**
 * The CLI's producer of raw bytes: idempotent with acks=all (its own retries never duplicate a
 * record), and it never creates a topic.
 */
export function kafkaProducer(clientId: string, brokers: readonly string[]): Producer {
  return new Producer({
    clientId,
    bootstrapBrokers: [...brokers],
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
  });
}

/**
 * The partition count of each of `topics` on `brokers`. A topic that does not exist, or a broker
 * that cannot be read, is a UserError: `hint` says what to do about a missing topic.
 */
export async function partitionCounts(
  brokers: readonly string[],
  topics: readonly string[],
  hint?: string,
): Promise<Map<string, number>> {
  const admin = new Admin({ clientId: 'tidewater-cli-admin', bootstrapBrokers: [...brokers] });
  const missing = (t: string) =>
    new UserError(
      `topic ${t} does not exist on ${brokers.join(',')}${hint === undefined ? '' : ` (${hint})`}`,
    );
  try {
    const existing = new Set(await admin.listTopics());
    const absent = topics.find((t) => !existing.has(t));
    if (absent !== undefined) throw missing(absent);
    const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
    const counts = new Map<string, number>();
    for (const t of topics) {
      const n = metadata.topics.get(t)?.partitions.length ?? 0;
      if (n === 0) throw missing(t);
      counts.set(t, n);
    }
    return counts;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read topics from Kafka at ${brokers.join(',')}: ${(err as Error).message}`);
  } finally {
    await admin.close();
  }
}
