import { Admin, Producer, type ProducerOptions, stringSerializers } from '@platformatic/kafka';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import type { Row, SilverEvent } from '../../core/index.ts';
import { encodeEnrichedEvent } from '../../pipeline/enriched.ts';
import type { AlertSink } from '../../ports/alert-sink.ts';

/**
 * Producing to the enriched-events and alerts topics with `@platformatic/kafka`: idempotent
 * producer (acks=all, producer id + sequence numbers), so the client's own retries never duplicate
 * a record. A Lambda retry is a new send, though, so consumers de-duplicate on their own terms:
 * enriched events by their source coordinates (header `tidewater-source`, fenced per source
 * partition by `windows`/`cep`), alerts by `alert_id`.
 *
 * On MSK, authentication is IAM over SASL/OAUTHBEARER: the token provider signs with
 * `aws-msk-iam-sasl-signer-js` (`generateAuthToken({ region })`, the function's role) and the
 * connection uses TLS. `@platformatic/kafka` accepts a token provider for OAUTHBEARER and calls it
 * per connection, so expiring tokens are renewed on reconnect.
 */
export interface KafkaConnection {
  readonly bootstrapServers: readonly string[];
  /** `iam` on MSK (SASL/OAUTHBEARER + TLS), `none` for a plaintext local broker. */
  readonly auth: 'iam' | 'none';
  /** Region for the IAM token. @default AWS_REGION */
  readonly region?: string;
  readonly clientId?: string;
}

function auth(conn: KafkaConnection): Pick<ProducerOptions<string, string, string, string>, 'tls' | 'sasl'> {
  if (conn.auth === 'none') return {};
  const region = conn.region ?? process.env['AWS_REGION'] ?? 'us-east-1';
  return {
    tls: {},
    sasl: { mechanism: 'OAUTHBEARER', token: async () => (await generateAuthToken({ region })).token },
  };
}

/** The partition ids (`<topic>-<p>`) of a topic, from the cluster's metadata. */
export async function topicPartitionIds(conn: KafkaConnection, topic: string): Promise<string[]> {
  const admin = new Admin({
    clientId: conn.clientId ?? 'tidewater',
    bootstrapBrokers: [...conn.bootstrapServers],
    ...auth(conn),
  });
  try {
    const metadata = await admin.metadata({ topics: [topic] });
    const n = metadata.topics.get(topic)?.partitions.length ?? 0;
    if (n === 0) throw new Error(`topic ${topic} has no partitions on ${conn.bootstrapServers.join(',')}`);
    return Array.from({ length: n }, (_, p) => `${topic}-${p}`);
  } finally {
    await admin.close();
  }
}

export type StringProducer = Producer<string, string, string, string>;

export function createProducer(conn: KafkaConnection): StringProducer {
  const base: ProducerOptions<string, string, string, string> = {
    clientId: conn.clientId ?? 'tidewater',
    bootstrapBrokers: [...conn.bootstrapServers],
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
  };
  return new Producer({ ...base, ...auth(conn) });
}

/**
 * Enriched events to the enriched topic, each to the SAME partition number as its raw record:
 * the raw topic is keyed by user_id, so this keeps a user's events together and in order, gives
 * each enriched partition exactly one source partition (so `windows`/`cep` can fence re-produced
 * copies by source offset), and keeps each partition's watermark that of its source partition.
 * The enriched topic must have at least as many partitions as the raw topic.
 */
export class KafkaEnrichedPublisher {
  private readonly producer: StringProducer;
  private readonly topic: string;
  constructor(producer: StringProducer, topic: string) {
    this.producer = producer;
    this.topic = topic;
  }

  async publish(events: readonly SilverEvent[]): Promise<void> {
    if (events.length === 0) return;
    const messages = events.map((e) => {
      const r = encodeEnrichedEvent(e);
      return {
        topic: this.topic,
        partition: e.partition,
        key: r.key,
        value: r.value,
        headers: Object.fromEntries(r.headers),
      };
    });
    for (let i = 0; i < messages.length; i += 5_000) {
      await this.producer.send({ messages: messages.slice(i, i + 5_000) });
    }
  }
}

/**
 * Alerts to the alerts topic, keyed by the alerted key (the domain's key field, `user_id` in
 * payments: a column of gold/alerts), value the gold/alerts row as JSON.
 */
export class KafkaAlertSink implements AlertSink {
  private readonly producer: StringProducer;
  private readonly topic: string;
  private readonly keyField: string;
  constructor(producer: StringProducer, topic: string, keyField: string) {
    this.producer = producer;
    this.topic = topic;
    this.keyField = keyField;
  }

  async send(alerts: readonly Row[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.producer.send({
      messages: alerts.map((a) => ({
        topic: this.topic,
        key: String(a[this.keyField] ?? a['alert_id']),
        value: JSON.stringify(a),
        headers: { 'tidewater-alert-id': String(a['alert_id']) },
      })),
    });
  }
}
