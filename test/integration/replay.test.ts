/**
 * `tidewater replay` against the local broker: an offset range of one partition produced again,
 * into another topic (by key) or its own (same partition, after its end), bytes and headers intact.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Admin, Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig, endpoints } from '../../localstack/endpoints.ts';
import { onFailureRecord, type PolledRecord } from '../../localstack/esm/event.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import { tidewater } from '../support/cli.ts';
import { type BufferMessage, readTopic } from './kafka.support.ts';

const { kafkaBrokers } = endpoints();
const id = randomUUID().slice(0, 8);
const source = `replay-src-${id}`;
const target = `replay-dst-${id}`;
const admin = new Admin({ clientId: `replay-${id}`, bootstrapBrokers: kafkaBrokers });

/** Key, value (base64: the bytes) and header `n` of a record, comparable across topics. */
const view = (m: BufferMessage) => [
  m.key.toString(),
  m.value.toString('base64'),
  [...m.headers].find(([k]) => k.toString() === 'n')?.[1].toString(),
];

beforeAll(async () => {
  await ensureTopic(admin, source, 2);
  await ensureTopic(admin, target, 3);
  const producer = new Producer({
    clientId: `replay-${id}`,
    bootstrapBrokers: kafkaBrokers,
    idempotent: true,
  });
  await producer.send({
    messages: Array.from({ length: 10 }, (_, i) => ({
      topic: source,
      partition: 0,
      key: Buffer.from(`k${i}`),
      // Not UTF-8 at the end: the bytes must come back exactly.
      value: Buffer.from([0x7b, 0x22, 48 + i, 0xff]),
      headers: new Map([[Buffer.from('n'), Buffer.from(String(i))]]),
    })),
  });
  await producer.close();
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [source, target] }).catch(() => undefined);
  await admin.close();
});

/** `tidewater replay --topic <source> --partition 0 ...args`. */
const replaySource = (...args: string[]) =>
  tidewater('replay', '--topic', source, '--partition', '0', ...args);

describe('tidewater replay', () => {
  it('produces an offset range into another topic, by key, with its bytes and headers', async () => {
    // Act
    const r = await replaySource('--from', '2', '--to', '5', '--into', target, '--json');
    // Assess
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ replayed: 4, from: 2, to: 5, into: target });
    const original = (await readTopic(source)).filter((m) => m.offset >= 2n && m.offset <= 5n);
    expect(original.map((m) => view(m)[2])).toEqual(['2', '3', '4', '5']);
    expect((await readTopic(target)).map(view).sort()).toEqual(original.map(view).sort());
  });

  it('appends a range to its own partition, in order, up to the last record by default', async () => {
    // Act
    const r = await replaySource('--from', '8');
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`replayed 2 records of ${source}-0 (offsets 8..9) into ${source}\n`);
    const partition0 = (await readTopic(source))
      .filter((m) => m.partition === 0)
      .sort((a, b) => Number(a.offset - b.offset));
    expect(partition0.map((m) => m.key.toString())).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `k${i}`),
      'k8',
      'k9',
    ]);
    expect(view(partition0[10]!)).toEqual(view(partition0[8]!));
  });

  it('produces nothing in a dry run', async () => {
    // Act
    const r = await replaySource('--from', '0', '--into', target, '--dry-run');
    // Assess
    expect(r.stdout).toBe(`would replay 12 records of ${source}-0 (offsets 0..11) into ${target}\n`);
    expect(await readTopic(target)).toHaveLength(4);
  });

  it('replays the batches an on-failure queue names, and deletes their messages', async () => {
    // Prepare: partition 1 gets three records; the mapping gave up on offsets 1..2 (as the local
    // event source mapping writes it, in AWS's on-failure record format).
    const producer = new Producer({
      clientId: `replay-p1-${id}`,
      bootstrapBrokers: kafkaBrokers,
      idempotent: true,
    });
    await producer.send({
      messages: ['a', 'b', 'c'].map((v) => ({
        topic: source,
        partition: 1,
        key: Buffer.from(v),
        value: Buffer.from(v),
      })),
    });
    await producer.close();
    const polled = (offset: number): PolledRecord => ({
      topic: source,
      partition: 1,
      offset,
      timestamp: Date.now(),
      key: null,
      value: null,
      headers: [],
    });
    const sqs = new SQSClient(awsClientConfig());
    const queue =
      (await sqs.send(new CreateQueueCommand({ QueueName: `replay-onfailure-${id}` }))).QueueUrl ?? '';
    const body = onFailureRecord({
      requestId: 'r-1',
      functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:cep',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
      functionError: 'Unhandled',
      now: Date.now(),
      // As an MSK mapping (dev, prod) sends it: KafkaBatchInfo names the cluster.
      eventSourceArn:
        'arn:aws:kafka:eu-west-1:000000000000:cluster/tidewater/751d2973-a626-431c-9d4e-d7975eb44dd7-2',
      bootstrapServers: kafkaBrokers.join(','),
      records: [polled(1), polled(2)],
      payloadSize: 100,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify(body) }));
    // Act
    const dry = await tidewater('replay', '--on-failure-queue', queue, '--dry-run');
    const r = await tidewater('replay', '--on-failure-queue', queue);
    // Assess
    expect(dry.stdout).toBe(`would replay 2 records of ${source}-1 (offsets 1..2) into ${source}\n`);
    expect(r.stdout).toBe(`replayed 2 records of ${source}-1 (offsets 1..2) into ${source}\n`);
    const partition1 = (await readTopic(source))
      .filter((m) => m.partition === 1)
      .sort((a, b) => Number(a.offset - b.offset));
    expect(partition1.map((m) => m.value.toString())).toEqual(['a', 'b', 'c', 'b', 'c']);
    const left = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(
      Number(left.Attributes?.ApproximateNumberOfMessages) +
        Number(left.Attributes?.ApproximateNumberOfMessagesNotVisible),
    ).toBe(0);
    sqs.destroy();
  });

  it('says in one line what is wrong with a range, a partition or a topic', async () => {
    // Act
    const past = await replaySource('--from', '50');
    const partition = await tidewater('replay', '--topic', source, '--partition', '7', '--from', '0');
    const topic = await tidewater('replay', '--topic', `nope-${id}`, '--partition', '0', '--from', '0');
    const none = await tidewater('replay', '--topic', source);
    // Assess
    expect(past.stderr).toBe(`tidewater: ${source}-0 ends at offset 11; --from 50 is past it\n`);
    expect(partition.stderr).toBe(`tidewater: topic ${source} has partitions 0..1, not 7\n`);
    expect(topic.stderr).toMatch(new RegExp(`^tidewater: topic nope-${id} does not exist on .*\\n$`));
    expect(none.stderr).toBe(
      'tidewater: give the range: --topic T --partition P --from OFFSET [--to OFFSET]\n',
    );
    for (const r of [past, partition, topic, none]) expect(r.code).toBe(2);
  });
});
