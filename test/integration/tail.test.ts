/**
 * Live local mode on the real broker and emulator: `tail alerts` prints the alerts the cep
 * consumer's sink publishes as they arrive, `tail dead-letters` the letters sent to the poison
 * queue after it started (and leaves them there), and the producer keeps a steady rate.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceEvents } from '../../cli/commands/produce.ts';
import { tailAlerts, tailDeadLetters } from '../../cli/commands/tail.ts';
import { createProducer, KafkaAlertSink } from '../../functions/adapters/aws/kafka-producer.ts';
import { GeneratorSource } from '../../functions/adapters/embedded/index.ts';
import { type DeadLetter, loadDomain } from '../../functions/core/index.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureTopic } from '../../localstack/topics.ts';
import { emulatorClients } from './handlers.support.ts';

const { kafkaBrokers } = endpoints();
const T = Date.UTC(2026, 11, 4, 12);

const alert = (i: number) => ({
  alert_id: `rapid_fire_burst:e-${i}`,
  pattern: 'rapid_fire_burst',
  severity: 'HIGH',
  user_id: `u-${i}`,
  event_id: `e-${i}`,
  ts: T + i,
  details: '{}',
  detected_at: T + i + 800,
});

const letter = (offset: number): DeadLetter => ({
  reason: { code: 'invalid_json', message: 'not JSON' },
  topic: 'raw',
  partition: 0,
  offset,
  key: null,
  valueBase64: Buffer.from('{oops').toString('base64'),
});

describe('live local mode', () => {
  const id = randomUUID().slice(0, 8);
  const admin = new Admin({ clientId: 'tail-admin', bootstrapBrokers: kafkaBrokers });
  const producer = createProducer({ bootstrapServers: kafkaBrokers, auth: 'none', clientId: `tail-${id}` });

  beforeAll(async () => {
    await ensureTopic(admin, `tail-${id}.alerts`, 2);
    await ensureTopic(admin, `tail-${id}.raw`, 3);
  });

  afterAll(async () => {
    await producer.close();
    await admin.close();
  });

  it('tail alerts prints the alerts published after it started, one line each, and none from before', async () => {
    // Prepare: one alert before the tail starts, two after
    const topic = `tail-${id}.alerts`;
    const sink = new KafkaAlertSink(producer, topic, 'user_id');
    await sink.send([alert(0)]);
    const lines: string[] = [];
    const json: string[] = [];
    // Act
    const human = tailAlerts({
      topic,
      brokers: kafkaBrokers,
      count: 2,
      seconds: 60,
      write: (l) => lines.push(l),
    });
    const machine = tailAlerts({
      topic,
      brokers: kafkaBrokers,
      json: true,
      fromBeginning: true,
      count: 3,
      seconds: 60,
      write: (l) => json.push(l),
    });
    await new Promise((r) => setTimeout(r, 3_000)); // both consumers positioned
    await sink.send([alert(1), alert(2)]);
    const [printed] = await Promise.all([human, machine]);
    // Assess
    expect(printed).toBe(2);
    expect(lines.sort()).toEqual([
      expect.stringContaining('event_id=e-1'),
      expect.stringContaining('event_id=e-2'),
    ]);
    expect(lines[0]).toMatch(/HIGH +rapid_fire_burst .*\(\+800 ms after the event\)/);
    expect(json.map((l) => (JSON.parse(l) as { event_id: string }).event_id).sort()).toEqual([
      'e-0',
      'e-1',
      'e-2',
    ]);
  });

  it('tail dead-letters prints letters sent after it started and leaves every letter in the queue', async () => {
    // Prepare
    const sqs = emulatorClients().sqs;
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `tail-${id}-poison` }))).QueueUrl!;
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(letter(1)) }));
    await new Promise((r) => setTimeout(r, 50)); // SentTimestamp is in ms: the old letter is strictly older
    const lines: string[] = [];
    // Act
    const tail = tailDeadLetters({ queueUrl, sqs, count: 2, seconds: 60, write: (l) => lines.push(l) });
    await new Promise((r) => setTimeout(r, 1_500));
    for (const offset of [2, 3])
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(letter(offset)) }),
      );
    const printed = await tail;
    // Assess
    expect(printed).toBe(2);
    expect(lines).toEqual([
      expect.stringMatching(/ invalid_json: not JSON at raw-0@2 key=\(none\) "\{oops"$/),
      expect.stringMatching(/ invalid_json: not JSON at raw-0@3 /),
    ]);
    await new Promise((r) => setTimeout(r, 2_500)); // the 2 s hold has passed
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Number(attrs.Attributes?.['ApproximateNumberOfMessages'])).toBe(3);
  });

  it('produces at the steady rate asked, and stops at the duration', async () => {
    // Prepare
    const domain = loadDomain('payments');
    const topic = `tail-${id}.raw`;
    // Act: 200 events at 400/s take at least half a second; 10,000 at 200/s stop after 1 s
    const paced = await produceEvents({
      source: new GeneratorSource(domain, 200, { topic }),
      domain,
      topic,
      brokers: kafkaBrokers,
      ratePerSecond: 400,
    });
    const capped = await produceEvents({
      source: new GeneratorSource(domain, 10_000, { topic }),
      domain,
      topic,
      brokers: kafkaBrokers,
      ratePerSecond: 200,
      maxSeconds: 1,
    });
    // Assess
    expect(paced.produced).toBe(200);
    expect(paced.elapsedMs).toBeGreaterThanOrEqual(495);
    expect(capped.produced).toBeGreaterThan(100);
    expect(capped.produced).toBeLessThanOrEqual(204);
  });
});
