/**
 * `DynamoDbDedupStore` (the enrich consumer's seen ids, one item per id) on the emulator's
 * DynamoDB: answers, retries that must get the same answers, batches larger than one request, and
 * unprocessed keys/items (which the emulator never returns: injected by a client wrapper).
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDedupStore } from '../../functions/adapters/aws/dynamodb-dedup.ts';
import type { DedupCandidate } from '../../functions/core/index.ts';
import { createResources, type Resources } from './handlers.support.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 8);
const RETENTION = 24 * HOUR;

let res: Resources;
let n = 0;

beforeAll(async () => {
  res = await createResources();
});

/** A partition no other test uses. */
function freshPartition(): { topic: string; partition: number } {
  return { topic: 'dedup-test', partition: n++ };
}

function store(client: DynamoDBClient = res.clients.dynamodb): DynamoDbDedupStore {
  return new DynamoDbDedupStore({
    tableName: res.table,
    client,
    retentionMs: RETENTION,
    retry: { baseMs: 1, maxMs: 5 },
  });
}

const c = (id: string, offset: number, ts = T0 + offset * 1000): DedupCandidate => ({ id, offset, ts });

describe('DynamoDbDedupStore', () => {
  it('answers duplicates within a batch and across batches, per partition', async () => {
    const at = freshPartition();
    const s = store();
    expect(await s.duplicates(at, [c('a', 0), c('b', 1), c('a', 2)], null)).toEqual([false, false, true]);
    expect(await s.duplicates(at, [c('b', 3), c('c', 4)], 2)).toEqual([true, false]);
    // Another partition has its own ids.
    expect(await s.duplicates(freshPartition(), [c('a', 0)], null)).toEqual([false]);
  });

  it('gives a retried batch the answers of its first delivery (same records, same offsets)', async () => {
    // Offsets up to 9 are committed; the batch 10..13 dies after writing the store.
    const at = freshPartition();
    const s = store();
    const batch = [c('x', 10), c('y', 11), c('x', 12), c('z', 13)];
    const first = await s.duplicates(at, batch, 9);
    expect(first).toEqual([false, false, true, false]);
    // The attempt died before its commit: the whole batch comes again, then bisected halves.
    expect(await s.duplicates(at, batch, 9)).toEqual(first);
    expect(await s.duplicates(at, batch.slice(0, 2), 9)).toEqual(first.slice(0, 2));
    expect(await s.duplicates(at, batch.slice(2), 11)).toEqual(first.slice(2));
    // A later record with a seen id is a duplicate.
    expect(await s.duplicates(at, [c('y', 20)], 13)).toEqual([true]);
  });

  it('forgets an id after the retention (in event time) and remembers the new occurrence', async () => {
    const at = freshPartition();
    const s = store();
    expect(await s.duplicates(at, [c('r', 0, T0)], null)).toEqual([false]);
    expect(await s.duplicates(at, [c('r', 1, T0 + RETENTION - 1)], 0)).toEqual([true]);
    expect(await s.duplicates(at, [c('r', 2, T0 + RETENTION)], 1)).toEqual([false]);
    // The occurrence at offset 2 is now the remembered one.
    expect(await s.duplicates(at, [c('r', 3, T0 + RETENTION + 5)], 2)).toEqual([true]);
    const item = await res.clients.dynamodb.send(
      new GetItemCommand({
        TableName: res.table,
        Key: { pk: { S: `dedup#${at.topic}#${at.partition}` }, sk: { S: 'r' } },
        ConsistentRead: true,
      }),
    );
    // Written with offset 1 committed: the occurrence at 0 is still the last committed one.
    expect(item.Item?.['occ']?.L?.map((o) => o.L?.[0]?.N)).toEqual(['0', '2']);
    const expires = Number(item.Item?.['expires_at']?.N);
    expect(expires).toBeGreaterThanOrEqual(Math.ceil((T0 + 2 * RETENTION) / 1000));
  });

  it('handles batches of more ids than one request reads (100) or writes (25)', async () => {
    const at = freshPartition();
    const s = store();
    const ids = Array.from({ length: 1234 }, (_, i) => `id-${i}`);
    const first = ids.map((id, i) => c(id, i));
    expect((await s.duplicates(at, first, null)).every((d) => !d)).toBe(true);
    // Every id again at later offsets, mixed with new ones: exactly the old ones are duplicates.
    const second = ids.flatMap((id, i) => [c(id, 2000 + 2 * i), c(`new-${i}`, 2001 + 2 * i)]);
    const answers = await s.duplicates(at, second, 1233);
    expect(answers.filter((d) => d).length).toBe(1234);
    expect(answers.every((d, i) => d === (i % 2 === 0))).toBe(true);
  });

  it('retries unprocessed keys and items until every one is done', async () => {
    const at = freshPartition();
    const flaky = new UnprocessedHalf(res.clients.dynamodb);
    const s = store(flaky.client);
    const batch = Array.from({ length: 60 }, (_, i) => c(`u-${i % 40}`, i));
    const answers = await s.duplicates(at, batch, null);
    expect(answers.filter((d) => d).length).toBe(20);
    expect(flaky.unprocessedKeys).toBeGreaterThan(0);
    expect(flaky.unprocessedItems).toBeGreaterThan(0);
    // Every item reached the table: a clean store agrees.
    expect(await store().duplicates(at, batch, null)).toEqual(answers);
  });

  it('fails (and never answers) when items stay unprocessed', async () => {
    const s = new DynamoDbDedupStore({
      tableName: res.table,
      client: new UnprocessedHalf(res.clients.dynamodb, Number.POSITIVE_INFINITY).client,
      retentionMs: RETENTION,
      retry: { attempts: 3, baseMs: 1, maxMs: 2 },
    });
    await expect(s.duplicates(freshPartition(), [c('p', 0), c('q', 1)], null)).rejects.toThrow(
      /unprocessed after 3 rounds/,
    );
  });
});

