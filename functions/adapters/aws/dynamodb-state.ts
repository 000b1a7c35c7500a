/**
 * The consumers' state in DynamoDB, fenced (SPEC §5). Design, in full:
 *
 * **One item per state.** `pk = state#<consumer>`, `sk = <topic>#<scope>` where the scope is the
 * partition for per-partition states (ingest, enrich, cep, and the windows consumer's session
 * windows) and `*` for the windows consumer's fixed windows and watermarks, ONE state across all
 * partitions of the enriched topic (a global watermark). The item holds
 * - `v`: a version, incremented by every write (optimistic concurrency),
 * - `fences`: the last applied offset per partition of the consumed topic,
 * - `sources`: the last applied offset per source partition (`<raw topic>-<p>`), for consumers
 *   of the enriched topic: `enrich` may produce an event again when its batch is retried, and such
 *   a copy carries a source offset already applied,
 * - `state`: the stage state as gzip'd JSON, or `stateRef`, the S3 key of it when it is larger than
 *   8 KB compressed. Not for the 400 KB item limit alone, for cost: DynamoDB bills a write by the
 *   KB of the item, and a state is written twice per attempt (the intent update is billed by the
 *   item's size too), so a state of more than about 4 KB costs more there than one S3 PUT and
 *   GET ($0.625 per million write units, $5 per million PUTs: `bench/prices.json`). Measured on
 *   the local-stack bench (50k events): 5.0 write units per event and $3.75 per million events
 *   with the threshold at 300 KB, 2.25 and $2.13 at 8 KB, where the windows states went to S3
 *   and the others stayed,
 * - `intent`: the output keys of an attempt that has not committed yet.
 * The enrich consumer's seen event ids and the cep consumer's key states are NOT in these items:
 * they are items of their own in the same table (`dedup#...`, `cep#...`: see `dynamodb-dedup.ts`
 * and `dynamodb-key-state.ts`), so those two states hold little more than their fences.
 *
 * **One attempt** (see `functions/handlers/lib/fenced.ts`):
 * 1. `load`: version `v`, fences, state, and a leftover `intent` if an earlier attempt died.
 * 2. Compute the batch from that state (records at or below the fences are skipped). Outputs are
 *    buffered; side effects that are idempotent by id (dead letters by coordinates, enriched
 *    events by source offset, alerts by alert_id) go out now.
 * 3. `beginIntent(v)`: conditional on `v`, records the attempt's output keys, plus the leftover
 *    intent's keys it does not overwrite (so a death at step 4 forgets nothing) → `v+1`.
 * 4. Delete those leftover keys: a retried batch can have different boundaries (bisect, partial
 *    batch response), so a dead attempt's files, named by their first/last offsets, would
 *    otherwise survive beside the retry's.
 * 5. Write the outputs (deterministic keys), THEN
 * 6. `commit(v+1)`: conditional on `v+1`, the new state and fences in the same write, intent
 *    cleared → `v+2`.
 * An attempt with nothing new to apply deletes a leftover intent's keys first and clears the
 * intent (`clearIntent(v)`) after: in the other order, a death in between leaves orphans.
 * A failed condition at 3 or 6 (`StateConflictError`) means another invocation moved the item
 * (possible only for the windows state, whose partitions are processed concurrently): the attempt
 * deletes its own outputs, reloads and recomputes. Writes are coalesced: one intent and one commit
 * per state per invocation, whatever the number of records.
 *
 * **The lease** (`acquireLease`, `renewLease`, `releaseLease`): the windows consumer holds it for
 * a whole attempt, so invocations for different partitions take turns on the shared item instead
 * of all computing and all but one redoing it (measured on the local stack with 3 concurrent
 * pollers: 1.25 redone attempts per windows invocation without it). It is a small item of its own,
 * `lease#<consumer>` / `<topic>#<scope>` with `lease_owner` and `lease_until` (and a TTL). It lasts
 * 15 s and is renewed every 5 s while the attempt runs, so a holder that dies blocks the state for
 * at most 15 s; the attempt deletes it when done, committed or not. It does not touch the version:
 * the version conditions above remain the guard of correctness, and a holder whose lease lapsed (a
 * pause longer than its lifetime) still cannot commit over a newer version.
 *
 * Residual risk, documented: an attempt superseded at step 4 by a concurrent one while its own
 * puts are still in flight, and that dies before it can delete them, leaves orphan files. With the
 * lease this needs a holder paused past its lease's lifetime (15 s without a renewal) that then
 * dies, instead of any two overlapping invocations.
 *
 * Throttling (`ProvisionedThroughputExceededException`, ...) is retried with backoff on top of
 * the SDK's retries; a write that still fails fails the batch, which is redelivered: never dropped.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
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
import { N, S, TTL_ATTRIBUTE } from './dynamodb-batch.ts';
import { type RetryOptions, withRetry } from './retry.ts';

export interface StateId {
  readonly consumer: string;
  readonly topic: string;
  /** A partition number, or `*` for a state shared by all partitions of the topic. */
  readonly scope: string;
}

