/**
 * Custom resource (CDK Provider framework, onEvent) creating Kafka topics through the Kafka admin
 * protocol with MSK IAM authentication (SASL/OAUTHBEARER over TLS). Used for MSK Serverless, which
 * the native AWS::MSK::Topic resource does not support.
 *
 * Create/Update: creates missing topics and raises partition counts (Kafka cannot lower them).
 * Delete: leaves the topics in place — they hold data; deleting the cluster deletes them.
 */
import { Admin } from '@platformatic/kafka';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** CloudFormation turns numbers into strings; accept both. */
export function parseTopics(raw: unknown): TopicSpec[] {
  if (!Array.isArray(raw)) throw new Error(`Topics must be a list, got ${JSON.stringify(raw)}`);
  return raw.map((t: unknown) => {
    const o = t as Record<string, unknown>;
    const spec = {
      name: String(o['name'] ?? ''),
      partitions: Number(o['partitions']),
      replicationFactor: Number(o['replicationFactor']),
    };
    if (!spec.name || !Number.isInteger(spec.partitions) || !Number.isInteger(spec.replicationFactor)) {
      throw new Error(
        `Bad topic spec ${JSON.stringify(t)}: need name, integer partitions and replicationFactor`,
      );
    }
    return spec;
  });
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  const props = event.ResourceProperties as unknown as Record<string, unknown>;
  const physicalId = `kafka-topics-${String(props['ClusterArn'] ?? 'cluster')
    .split('/')
    .at(-1)}`;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };

  const topics = parseTopics(props['Topics']);
  const bootstrapBrokers = String(props['BootstrapServers'] ?? '')
    .split(',')
    .filter((b) => b.length > 0);
  const region = String(props['Region'] ?? process.env['AWS_REGION'] ?? '');
  const admin = new Admin({
    clientId: 'tidewater-topics',
    bootstrapBrokers,
    tls: {},
    sasl: { mechanism: 'OAUTHBEARER', token: async () => (await generateAuthToken({ region })).token },
  });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    for (const t of missing) {
      await admin.createTopics({ topics: [t.name], partitions: t.partitions, replicas: t.replicationFactor });
    }
    const present = topics.filter((t) => existing.has(t.name));
    if (present.length > 0) {
      const metadata = await admin.metadata({ topics: present.map((t) => t.name) });
      for (const t of present) {
        const current = metadata.topics.get(t.name)?.partitionsCount ?? 0;
        if (current < t.partitions) {
          await admin.createPartitions({ topics: [{ name: t.name, count: t.partitions }] });
        }
      }
    }
    return { PhysicalResourceId: physicalId, Data: { Topics: topics.map((t) => t.name).join(',') } };
  } finally {
    await admin.close();
  }
}
