/**
 * Records the calls the consumer functions make, as they make them:
 * - AWS: a middleware on each of a function's SDK clients (`recordSdkClients`) records the command
 *   and the resources named in its input (bucket and keys, tables, queue URL), before it is sent;
 * - Kafka: a subscriber to `@platformatic/kafka`'s diagnostics channels (`KafkaRecorder`) records every
 *   protocol request a client sent and the broker answered, with the topics and group it concerned
 *   (from the response, and the group from the client that sent it). It sees the producer and admin
 *   clients of the functions and the consumer of the local event source mapping alike, without any
 *   wrapper in their code. A client is attributed to a function by its client id: `attribute`
 *   returns the function, `null` for a client of the test harness, `undefined` for an unknown client
 *   (then recorded as unattributed, which fails the contract).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { protocolAPIsById } from '@platformatic/kafka';
import type { AwsClients } from '../../../functions/commons/clients.ts';
import type { RecordedCall } from './contract.ts';
import type { Call } from './permission-map.ts';

/** Distinct calls with their counts, per function. */
export class CallLog {
  private readonly calls = new Map<string, Map<string, RecordedCall>>();

  add(consumer: string, call: Call, by: RecordedCall['by']): void {
    let mine = this.calls.get(consumer);
    if (mine === undefined) {
      mine = new Map();
      this.calls.set(consumer, mine);
    }
    const key = JSON.stringify([
      by,
      call.service,
      call.operation,
      call.bucket,
      call.key,
      call.table,
      call.queueUrl,
      call.topic,
      call.group,
    ]);
    const prior = mine.get(key);
    mine.set(key, { ...call, by, count: (prior?.count ?? 0) + 1 });
  }

  of(consumer: string): RecordedCall[] {
    return [...(this.calls.get(consumer)?.values() ?? [])];
  }

  consumers(): string[] {
    return [...this.calls.keys()].sort();
  }
}

/** The calls an SDK command input stands for: one per resource it names. */
export function sdkCalls(service: string, operation: string, input: Record<string, unknown>): Call[] {
  const base = { service, operation };
  if (service === 's3') {
    const bucket = String(input['Bucket'] ?? '');
    const deleted = (input['Delete'] as { Objects?: { Key?: string }[] } | undefined)?.Objects;
    if (deleted) return deleted.map((o) => ({ ...base, bucket, key: String(o.Key) }));
    if (typeof input['Key'] === 'string') return [{ ...base, bucket, key: input['Key'] }];
    return [{ ...base, bucket }];
  }
  if (service === 'dynamodb') {
    if (typeof input['TableName'] === 'string') return [{ ...base, table: input['TableName'] }];
    const items = input['RequestItems'] as Record<string, unknown> | undefined;
    if (items) return Object.keys(items).map((table) => ({ ...base, table }));
    const transact = input['TransactItems'] as Record<string, { TableName?: string }>[] | undefined;
    if (transact)
      return transact.flatMap((t) =>
        Object.values(t).map((op) => ({ ...base, table: String(op.TableName) })),
      );
    return [base];
  }
  if (service === 'sqs' && typeof input['QueueUrl'] === 'string')
    return [{ ...base, queueUrl: input['QueueUrl'] }];
  return [base];
}

/** Adds the recording middleware to every client of one function. */
export function recordSdkClients(clients: AwsClients, consumer: string, log: CallLog): void {
  const recorder =
    <I extends object, O>(service: string) =>
    (next: (args: { input: I }) => Promise<O>, context: { commandName?: string }) =>
    async (args: { input: I }): Promise<O> => {
      const operation = String(context.commandName).replace(/Command$/, '');
      for (const call of sdkCalls(service, operation, args.input as Record<string, unknown>))
        log.add(consumer, call, 'function');
      return next(args);
    };
  const at = { step: 'initialize', name: 'iamContractRecorder', override: true } as const;
  clients.s3.middlewareStack.add(recorder('s3'), at);
  clients.dynamodb.middlewareStack.add(recorder('dynamodb'), at);
  clients.sqs.middlewareStack.add(recorder('sqs'), at);
}

interface KafkaClientLike {
  readonly instanceId: number;
  readonly clientId: string;
  readonly type?: string;
  readonly groupId?: string;
}

interface ApiDiagnostic {
  readonly connection: { readonly ownerId?: number };
  readonly apiKey: number;
  readonly result?: unknown;
  readonly error?: unknown;
}

