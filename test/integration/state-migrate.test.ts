/**
 * The upgrade path (`tidewater state migrate`): a state table written by Tidewater 0.1 (the
 * enrich fence with its seen ids as items of their own) is refused by the new consumers, naming
 * the command; once migrated, the consumer continues from the old fence and still drops a
 * duplicate of an id it saw before the upgrade.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { legacyItems } from '../../cli/commands/state.ts';
import { copyLayers } from '../../functions/adapters/aws/copy-layers.ts';
import { MetricsCollector } from '../../functions/adapters/embedded/metrics-collector.ts';
import { emptyCepKeyState, loadDomain } from '../../functions/core/index.ts';
import { enrich, flushWindows, windowsStateId } from '../../functions/handlers/lib/consumers.ts';
import { cepCodec } from '../../functions/state/codecs.ts';
import { migrateLegacyState } from '../../functions/state/migrate.ts';
import { clearStateCache, type Manifest, readState } from '../../functions/state/partition-state.ts';
import {
  createResources,
  depsFor,
  kafkaEvent,
  MemoryTopic,
  rawRecords,
  readLakehouse,
} from './handlers.support.ts';

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

  it('converts 0.1 cep key items and windows states: key states as of the fence, the shared open windows into the merge', async () => {
    // Prepare: cep partition 0 at fence 40 with two key items (one with an uncommitted later
    // version); windows with one open shared tumbling window (3 events of partition 0 and 1) and
    // both partitions' sessions states at the same fences.
    const res = await createResources();
    const domain = loadDomain('payments');
    const deps = depsFor(res, { sourcePartitions: async () => ['tw.m.raw-0', 'tw.m.raw-1'] });
    const commit = async (
      consumer: string,
      scope: string,
      state: unknown,
      fences: Record<string, number>,
    ) => {
      const id = { consumer, topic: 'tw.m.enriched', scope };
      await deps.table.commit(id, await deps.table.beginIntent(id, 0, []), { state, fences, sources: {} });
    };
    const ks = (n: number) => ({ ...emptyCepKeyState(), n, expiresAt: 9e15 });
    await commit('cep', '0', { version: 1, keys: {}, maxTs: 1000 }, { '0': 40 });
    const item = (sk: string, st: unknown, ap: number, pst?: unknown, pap?: number) =>
      res.clients.dynamodb.send(
        new PutItemCommand({
          TableName: res.table,
          Item: {
            pk: { S: 'cep#tw.m.enriched#0' },
            sk: { S: sk },
            st: { S: JSON.stringify(st) },
            ap: { N: String(ap) },
            ...(pst === undefined ? {} : { pst: { S: JSON.stringify(pst) }, pap: { N: String(pap) } }),
          },
        }),
      );
    await item('u1', ks(3), 30);
    await item('u2', ks(9), 55, ks(4), 20);
    const T = Date.UTC(2026, 10, 2, 8, 0, 0);
    const pids = { 'tw.m.raw-0': T + 30_000, 'tw.m.raw-1': T + 30_000 };
    await commit(
      'windows',
      '*',
      {
        version: 1,
        partitions: pids,
        fixed: { tumbling_1m: [[T, 'transaction', 3, 3, 30, 5, 15]] },
        sessions: {},
      },
      { '0': 7, '1': 9 },
    );
    await commit('windows', '0', { version: 1, partitions: pids, fixed: {}, sessions: {} }, { '0': 7 });
    await commit('windows', '1', { version: 1, partitions: pids, fixed: {}, sessions: {} }, { '1': 9 });
    // Act
    const report = await migrateLegacyState(
      deps.table,
      deps.objects,
      legacyItems(res.clients.dynamodb, res.table),
      domain,
    );
    clearStateCache();
    await flushWindows(deps, 'tw.m.enriched');
    const cepId = { consumer: 'cep', topic: 'tw.m.enriched', scope: '0' };
    const cepRecord = await deps.table.load<Manifest>(cepId);
    const keys = await readState(deps.objects, cepId, cepRecord.state!, cepCodec());
    const lake = await mkdtemp(join(tmpdir(), 'tw-migrate-'));
    await copyLayers(deps.objects, lake);
    const gold = (await readLakehouse(lake)).gold['gold/window_tumbling_1m'] ?? [];
    // Assess: u2's state is the one before its uncommitted write; the old open window's three
    // transactions reach gold through partition 0's partial.
    expect(report.converted).toEqual({
      'cep/tw.m.enriched/0': '2 keys',
      'windows/tw.m.enriched/0': 'sessions + the shared fixed windows (1 partials)',
      'windows/tw.m.enriched/1': 'sessions',
    });
    expect(keys.keys.get('u1')?.n).toBe(3);
    expect(keys.keys.get('u2')?.n).toBe(4);
    expect(cepRecord.fences).toEqual({ '0': 40 });
    expect((await deps.table.load(windowsStateId('tw.m.enriched', 1))).fences).toEqual({ '1': 9 });
    expect(gold.length).toBe(1);
    expect(JSON.parse(gold[0]!).slice(2, 4)).toEqual(['transaction', 3]);
  });
});
