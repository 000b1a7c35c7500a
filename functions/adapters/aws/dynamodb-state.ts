/**
 * The commit point of the consumers' state in DynamoDB (the `FencedTable` port of
 * `functions/state/table.ts`), fenced (SPEC §5).
 *
 * **One item per state.** `pk = state#<consumer>`, `sk = <topic>#<partition>`: every state is
 * owned by one partition (SPEC §4 "State"). The item holds
 * - `v`: a version, incremented by every write (optimistic concurrency),
 * - `fences`: the last applied offset of the partition,
 * - `sources`: the last applied offset per source partition (`<raw topic>-<p>`), for consumers
 *   of the enriched topic: `enrich` may produce an event again when its batch is retried, and such
 *   a copy carries a source offset already applied,
 * - `state`: gzip'd JSON; for the stateful consumers a small manifest of the partition's state
 *   objects in S3 (`functions/state/partition-state.ts`), so the item stays under 1 KB and every
 *   write costs one write unit. (A state over 8 KB compressed would go to S3 and be referenced
 *   as `stateRef`: the layout before partition-owned state, which the backend refuses to read.)
 * - `intent`: the output keys of an attempt that has not committed yet.
 * The protocol of an attempt (load, intent, outputs, commit) is `functions/state/fenced.ts`.
 *
 * Throttling (`ProvisionedThroughputExceededException`, ...) is retried with backoff on top of
 * the SDK's retries; a write that still fails fails the batch, which is redelivered: never dropped.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { ObjectStore } from '../../ports/object-store.ts';
import {
  type FencedState,
  StaleFenceError,
  type StateKey,
  type StateStore,
} from '../../ports/state-store.ts';
import {
  type FencedTable,
  NO_RECORD,
  StateConflictError,
  type StateId,
  type StateRecord,
  type StateUpdate,
  stateIdString,
} from '../../state/table.ts';
import { N, S } from './dynamodb-values.ts';
import { type RetryOptions, withRetry } from './retry.ts';

export {
  type Intent,
  StateConflictError,
  type StateId,
  type StateRecord,
  type StateUpdate,
  stateIdString,
} from '../../state/table.ts';

export interface DynamoDbStateTableOptions {
  readonly tableName: string;
  /** @default a new `DynamoDBClient` from the environment */
  readonly client?: DynamoDBClient;
  /** Where a state too large for an item goes (`ops/state/...`); without it a large state throws. */
  readonly spill?: ObjectStore & { delete?(keys: readonly string[]): Promise<void> };
  /** Compressed state size above which it is spilled to S3 (see the module doc: cost). @default 8_192 */
  readonly spillAboveBytes?: number;
  readonly retry?: RetryOptions;
  /** @default Date.now */
  readonly clock?: () => number;
}

function numberMap(m: Readonly<Record<string, number>>): AttributeValue {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(m)) out[k] = N(v);
  return { M: out };
}

function readNumberMap(a: AttributeValue | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(a?.M ?? {})) if (v.N !== undefined) out[k] = Number(v.N);
  return out;
}

function isConditionFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err instanceof Error && err.name === 'ConditionalCheckFailedException')
  );
}

