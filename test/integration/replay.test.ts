/**
 * `tidewater replay` against the local broker: an offset range of one partition produced again,
 * into another topic (by key) or its own (same partition, after its end), bytes and headers intact.
 */
import { randomUUID } from 'node:crypto';
import { Admin, Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import { tidewater } from './cli.support.ts';
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
