import { beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbStateStore,
  DynamoDbStateTable,
  StateConflictError,
} from '../../functions/adapters/aws/dynamodb-state.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store.ts';
import { SqsDeadLetterSink } from '../../functions/adapters/aws/sqs-dead-letter-sink.ts';
import type { DeadLetter } from '../../functions/core/index.ts';
import { StaleFenceError } from '../../functions/ports/state-store.ts';
import { createResources, drainQueue, type Resources } from './handlers.support.ts';

let res: Resources;
let objects: S3ObjectStore;

beforeAll(async () => {
  res = await createResources();
  objects = new S3ObjectStore({ buckets: res.buckets, client: res.clients.s3 });
});

describe('S3 object store on the emulator', () => {
  it('puts each layer into its own bucket and reads it back', async () => {
    // Prepare
    const bytes = new Uint8Array([1, 2, 3]);
    // Act
    await objects.put('silver/events/dt=2026-01-01/hr=00/t-0-0-9.parquet', bytes);
    // Assess
    expect(await objects.get('silver/events/dt=2026-01-01/hr=00/t-0-0-9.parquet')).toEqual(bytes);
    expect(await objects.list('silver/')).toEqual(['silver/events/dt=2026-01-01/hr=00/t-0-0-9.parquet']);
    expect(await objects.list('bronze/')).toEqual([]);
  });

  it('answers undefined for a missing key and deletes keys, missing ones included', async () => {
    // Prepare
    await objects.put('gold/alerts/a.parquet', new Uint8Array([9]));
    // Act
    await objects.delete(['gold/alerts/a.parquet', 'gold/alerts/never-written.parquet']);
    // Assess
    expect(await objects.get('gold/alerts/a.parquet')).toBeUndefined();
  });

  it('refuses a key outside the layers, naming it', () => {
    expect(() => objects.bucketOf('tmp/x')).toThrow(/tmp\/x.*bronze\/, silver\/, gold\/ or ops\//);
  });
});

describe('DynamoDB state table on the emulator', () => {
  it('records an intent, commits state and fences in one conditional write, and clears the intent', async () => {
    // Prepare
    const table = new DynamoDbStateTable({ tableName: res.table, client: res.clients.dynamodb });
    const id = { consumer: 'enrich', topic: 'raw', scope: '0' };
    // Act
    const v1 = await table.beginIntent(id, 0, ['silver/a', 'silver/b']);
    const during = await table.load(id);
    await table.commit(id, v1, { state: { seen: ['e1'] }, fences: { '0': 99 }, sources: { 'raw-0': 7 } });
    const after = await table.load<{ seen: string[] }>(id);
    // Assess
    expect(during.intent?.keys).toEqual(['silver/a', 'silver/b']);
    expect(after).toMatchObject({
      version: 2,
      fences: { '0': 99 },
      sources: { 'raw-0': 7 },
      state: { seen: ['e1'] },
    });
    expect(after.intent).toBeUndefined();
  });

  it('refuses a write from a stale version (optimistic concurrency)', async () => {
    // Prepare
    const table = new DynamoDbStateTable({ tableName: res.table, client: res.clients.dynamodb });
    const id = { consumer: 'windows', topic: 'enriched', scope: '*' };
    const v1 = await table.beginIntent(id, 0, []);
    await table.commit(id, v1, { state: 1, fences: { '0': 1 }, sources: {} });
    // Act
    const stale = table.beginIntent(id, 0, ['gold/x']);
    const staleCommit = table.commit(id, v1, { state: 2, fences: { '1': 5 }, sources: {} });
    // Assess
    await expect(stale).rejects.toBeInstanceOf(StateConflictError);
    await expect(staleCommit).rejects.toBeInstanceOf(StateConflictError);
    expect((await table.load(id)).state).toBe(1);
  });

  it('spills a state too large for an item to S3 and reads it back through the pointer', async () => {
    // Prepare
    const table = new DynamoDbStateTable({
      tableName: res.table,
      client: res.clients.dynamodb,
      spill: objects,
      spillAboveBytes: 1_000,
    });
    const id = { consumer: 'cep', topic: 'enriched', scope: '2' };
    const big = Array.from({ length: 5_000 }, (_, i) => `user-${i}-${(i * 7919) % 10007}`);
    // Act
    await table.commit(id, 0, { state: big, fences: { '2': 10 }, sources: {} });
    const loaded = await table.load<string[]>(id);
    // Assess
    expect(loaded.stateRef).toMatch(/^ops\/state\/cep\/enriched\/2\/v1\.json\.gz$/);
    expect(loaded.state).toEqual(big);
  });

  it('implements the StateStore port: a save from a stale fence throws StaleFenceError', async () => {
    // Prepare
    const store = new DynamoDbStateStore(
      new DynamoDbStateTable({ tableName: res.table, client: res.clients.dynamodb }),
    );
    const key = { consumer: 'enrich', topic: 'port', partition: 3 };
    await store.save(key, { state: { n: 1 }, lastOffset: 10 }, null);
    // Act
    const stale = store.save(key, { state: { n: 2 }, lastOffset: 20 }, null);
    // Assess
    await expect(stale).rejects.toBeInstanceOf(StaleFenceError);
    expect(await store.load(key)).toEqual({ state: { n: 1 }, lastOffset: 10 });
  });
});

describe('SQS dead-letter sink on the emulator', () => {
  it('sends every letter in batches of at most 10, with reason and coordinates', async () => {
    // Prepare
    const sink = new SqsDeadLetterSink({ queueUrl: res.queueUrl, client: res.clients.sqs, spill: objects });
    const letters: DeadLetter[] = Array.from({ length: 23 }, (_, i) => ({
      reason: { code: 'invalid_json', message: `bad ${i}` },
      topic: 'raw',
      partition: 1,
      offset: 100 + i,
      key: `u${i}`,
      valueBase64: Buffer.from(`{bad ${i}`).toString('base64'),
    }));
    // Act
    await sink.send({ topic: 'raw', partition: 1, firstOffset: 100, lastOffset: 122 }, letters);
    const received = await drainQueue(res.clients.sqs, res.queueUrl);
    // Assess
    expect(sink.sent).toBe(23);
    expect(received.map((l) => l.offset).sort((a, b) => a - b)).toEqual(letters.map((l) => l.offset));
    expect(received.find((l) => l.offset === 105)).toEqual(letters[5]);
  });

  it('stores an oversize letter in the ops bucket and sends a pointer instead of the bytes', async () => {
    // Prepare
    const sink = new SqsDeadLetterSink({ queueUrl: res.queueUrl, client: res.clients.sqs, spill: objects });
    const huge = Buffer.alloc(300_000, 'a').toString('base64');
    const letter: DeadLetter = {
      reason: { code: 'too_large', message: 'too large' },
      topic: 'raw',
      partition: 0,
      offset: 42,
      key: 'u1',
      valueBase64: huge,
    };
    // Act
    await sink.send({ topic: 'raw', partition: 0, firstOffset: 42, lastOffset: 42 }, [letter]);
    const [received] = await drainQueue(res.clients.sqs, res.queueUrl);
    // Assess
    expect(received).toMatchObject({ offset: 42, valueRef: 'ops/dead_letters/raw-0-42.json' });
    const stored = JSON.parse(
      Buffer.from((await objects.get('ops/dead_letters/raw-0-42.json')) ?? []).toString(),
    ) as DeadLetter;
    expect(stored.valueBase64).toBe(huge);
  });
});