export class DynamoDbStateTable implements FencedTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  private readonly spill: DynamoDbStateTableOptions['spill'];
  private readonly spillAbove: number;
  private readonly retry: RetryOptions | undefined;
  private readonly clock: () => number;

  constructor(options: DynamoDbStateTableOptions) {
    this.client = options.client ?? new DynamoDBClient({});
    this.tableName = options.tableName;
    this.spill = options.spill;
    this.spillAbove = options.spillAboveBytes ?? 8_192;
    this.retry = options.retry;
    this.clock = options.clock ?? Date.now;
  }

  private key(id: StateId): Record<string, AttributeValue> {
    return { pk: S(`state#${id.consumer}`), sk: S(`${id.topic}#${id.scope}`) };
  }

  async load<St>(id: StateId): Promise<StateRecord<St>> {
    const out = await withRetry(
      () =>
        this.client.send(
          new GetItemCommand({ TableName: this.tableName, Key: this.key(id), ConsistentRead: true }),
        ),
      this.retry,
    );
    const item = out.Item;
    if (item === undefined) {
      return NO_RECORD;
    }
    const stateRef = item['stateRef']?.S;
    let packed: Uint8Array | undefined = item['state']?.B;
    if (stateRef !== undefined) {
      if (this.spill === undefined)
        throw new Error(`state ${stateIdString(id)} is in S3 (${stateRef}) but no spill store is configured`);
      packed = await this.spill.get(stateRef);
      if (packed === undefined)
        throw new Error(`state ${stateIdString(id)}: spilled object ${stateRef} is missing`);
    }
    const state = packed === undefined ? undefined : (JSON.parse(gunzipSync(packed).toString('utf8')) as St);
    const intentAttr = item['intent']?.M;
    const intent =
      intentAttr === undefined
        ? undefined
        : {
            keys: (intentAttr['keys']?.L ?? []).map((k) => k.S ?? '').filter((k) => k !== ''),
            at: Number(intentAttr['at']?.N ?? 0),
          };
    return {
      version: Number(item['v']?.N ?? 0),
      fences: readNumberMap(item['fences']),
      sources: readNumberMap(item['sources']),
      state,
      intent,
      stateRef,
    };
  }

  private versionCondition(expectedVersion: number): {
    ConditionExpression: string;
    ExpressionAttributeValues: Record<string, AttributeValue>;
  } {
    return expectedVersion === 0
      ? { ConditionExpression: 'attribute_not_exists(pk)', ExpressionAttributeValues: {} }
      : {
          ConditionExpression: 'v = :expected',
          ExpressionAttributeValues: { ':expected': N(expectedVersion) },
        };
  }

  /**
   * Runs a write conditional on the item's version (with retries on throttling); a failed
   * condition becomes StateConflictError. `write` sends a new command on each attempt.
   */
  private async conditionalWrite(
    id: StateId,
    expectedVersion: number,
    write: () => Promise<unknown>,
  ): Promise<void> {
    if (!(await this.writeIf(write))) throw new StateConflictError(id, expectedVersion);
  }

  /** Runs a conditional write (with retries on throttling); false when its condition failed. */
  private async writeIf(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await withRetry(write, this.retry);
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Records an attempt's output keys; returns the new version. Throws StateConflictError. */
  async beginIntent(id: StateId, expectedVersion: number, keys: readonly string[]): Promise<number> {
    const cond = this.versionCondition(expectedVersion);
    const next = expectedVersion + 1;
    await this.conditionalWrite(id, expectedVersion, () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(id),
          UpdateExpression: 'SET v = :next, intent = :intent',
          ConditionExpression: cond.ConditionExpression,
          ExpressionAttributeValues: {
            ...cond.ExpressionAttributeValues,
            ':next': N(next),
            ':intent': { M: { keys: { L: keys.map(S) }, at: N(this.clock()) } },
          },
        }),
      ),
    );
    return next;
  }

  /**
   * Writes the new state and fences and clears the intent, conditional on `expectedVersion`, in one
   * PutItem. Spills the state to S3 first when it is too large. Throws StateConflictError.
   */
  async commit<St>(
    id: StateId,
    expectedVersion: number,
    update: StateUpdate<St>,
    previousRef?: string,
  ): Promise<void> {
    const packed = gzipSync(Buffer.from(JSON.stringify(update.state)), { level: 1 });
    const next = expectedVersion + 1;
    const item: Record<string, AttributeValue> = {
      ...this.key(id),
      v: N(next),
      fences: numberMap(update.fences),
      sources: numberMap(update.sources),
      updated_at: N(this.clock()),
    };
    let ref: string | undefined;
    if (packed.byteLength > this.spillAbove) {
      if (this.spill === undefined) {
        throw new RangeError(
          `state ${stateIdString(id)} is ${packed.byteLength} bytes compressed, over ${this.spillAbove}: configure a spill store`,
        );
      }
      ref = `ops/state/${id.consumer}/${id.topic}/${id.scope === '*' ? 'all' : id.scope}/v${next}.json.gz`;
      await this.spill.put(ref, packed);
      item['stateRef'] = S(ref);
    } else {
      item['state'] = { B: packed };
    }
    const cond = this.versionCondition(expectedVersion);
    try {
      await this.conditionalWrite(id, expectedVersion, () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: cond.ConditionExpression,
            ...(Object.keys(cond.ExpressionAttributeValues).length > 0
              ? { ExpressionAttributeValues: cond.ExpressionAttributeValues }
              : {}),
          }),
        ),
      );
    } catch (err) {
      // The spilled state this write would have pointed at is an orphan now.
      if (ref !== undefined) await this.spill?.delete?.([ref]).catch(() => undefined);
      throw err;
    }
    // The previous spilled state is unreachable now; removing it is housekeeping, not correctness.
    if (previousRef !== undefined && previousRef !== ref)
      await this.spill?.delete?.([previousRef]).catch(() => undefined);
  }

  /** Drops a leftover intent whose keys were deleted; conditional on `expectedVersion`. */
  async clearIntent(id: StateId, expectedVersion: number): Promise<void> {
    await this.conditionalWrite(id, expectedVersion, () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(id),
          UpdateExpression: 'SET v = :next REMOVE intent',
          ConditionExpression: 'v = :expected',
          ExpressionAttributeValues: { ':expected': N(expectedVersion), ':next': N(expectedVersion + 1) },
        }),
      ),
    );
  }
}

/**
 * The `StateStore` port on the state table (one fence per (consumer, topic, partition)): `save`
 * is one conditional PutItem on the item's version, after checking the stored fence. For stages
 * used outside the handlers' intent protocol (tools, tests).
 */
export class DynamoDbStateStore implements StateStore {
  private readonly table: DynamoDbStateTable;
  constructor(table: DynamoDbStateTable) {
    this.table = table;
  }

  private id(key: StateKey): StateId {
    return { consumer: key.consumer, topic: key.topic, scope: String(key.partition) };
  }

  async load<St>(key: StateKey): Promise<FencedState<St> | undefined> {
    const rec = await this.table.load<St>(this.id(key));
    const fence = rec.fences[String(key.partition)];
    if (rec.state === undefined || fence === undefined) return undefined;
    return { state: rec.state, lastOffset: fence };
  }

  async save<St>(key: StateKey, next: FencedState<St>, expectedLastOffset: number | null): Promise<void> {
    const id = this.id(key);
    const rec = await this.table.load<St>(id);
    const actual = rec.fences[String(key.partition)] ?? null;
    if (
      actual !== expectedLastOffset ||
      (expectedLastOffset !== null && next.lastOffset <= expectedLastOffset)
    )
      throw new StaleFenceError(key, expectedLastOffset, actual);
    try {
      await this.table.commit(
        id,
        rec.version,
        {
          state: next.state,
          fences: { ...rec.fences, [String(key.partition)]: next.lastOffset },
          sources: rec.sources,
        },
        rec.stateRef,
      );
    } catch (err) {
      if (err instanceof StateConflictError) {
        const now = await this.table.load<St>(id);
        throw new StaleFenceError(key, expectedLastOffset, now.fences[String(key.partition)] ?? null);
      }
      throw err;
    }
  }
}

/**
 * Creates an on-demand state table with the key this adapter reads and writes (`pk`, `sk`, both
 * strings), for the emulator and tests; deployed environments get it from the CDK State stack.
 */
export async function createStateTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}