export interface Intent {
  readonly keys: readonly string[];
  /** Epoch ms of `beginIntent`. */
  readonly at: number;
}

export interface StateRecord<S> {
  /** 0 when the item does not exist. */
  readonly version: number;
  readonly fences: Readonly<Record<string, number>>;
  readonly sources: Readonly<Record<string, number>>;
  readonly state: S | undefined;
  readonly intent: Intent | undefined;
  /** S3 key of the spilled state, if any. */
  readonly stateRef: string | undefined;
}

export interface StateUpdate<S> {
  readonly state: S;
  readonly fences: Readonly<Record<string, number>>;
  readonly sources: Readonly<Record<string, number>>;
}

/** The item moved since it was loaded: reload and recompute. */
export class StateConflictError extends Error {
  readonly id: StateId;
  readonly expectedVersion: number;
  constructor(id: StateId, expectedVersion: number) {
    super(`state ${stateIdString(id)} changed since version ${expectedVersion} was loaded`);
    this.name = 'StateConflictError';
    this.id = id;
    this.expectedVersion = expectedVersion;
  }
}

export function stateIdString(id: StateId): string {
  return `${id.consumer}/${id.topic}/${id.scope}`;
}

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

export class DynamoDbStateTable {
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
      return {
        version: 0,
        fences: {},
        sources: {},
        state: undefined,
        intent: undefined,
        stateRef: undefined,
      };
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

  /**
   * The lease of a state: an item of its own (`lease#<consumer>` / `<topic>#<scope>`), not
   * attributes of the state item: DynamoDB bills an update by the size of the item, so every take,
   * renewal and refusal on a state item of hundreds of KB would cost as much as rewriting it.
   */
  private leaseKey(id: StateId): Record<string, AttributeValue> {
    return { pk: S(`lease#${id.consumer}`), sk: S(`${id.topic}#${id.scope}`) };
  }

  /**
   * Takes the state's lease for `owner` until `ttlMs` from now, when nobody holds it or its
   * holder's time is up. Returns false when another owner holds it. The lease keeps concurrent
   * attempts from computing on the same state (they wait instead of losing the race); it does not
   * replace the version conditions, which stay the guard of correctness.
   */
  async acquireLease(id: StateId, owner: string, ttlMs: number): Promise<boolean> {
    return this.setLease(id, owner, ttlMs, 'attribute_not_exists(lease_owner) OR lease_until < :now', true);
  }

  /**
   * Extends `owner`'s lease to `ttlMs` from now; false when it holds it no more (it expired and
   * another owner took it, or it was released: a renewal never takes a lease back).
   */
  async renewLease(id: StateId, owner: string, ttlMs: number): Promise<boolean> {
    return this.setLease(id, owner, ttlMs, 'lease_owner = :owner', false);
  }

  /** Sets `owner`'s lease to end `ttlMs` from now if `condition` holds (`:now` bound when `usesNow`). */
  private async setLease(
    id: StateId,
    owner: string,
    ttlMs: number,
    condition: string,
    usesNow: boolean,
  ): Promise<boolean> {
    const now = this.clock();
    const values: Record<string, AttributeValue> = {
      ':owner': S(owner),
      ':until': N(now + ttlMs),
      // Deletion by TTL is housekeeping for leases of states nobody touches any more.
      ':expires': N(Math.ceil((now + ttlMs) / 1000) + 86_400),
      ...(usesNow ? { ':now': N(now) } : {}),
    };
    return this.writeIf(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.leaseKey(id),
          UpdateExpression: 'SET lease_owner = :owner, lease_until = :until, #ttl = :expires',
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /** Ends `owner`'s lease; a no-op when it holds none (it expired and another owner took it). */
  async releaseLease(id: StateId, owner: string): Promise<void> {
    await this.writeIf(() =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: this.leaseKey(id),
          ConditionExpression: 'lease_owner = :owner',
          ExpressionAttributeValues: { ':owner': S(owner) },
        }),
      ),
    );
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
