import { Admin } from '@platformatic/kafka';

/**
 * Creates a topic (if it does not exist) and waits until every partition has a leader, so tests
 * and tools start from a topic that is ready.
 *
 * Produce with `idempotent: true`: right after a topic is created the broker can still answer
 * NOT_LEADER for some partitions, and a non-idempotent `@platformatic/kafka` producer then retries
 * the whole request, so partitions that had already accepted their batch store it twice
 * (measured on Kafka 4.2.1: 80 to 100 records stored for 60 sent, even after this wait). An
 * idempotent producer lets the broker drop the repeats (60 stored, every time).
 */
export async function ensureTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  options: { timeoutMs?: number; replicas?: number } = {},
): Promise<void> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    await admin.createTopics({ topics: [topic], partitions, replicas: options.replicas ?? 1 });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const parts = metadata.topics.get(topic)?.partitions ?? [];
    if (parts.length >= partitions && parts.every((p) => p.leader >= 0)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `topic ${topic}: ${parts.filter((p) => p.leader >= 0).length} of ${partitions} partitions have a leader`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface PipelineTopics {
  readonly raw: string;
  readonly enriched: string;
  readonly alerts: string;
}

/**
 * The three topics of a throwaway pipeline run named `<id>.raw`, `<id>.enriched` (as many
 * partitions as raw: enrich keeps each event's partition number) and `<id>.alerts` (one), created
 * and ready (benches and tests).
 */
export async function ensurePipelineTopics(
  id: string,
  brokers: string[],
  rawPartitions = 3,
): Promise<PipelineTopics> {
  const topics = { raw: `${id}.raw`, enriched: `${id}.enriched`, alerts: `${id}.alerts` };
  const admin = new Admin({ clientId: `${id}-admin`, bootstrapBrokers: brokers });
  try {
    await ensureTopic(admin, topics.raw, rawPartitions);
    await ensureTopic(admin, topics.enriched, rawPartitions);
    await ensureTopic(admin, topics.alerts, 1);
  } finally {
    await admin.close();
  }
  return topics;
}
