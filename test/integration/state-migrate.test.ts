/**
 * The upgrade path (`tidewater state migrate`): a state table written by Tidewater 0.1 (the
 * enrich fence with its seen ids as items of their own) is refused by the new consumers, naming
 * the command; once migrated, the consumer continues from the old fence and still drops a
 * duplicate of an id it saw before the upgrade.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { legacyItems } from '../../cli/commands/state.ts';
import { MetricsCollector } from '../../functions/adapters/embedded/metrics-collector.ts';
import { loadDomain } from '../../functions/core/index.ts';
import { enrich } from '../../functions/handlers/lib/consumers.ts';
import { migrateLegacyState } from '../../functions/state/migrate.ts';
import { clearStateCache } from '../../functions/state/partition-state.ts';
import { createResources, depsFor, kafkaEvent, MemoryTopic, rawRecords } from './handlers.support.ts';

const RAW = 'tw.migrate';

describe('tidewater state migrate', () => {
  it('converts 0.1 enrich state: refused before, then continuing from the old fence with the old ids', async () => {
    // Prepare: 0.1 state of partition 0: fence 99, and an item per id seen in offsets 0..99.
    const res = await createResources();
    const domain = loadDomain('payments');
    const records = rawRecords(RAW, 200, 1, {
      seed: 5,
      poisonRate: 0,
      duplicateRate: 0,
      anomalies: false,
    }).records;
    const metrics = new MetricsCollector();
    const deps = { ...depsFor(res, { enriched: new MemoryTopic(`${RAW}.enriched`), metrics }) };
    const id = { consumer: 'enrich', topic: RAW, scope: '0' };
    const v1 = await deps.table.beginIntent(id, 0, []);
    await deps.table.commit(id, v1, {
      state: { version: 1, maxTs: null, buckets: [] },
      fences: { '0': 99 },
      sources: {},
    });
    for (const r of records.slice(0, 100)) {
      const e = JSON.parse(r.value!) as { event_id: string; ts: string | number };
      const ts = typeof e.ts === 'number' ? e.ts : Date.parse(e.ts);
      await res.clients.dynamodb.send(
        new PutItemCommand({
          TableName: res.table,
          Item: {
            pk: { S: `dedup#${RAW}#0` },
            sk: { S: e.event_id },
            occ: { L: [{ L: [{ N: String(r.offset) }, { N: String(ts) }] }] },
          },
        }),
      );
    }
    // The batch after the fence, where offset 150 carries record 5's event again.
    const batch = records
      .slice(100)
      .map((r) => (r.offset === 150 ? { ...r, key: records[5]!.key, value: records[5]!.value } : r));
    // Act
    const refused = await enrich(deps, kafkaEvent(batch));
    const report = await migrateLegacyState(
      deps.table,
      deps.objects,
      legacyItems(res.clients.dynamodb, res.table),
      domain,
    );
    clearStateCache();
    const migrated = await enrich(deps, kafkaEvent(batch));
    // Assess
    expect(refused.batchItemFailures.length).toBe(100);
    expect(report.converted).toEqual({ [`enrich/${RAW}/0`]: '100 ids' });
    expect(migrated.batchItemFailures).toEqual([]);
    expect(metrics.total('Duplicates')).toBe(1);
    expect((await deps.table.load(id)).fences).toEqual({ '0': 199 });
    // Migrating again changes nothing.
    const again = await migrateLegacyState(
      deps.table,
      deps.objects,
      legacyItems(res.clients.dynamodb, res.table),
      domain,
    );
    expect(again).toEqual({ converted: {}, skipped: [`enrich/${RAW}/0`] });
  });
});
