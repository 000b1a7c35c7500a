/**
 * `tidewater redrive` against the local stack: dead letters written by the real SQS sink go back
 * into a real Kafka topic, byte for byte, filtered by reason, each once, and leave the queue only
 * when they are produced.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsDeadLetterSink } from '../../functions/adapters/aws/sqs-dead-letter-sink.ts';
import type { DeadLetter } from '../../functions/core/index.ts';
import { awsClientConfig, endpoints } from '../../localstack/endpoints.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import { tidewater } from '../support/cli.ts';
import { readTopic } from './kafka.support.ts';

const { kafkaBrokers } = endpoints();
const id = randomUUID().slice(0, 8);
const topic = `redrive-${id}`;
const sqs = new SQSClient(awsClientConfig());
const admin = new Admin({ clientId: `redrive-${id}`, bootstrapBrokers: kafkaBrokers });
let queueUrl = '';

function letter(offset: number, code: string, key: string | null, value: Buffer): DeadLetter {
  return {
    topic: 'payments.raw',
    partition: 0,
    offset,
    reason: { code: code as DeadLetter['reason']['code'], message: `test ${code}` },
    key,
    valueBase64: value.toString('base64'),
  };
}

const CURRENCY = [1, 2, 3].map((n) =>
  letter(
    n,
    'unknown_currency',
    `u-${n}`,
    Buffer.from(JSON.stringify({ event_id: `e-${n}`, currency: 'HKD' })),
  ),
);
/** Not UTF-8: the bytes must come back exactly. */
const BROKEN = [10, 11].map((n) => letter(n, 'invalid_utf8', null, Buffer.from([0x7b, 0xff, 0xfe, n])));

async function queueDepth(): Promise<number> {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(r.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

beforeAll(async () => {
  await ensureTopic(admin, topic, 3);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `redrive-${id}` }))).QueueUrl ?? '';
  const sink = new SqsDeadLetterSink({ queueUrl, client: sqs });
  const range = { topic: 'payments.raw', partition: 0, firstOffset: 1, lastOffset: 11 };
  await sink.send(range, [...CURRENCY, ...BROKEN]);
  // At-least-once delivery: a retried batch sends a letter again.
  await sink.send(range, [CURRENCY[0]!]);
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.close();
  sqs.destroy();
});

describe('tidewater redrive', () => {
  it('puts back the letters of the reasons asked, once each, and leaves the others in the queue', async () => {
    // Act
    const r = await tidewater(
      'redrive',
      '--queue',
      queueUrl,
      '--topic',
      topic,
      '--reason',
      'unknown_currency',
      '--json',
    );
    // Assess
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      redriven: { unknown_currency: 3 },
      repeats: 1,
      left: { otherReason: 2, valueInOpsBucket: 0 },
      topics: { [topic]: 3 },
    });
    const got = await readTopic(topic);
    expect(got.map((m) => [m.key.toString(), m.value.toString()]).sort()).toEqual(
      CURRENCY.map((l) => [l.key, Buffer.from(l.valueBase64 ?? '', 'base64').toString()]).sort(),
    );
    expect(await queueDepth()).toBe(2);
  });

  it('counts without producing or deleting in a dry run', async () => {
    // Act
    const r = await tidewater('redrive', '--queue', queueUrl, '--topic', topic, '--dry-run');
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`would redrive 2 dead letters (invalid_utf8 2) into ${topic} 2`);
    expect(await readTopic(topic)).toHaveLength(3);
    expect(await queueDepth()).toBe(2);
  });

  it('produces the exact bytes of a value that is not UTF-8, and empties the queue', async () => {
    // Act
    const r = await tidewater('redrive', '--queue', queueUrl, '--topic', topic);
    // Assess
    expect(r.code).toBe(0);
    const values = (await readTopic(topic)).map((m) => m.value.toString('base64'));
    expect(values).toHaveLength(5);
    for (const l of BROKEN) expect(values).toContain(l.valueBase64);
    expect(await queueDepth()).toBe(0);
  });

  it('says in one line that a queue is not a poison queue or a topic is missing', async () => {
    // Prepare
    const other =
      (await sqs.send(new CreateQueueCommand({ QueueName: `redrive-other-${id}` }))).QueueUrl ?? '';
    const sink = new SqsDeadLetterSink({ queueUrl: other, client: sqs });
    await sink.send({ topic: 't', partition: 0, firstOffset: 1, lastOffset: 1 }, [CURRENCY[0]!]);
    // Act
    const missing = await tidewater('redrive', '--queue', other, '--topic', `nope-${id}`);
    const none = await tidewater('redrive');
    // Assess
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^tidewater: topic nope-\S+ does not exist on .* \(pass --topic\)\n$/);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('tidewater: give the poison queue: --queue URL (or TIDEWATER_DLQ_URL)\n');
  });
});
