import { randomUUID } from 'node:crypto';
import {
  Admin,
  Consumer,
  type Message,
  type MessagesStream,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureTopic } from '../../localstack/topics.ts';

type StringMessage = Message<string, string, string, string>;

const { kafkaBrokers } = endpoints();
const PARTITIONS = 6;
const USERS = 12;
const PER_USER = 5;

/** Reads `count` messages from a stream, failing (not hanging) if they do not arrive in time. */
async function take(
  stream: MessagesStream<string, string, string, string>,
  count: number,
): Promise<StringMessage[]> {
  const received: StringMessage[] = [];
  if (count === 0) return received;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`received ${received.length} of ${count} messages within 60 s`)),
      60_000,
    );
    const onData = (message: StringMessage) => {
      received.push(message);
      if (received.length === count) {
        clearTimeout(timer);
        stream.off('data', onData);
        stream.pause();
        resolve();
      }
    };
    stream.on('data', onData);
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return received;
}

function consumer(groupId: string): Consumer<string, string, string, string> {
  return new Consumer({
    clientId: `smoke-${groupId}`,
    groupId,
    bootstrapBrokers: kafkaBrokers,
    deserializers: stringDeserializers,
    maxWaitTime: 500,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
}

describe('Kafka over the wire', () => {
  const topic = `smoke-${randomUUID()}`;
  const admin = new Admin({ clientId: 'smoke-admin', bootstrapBrokers: kafkaBrokers });
  const producer = new Producer({
    clientId: 'smoke-producer',
    bootstrapBrokers: kafkaBrokers,
    serializers: stringSerializers,
    idempotent: true,
  });

  beforeAll(async () => {
    await ensureTopic(admin, topic, PARTITIONS);
    const messages = [];
    for (let u = 0; u < USERS; u++) {
      for (let n = 0; n < PER_USER; n++) {
        messages.push({
          topic,
          key: `user-${u}`,
          value: JSON.stringify({ user: u, n }),
          headers: { source: 'smoke', seq: String(n) },
        });
      }
    }
    await producer.send({ messages });
  });

  afterAll(async () => {
    await producer.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  });

  it('creates a topic with the requested six partitions', async () => {
    // Act
    const metadata = await admin.metadata({ topics: [topic] });

    // Assess
    expect(metadata.topics.get(topic)?.partitionsCount).toBe(PARTITIONS);
  });

  it('delivers every record to a consumer group, same key to the same partition, headers intact', async () => {
    // Prepare
    const c = consumer(`smoke-all-${randomUUID()}`);

    // Act
    const stream = await c.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const received = await take(stream, USERS * PER_USER);
    await stream.close();
    await c.close();

    // Assess
    expect(received).toHaveLength(USERS * PER_USER);
    expect(new Set(received.map((m) => m.value)).size).toBe(USERS * PER_USER);
    const partitionsByKey = new Map<string, Set<number>>();
    for (const m of received) {
      const set = partitionsByKey.get(m.key) ?? new Set<number>();
      set.add(m.partition);
      partitionsByKey.set(m.key, set);
    }
    expect(partitionsByKey.size).toBe(USERS);
    for (const partitions of partitionsByKey.values()) expect(partitions.size).toBe(1);
    expect(new Set(received.map((m) => m.partition)).size).toBeGreaterThan(1);
    const first = received.find((m) => m.key === 'user-3' && JSON.parse(m.value).n === 2);
    expect(first?.headers.get('source')).toBe('smoke');
    expect(first?.headers.get('seq')).toBe('2');
    const perKeyOrder = received.filter((m) => m.key === 'user-7').map((m) => JSON.parse(m.value).n);
    expect(perKeyOrder).toEqual([0, 1, 2, 3, 4]);
  });

  it('resumes a consumer group from its committed offsets', async () => {
    // Prepare
    const groupId = `smoke-resume-${randomUUID()}`;
    const first = consumer(groupId);
    const firstStream = await first.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const initial = await take(firstStream, USERS * PER_USER);
    for (const m of initial) await m.commit();
    await firstStream.close();
    await first.close();

    // Act
    await producer.send({
      messages: [{ topic, key: 'user-late', value: '{"late":true}', headers: { source: 'smoke' } }],
    });
    const second = consumer(groupId);
    const secondStream = await second.consume({ topics: [topic], mode: 'committed', autocommit: false });
    const resumed = await take(secondStream, 1);
    await secondStream.close();
    await second.close();

    // Assess
    expect(resumed.map((m) => m.key)).toEqual(['user-late']);
  });
});
