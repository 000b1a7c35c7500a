import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { produceEvents } from '../../cli/commands/produce.ts';
import { GeneratorSource } from '../../functions/adapters/embedded/index.ts';
import { generateEvents, loadDomain } from '../../functions/core/index.ts';
import { partitionOfKey } from '../../functions/handlers/lib/partitioner.ts';
import { endpoints } from '../../localstack/endpoints.ts';
import { ensureTopic } from '../../localstack/topics.ts';

const { kafkaBrokers } = endpoints();
const admin = new Admin({ clientId: 'produce-test-admin', bootstrapBrokers: kafkaBrokers });

afterAll(async () => {
  await admin.close();
});

describe('tidewater produce', () => {
  it('puts every generated event on the partition of its key', async () => {
    // Prepare
    const topic = `produce-${randomUUID().slice(0, 8)}`;
    await ensureTopic(admin, topic, 3);
    const domain = loadDomain('payments');
    const options = { seed: 5, poisonRate: 0.02, duplicateRate: 0.01 };
    const expected = [...generateEvents(domain, 3_000, options)];
    // Act
    const result = await produceEvents({
      source: new GeneratorSource(domain, 3_000, { ...options, topic }),
      domain,
      topic,
    });
    const offsets = await admin.listOffsets({
      topics: [{ name: topic, partitions: [0, 1, 2].map((p) => ({ partitionIndex: p, timestamp: -1n })) }],
    });
    // Assess
    expect(result.produced).toBe(3_000);
    const perPartition: Record<number, number> = {};
    for (const g of expected) {
      const p = partitionOfKey(g.key, 3);
      perPartition[p] = (perPartition[p] ?? 0) + 1;
    }
    expect(result.byPartition).toEqual(perPartition);
    const ends = offsets[0]?.partitions.map((p) => Number(p.offset)) ?? [];
    expect(ends.reduce((a, b) => a + b, 0)).toBe(3_000);
  });
});