/** Group APIs: the group is the sending client's (a consumer's) group. */
const GROUP_APIS = new Set([
  'JoinGroup',
  'SyncGroup',
  'Heartbeat',
  'LeaveGroup',
  'OffsetCommit',
  'OffsetFetch',
]);

export type Attribution = (
  clientId: string,
) => { consumer: string; by: RecordedCall['by'] } | null | undefined;

export class KafkaRecorder {
  /** Clients seen with an id `attribute` does not know. */
  readonly unattributed = new Set<string>();
  private readonly clients = new Map<number, KafkaClientLike>();
  private readonly topicIds = new Map<string, string>();
  private readonly onInstance = (m: unknown) => {
    const { instance } = m as { instance: Partial<KafkaClientLike> };
    if (typeof instance.instanceId === 'number' && typeof instance.clientId === 'string')
      this.clients.set(instance.instanceId, instance as KafkaClientLike);
  };
  private readonly onResponse = (m: unknown) => this.record(m as ApiDiagnostic);
  private readonly pending: ApiDiagnostic[] = [];

  constructor(
    private readonly log: CallLog,
    private readonly attribute: Attribution,
  ) {}

  start(): this {
    subscribe('plt:kafka:instances', this.onInstance);
    subscribe('tracing:plt:kafka:connections:api:asyncStart', this.onResponse);
    return this;
  }

  stop(): void {
    unsubscribe('plt:kafka:instances', this.onInstance);
    unsubscribe('tracing:plt:kafka:connections:api:asyncStart', this.onResponse);
    // Fetch responses name topics by id: resolve what came before the metadata that names them.
    for (const d of this.pending.splice(0)) this.record(d, true);
  }

  private record(d: ApiDiagnostic, late = false): void {
    if (d.error !== undefined || d.result === undefined) return; // retried; the successful attempt is recorded
    const client = d.connection.ownerId === undefined ? undefined : this.clients.get(d.connection.ownerId);
    const clientId = client?.clientId ?? `<connection of owner ${String(d.connection.ownerId)}>`;
    const who = this.attribute(clientId);
    const operation = protocolAPIsById[d.apiKey] ?? `ApiKey${d.apiKey}`;
    const result = d.result as Record<string, unknown>;
    this.learnTopicIds(result);
    if (who === null) return;
    if (who === undefined) {
      this.unattributed.add(clientId);
      return;
    }
    const topics = this.topicsOf(result);
    if (topics === undefined) {
      if (!late) this.pending.push(d);
      else this.unattributed.add(`${clientId} (${operation} of an unknown topic id)`);
      return;
    }
    const group = GROUP_APIS.has(operation) ? client?.groupId : undefined;
    const base = { service: 'kafka', operation, ...(group === undefined ? {} : { group }) };
    if (operation === 'FindCoordinator') {
      const keys = ((result['coordinators'] as { key: string }[] | undefined) ?? []).map((c) => c.key);
      for (const key of keys) this.log.add(who.consumer, { ...base, group: key }, who.by);
      return;
    }
    if (topics.length === 0) {
      // An incremental fetch session answers "nothing new" without naming its topics.
      if (operation !== 'Fetch') this.log.add(who.consumer, base, who.by);
      return;
    }
    for (const topic of topics) this.log.add(who.consumer, { ...base, topic }, who.by);
  }

  private learnTopicIds(result: Record<string, unknown>): void {
    for (const t of (result['topics'] as { name?: string; topicId?: string }[] | undefined) ?? []) {
      if (t.name && t.topicId) this.topicIds.set(t.topicId, t.name);
    }
  }

  /** Topic names a response concerns; undefined while a topic id is not known yet. */
  private topicsOf(result: Record<string, unknown>): string[] | undefined {
    const names = new Set<string>();
    let unknownId = false;
    const visit = (entries: unknown) => {
      for (const e of (entries as { name?: string; topicId?: string; topics?: unknown }[] | undefined) ??
        []) {
        if (typeof e.name === 'string' && e.name !== '') names.add(e.name);
        else if (typeof e.topicId === 'string') {
          const n = this.topicIds.get(e.topicId);
          if (n === undefined) unknownId = true;
          else names.add(n);
        }
        if (e.topics !== undefined) visit(e.topics);
      }
    };
    visit(result['topics']);
    visit(result['responses']);
    visit(result['groups']);
    return unknownId ? undefined : [...names].sort();
  }
}
