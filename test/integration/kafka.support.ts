import { randomUUID } from 'node:crypto';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { endpoints } from '../../localstack/endpoints.ts';

export type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/**
 * Every record of `topic` on the local broker, as bytes: the partitions' end offsets say how many
 * there are, so a missing record fails (after 30 s) instead of hanging, and an extra one is seen.
 */
export async function readTopic(topic: string): Promise<BufferMessage[]> {
  const c = new Consumer({
    clientId: `read-${topic}`,
    groupId: `read-${randomUUID()}`,
    bootstrapBrokers: endpoints().kafkaBrokers,
    maxWaitTime: 500,
  });
  try {
    const ends = await c.listOffsets({ topics: [topic] });
    const count = Number((ends.get(topic) ?? []).reduce((a, b) => a + b, 0n));
    const out: BufferMessage[] = [];
    if (count === 0) return out;
    const stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> = await c.consume({
      topics: [topic],
      mode: 'earliest',
      autocommit: false,
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length} of ${count} records in 30 s`)),
        30_000,
      );
      stream.on('data', (m: BufferMessage) => {
        out.push(m);
        if (out.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await stream.close();
    return out;
  } finally {
    await c.close();
  }
}
