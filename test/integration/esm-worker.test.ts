/**
 * The local mapping running a bundled handler file (not an injected function): its own module
 * instance and environment in a worker thread, a Lambda context honouring the template's Timeout,
 * and a fresh environment after a timeout. Uses the small assembly of the unit tests' fixtures.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../localstack/endpoints.ts';
import { startEventSourceMappings } from '../../localstack/esm/index.ts';
import { ensureTopic } from '../../localstack/topics.ts';

const ASSEMBLY = join(import.meta.dirname, '..', 'unit', 'esm', 'fixtures', 'assembly');
const e = endpoints();
const admin = new Admin({ clientId: 'esm-worker-admin', bootstrapBrokers: e.kafkaBrokers });
const producer = new Producer({
  clientId: 'esm-worker-producer',
  bootstrapBrokers: e.kafkaBrokers,
  serializers: stringSerializers,
  idempotent: true,
});
const topic = `esm-worker-${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'esm-worker-'));

interface ProbeLine {
  consumer: string;
  tag: string;
  endpoint: string;
  functionName: string;
  requestId: string;
  remainingMs: number;
  warmInvocation: number;
  values: string[];
}

afterAll(async () => {
  await producer.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('local mapping running the bundled handler file', () => {
  it('runs it with the function environment and context, warm across invocations, cold again after a timeout', async () => {
    await ensureTopic(admin, topic, 1);
    const out = join(dir, 'probe.jsonl');
    const running = await startEventSourceMappings({
      cdkOut: ASSEMBLY,
      only: ['probe'],
      resolveEnv: false,
      envOverrides: { probe: { ESM_PROBE_OUT: out, ESM_PROBE_TAG: 'tagged' } },
      mappingOverrides: {
        probe: {
          topics: [topic],
          consumerGroupId: `g-${topic}`,
          batchSize: 1,
          maximumBatchingWindowInSeconds: 0.05,
        },
      },
    });

    await producer.send({
      messages: ['a', 'b', 'sleep', 'c'].map((value) => ({ topic, partition: 0, key: 'k', value })),
    });
    await running.waitUntilIdle({ timeoutMs: 60_000 });
    const [stats] = running.stats();
    await running.stop();
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ProbeLine);

    expect(lines.map((l) => l.values[0])).toEqual(['a', 'b', 'sleep', 'sleep', 'c']);
    expect(lines.map((l) => l.warmInvocation)).toEqual([1, 2, 3, 1, 1]);
    for (const l of lines) {
      expect(l).toMatchObject({
        consumer: 'probe',
        tag: 'tagged',
        endpoint: e.awsEndpoint,
        functionName: 'Tidewater-local-Processing-ProbeFunction',
      });
      expect(l.remainingMs).toBeGreaterThan(0);
      expect(l.remainingMs).toBeLessThanOrEqual(1000);
    }
    expect(new Set(lines.map((l) => l.requestId)).size).toBe(lines.length);
    expect(stats).toMatchObject({
      invocations: 5,
      failures: 2,
      discarded: 1,
      committed: { [`${topic}-0`]: 4 },
    });
  });
});
