/**
 * The alert sink of the cep consumer on the local broker: alerts keyed by the domain's key field,
 * whatever its name, so a domain other than payments keeps a device's alerts together.
 */
import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, KafkaAlertSink } from '../../functions/adapters/aws/kafka-producer.ts';
import { loadDomain } from '../../functions/core/index.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import { type BufferMessage, readTopic } from './kafka.support.ts';

const { kafkaBrokers } = endpoints();
const topic = `alerts-${randomUUID().slice(0, 8)}`;
const admin = new Admin({ clientId: topic, bootstrapBrokers: kafkaBrokers });

beforeAll(() => ensureTopic(admin, topic, 2));
afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.close();
});

describe('KafkaAlertSink', () => {
  it("keys each alert by the domain's key field and names it in a header", async () => {
    // Prepare: the iot domain's key is not user_id.
    const keyField = loadDomain('iot').keyField;
    expect(keyField).not.toBe('user_id');
    const producer = createProducer({ bootstrapServers: kafkaBrokers, auth: 'none' });
    const sink = new KafkaAlertSink(producer, topic, keyField);
    // Act
    await sink.send([
      { alert_id: 'a-1', pattern: 'impossible_travel', [keyField]: 'dev-7' },
      { alert_id: 'a-2', pattern: 'impossible_travel', [keyField]: 'dev-9' },
    ]);
    await producer.close();
    // Assess
    const header = (m: BufferMessage) =>
      [...m.headers].find(([k]) => k.toString() === 'tidewater-alert-id')?.[1].toString();
    const got = await readTopic(topic);
    expect(
      got.map((m) => [m.key.toString(), JSON.parse(m.value.toString()).alert_id, header(m)]).sort(),
    ).toEqual([
      ['dev-7', 'a-1', 'a-1'],
      ['dev-9', 'a-2', 'a-2'],
    ]);
  });
});