/**
 * A client that sends every request to the emulator but hands back part of each BatchGetItem and
 * BatchWriteItem as unprocessed (as DynamoDB does under load), for the first `times` requests of
 * each kind (with `times` infinite, writes never get through).
 */
class UnprocessedHalf {
  readonly client: DynamoDBClient;
  unprocessedKeys = 0;
  unprocessedItems = 0;

  constructor(real: DynamoDBClient, times = 4) {
    let leftGets = times;
    let leftWrites = times;
    const client = new DynamoDBClient({});
    const send = async (command: unknown): Promise<ServiceOutputTypes> => {
      if (command instanceof BatchGetItemCommand && leftGets > 0) {
        leftGets--;
        const [table, req] = Object.entries(command.input.RequestItems ?? {})[0]!;
        const keys = req.Keys ?? [];
        const half = Math.ceil(keys.length / 2);
        const out = await real.send(
          new BatchGetItemCommand({ RequestItems: { [table]: { ...req, Keys: keys.slice(0, half) } } }),
        );
        this.unprocessedKeys += keys.length - half;
        return { ...out, UnprocessedKeys: { [table]: { ...req, Keys: keys.slice(half) } } };
      }
      if (command instanceof BatchWriteItemCommand && leftWrites > 0) {
        leftWrites--;
        const [table, reqs] = Object.entries(command.input.RequestItems ?? {})[0]!;
        const half = Number.isFinite(times) ? Math.ceil(reqs.length / 2) : 0;
        if (half > 0)
          await real.send(new BatchWriteItemCommand({ RequestItems: { [table]: reqs.slice(0, half) } }));
        this.unprocessedItems += reqs.length - half;
        return { $metadata: {}, UnprocessedItems: { [table]: reqs.slice(half) } };
      }
      return real.send(command as Parameters<DynamoDBClient['send']>[0]) as Promise<ServiceOutputTypes>;
    };
    // Only `send` is used by the store.
    (client as unknown as { send: (c: ServiceInputTypes) => Promise<ServiceOutputTypes> }).send = send;
    this.client = client;
  }
}
