import { describe, expect, it } from 'vitest';
import { type Action, type EngineConfig, MappingEngine } from '../../../localstack/esm/engine.ts';
import { buildEvent, MAX_PAYLOAD_BYTES, type PolledRecord } from '../../../localstack/esm/event.ts';
import { baseConfig, fakeClock, ids, range, rec } from './support.ts';

function engine(overrides: Partial<EngineConfig> = {}, clock = fakeClock()) {
  const e = new MappingEngine({ ...baseConfig, ...overrides }, clock.now, ids());
  return { e, clock };
}

function only(actions: Action[]): Action {
  expect(actions).toHaveLength(1);
  return actions[0] as Action;
}

function invoke(action: Action): Extract<Action, { kind: 'invoke' }> {
  if (action.kind !== 'invoke') throw new Error(`expected an invocation, got ${action.kind}`);
  return action;
}

function offsets(records: readonly PolledRecord[]): string[] {
  return records.map((r) => `${r.partition}:${r.offset}`);
}

const fail = { kind: 'error', message: 'Error: boom' } as const;

describe('batch size and batching window', () => {
  it('invokes as soon as a batch is full, before the window closes', () => {
    const { e } = engine({ batchSize: 3, batchingWindowMs: 10_000 });
    e.add(range(0, 5));

    const action = invoke(only(e.poll()));

    expect(offsets(action.records)).toEqual(['0:0', '0:1', '0:2']);
  });

  it('waits for the batching window while the batch is not full, then invokes with what arrived', () => {
    const { e, clock } = engine({ batchSize: 10, batchingWindowMs: 500 });
    e.add(range(0, 2));

    const before = e.poll();
    clock.advance(499);
    const stillBefore = e.poll();
    clock.advance(1);
    const after = e.poll();

    expect(before).toEqual([]);
    expect(stillBefore).toEqual([]);
    expect(offsets(invoke(only(after)).records)).toEqual(['0:0', '0:1']);
    expect(e.nextDeadline()).toBeUndefined();
  });

  it('reports when the window of waiting records closes', () => {
    const { e, clock } = engine({ batchingWindowMs: 800 });
    e.add([rec(0)]);

    expect(e.nextDeadline()).toBe(clock.now() + 800);
  });
});

describe('6 MB payload limit', () => {
  it('cuts a batch before the event would pass 6 MB, and invokes the rest next', () => {
    const { e } = engine({ batchSize: 100, batchingWindowMs: 0 });
    e.add(range(0, 8, { bytes: 1024 * 1024 })); // ~1.33 MB each once base64-encoded

    const first = invoke(only(e.poll()));
    e.settle(first.actionId, { kind: 'success' });
    const second = invoke(only(e.poll()));

    const size = (rs: readonly PolledRecord[]) =>
      Buffer.byteLength(JSON.stringify(buildEvent(baseConfig.bootstrapServers, rs)));
    expect(first.records).toHaveLength(4);
    expect(size(first.records)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(size([...first.records, rec(4, { bytes: 1024 * 1024 })])).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    expect(offsets(second.records)).toEqual(['0:4', '0:5', '0:6', '0:7']);
  });

  it('sends a single record over 6 MB to the on-failure destination without invoking', () => {
    const { e } = engine({ batchingWindowMs: 0 });
    e.add([rec(0, { bytes: 5 * 1024 * 1024 })]);

    const action = only(e.poll());

    expect(action).toMatchObject({
      kind: 'onFailure',
      condition: 'MaximumPayloadSizeExceeded',
      approximateInvokeCount: 0,
      functionError: null,
    });
  });
});

describe('per-partition order and pollers', () => {
  it('never starts a second invocation holding a partition that is in flight', () => {
    const { e } = engine({ batchSize: 2, batchingWindowMs: 0, pollers: 1 });
    e.add(range(0, 4));

    const first = invoke(only(e.poll()));
    const whileInFlight = e.poll();
    e.settle(first.actionId, { kind: 'success' });
    const second = invoke(only(e.poll()));

    expect(whileInFlight).toEqual([]);
    expect(offsets(second.records)).toEqual(['0:2', '0:3']);
  });

  it('invokes partitions of different pollers in parallel, each partition in one invocation only', () => {
    const { e } = engine({ batchSize: 10, batchingWindowMs: 0, pollers: 2 });
    e.add([...range(0, 2, { partition: 0 }), ...range(0, 2, { partition: 1 })]);

    const actions = e.poll().map(invoke);

    expect(actions).toHaveLength(2);
    const partitionsPerAction = actions.map((a) => new Set(a.records.map((r) => r.partition)));
    expect(partitionsPerAction.map((s) => [...s])).toEqual([[0], [1]]);
  });

  it('runs several invocations of one poller at once, each over partitions of its own (AWS: up to 5 per poller)', () => {
    const { e } = engine({ batchSize: 3, batchingWindowMs: 0, pollers: 1, invocationsPerPoller: 5 });
    e.add([0, 1, 2].flatMap((partition) => range(0, 6, { partition })));

    const actions = e.poll().map(invoke);
    const whileInFlight = e.poll();

    expect(actions.map((a) => offsets(a.records))).toEqual([
      ['0:0', '0:1', '0:2'],
      ['1:0', '1:1', '1:2'],
      ['2:0', '2:1', '2:2'],
    ]);
    expect(whileInFlight).toEqual([]);
  });

  it('starts a partition’s next batch only once its batch in flight is settled, while other partitions run on', () => {
    const { e } = engine({ batchSize: 3, batchingWindowMs: 0, pollers: 1, invocationsPerPoller: 5 });
    e.add([0, 1].flatMap((partition) => range(0, 6, { partition })));
    const [p0, p1] = e.poll().map(invoke);

    e.settle((p1 as Extract<Action, { kind: 'invoke' }>).actionId, { kind: 'success' });
    const next = invoke(only(e.poll()));

    expect(offsets(p0?.records ?? [])).toEqual(['0:0', '0:1', '0:2']);
    expect(offsets(next.records)).toEqual(['1:3', '1:4', '1:5']);
  });

  it('bounds concurrent invocations by pollers × invocations per poller', () => {
    const partitions = [0, 1, 2, 3, 4, 5, 6];
    const records = partitions.flatMap((partition) => range(0, 2, { partition }));
    const one = engine({ batchSize: 2, batchingWindowMs: 0, pollers: 1, invocationsPerPoller: 1 }).e;
    const two = engine({ batchSize: 2, batchingWindowMs: 0, pollers: 1, invocationsPerPoller: 2 }).e;
    const three = engine({ batchSize: 2, batchingWindowMs: 0, pollers: 3, invocationsPerPoller: 2 }).e;
    for (const e of [one, two, three]) e.add(records);

    expect([one, two, three].map((e) => e.poll().length)).toEqual([1, 2, 6]);
  });

  it('fills a batch across partitions when it has room, so a light load is one invocation', () => {
    const { e } = engine({ batchSize: 10, batchingWindowMs: 0, pollers: 1, invocationsPerPoller: 5 });
    e.add([0, 1, 2].flatMap((partition) => range(0, 2, { partition })));

    const action = invoke(only(e.poll()));

    expect(new Set(action.records.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
  });

  it('keeps a partition behind its failing batch: later records wait until the batch is resolved', () => {
    const { e } = engine({ batchSize: 2, batchingWindowMs: 0, maxRetries: 1 });
    e.add(range(0, 4));

    const first = invoke(only(e.poll()));
    e.settle(first.actionId, fail);
    const retry = invoke(only(e.poll()));

    expect(offsets(retry.records)).toEqual(['0:0', '0:1']);
    expect(retry.retry).toBe(true);
  });
});

describe('retries, on-failure destination and commits', () => {
  it('retries a failing batch MaximumRetryAttempts times, then sends its metadata to the destination', () => {
    const { e } = engine({ batchingWindowMs: 0, maxRetries: 2 });
    e.add(range(0, 3));

    const invocations: Action[] = [];
    let action = only(e.poll());
    while (action.kind === 'invoke') {
      invocations.push(action);
      e.settle(action.actionId, fail);
      action = only(e.poll());
    }

    expect(invocations).toHaveLength(3); // 1 + 2 retries
    expect(action).toMatchObject({
      kind: 'onFailure',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
      functionError: 'Unhandled',
      requestId: (invocations[2] as Extract<Action, { kind: 'invoke' }>).requestId,
    });
    expect(offsets(action.records)).toEqual(['0:0', '0:1', '0:2']);
  });

  it('commits nothing while a batch fails, and commits past it once the destination has it', () => {
    const { e } = engine({ batchingWindowMs: 0, maxRetries: 0 });
    e.assign('t', 0, 0);
    e.add(range(0, 3));

    const first = invoke(only(e.poll()));
    e.settle(first.actionId, fail);
    const commitsAfterFailure = e.takeCommits();
    const send = only(e.poll());
    e.settle(send.actionId, { kind: 'sent', ok: true });

    expect(commitsAfterFailure).toEqual([]);
    expect(e.takeCommits()).toEqual([{ topic: 't', partition: 0, offset: 3 }]);
    expect(e.stats.sentToOnFailure).toBe(3);
  });

  it('keeps the records (and the commit) when sending to the destination fails, and sends again', () => {
    const { e } = engine({ batchingWindowMs: 0, maxRetries: 0 });
    e.add(range(0, 2));
    e.settle(invoke(only(e.poll())).actionId, fail);

    const send = only(e.poll());
    e.settle(send.actionId, { kind: 'sent', ok: false });
    const again = only(e.poll());

    expect(e.takeCommits()).toEqual([]);
    expect(again.kind).toBe('onFailure');
    expect(offsets(again.records)).toEqual(['0:0', '0:1']);
  });

  it('commits the next offset after a successful batch', () => {
    const { e } = engine({ batchingWindowMs: 0 });
    e.add([...range(5, 8, { partition: 0 }), ...range(0, 2, { partition: 1 })]);

    e.settle(invoke(only(e.poll())).actionId, { kind: 'success' });

    expect(e.takeCommits()).toEqual([
      { topic: 't', partition: 0, offset: 8 },
      { topic: 't', partition: 1, offset: 2 },
    ]);
    expect(e.isIdle()).toBe(true);
  });

  it('skips exhausted records without a destination and moves on', () => {
    const { e } = engine({ batchingWindowMs: 0, maxRetries: 0, hasOnFailureDestination: false });
    e.add(range(0, 2));

    e.settle(invoke(only(e.poll())).actionId, fail);
    const after = e.poll();

    expect(after).toEqual([]);
    expect(e.stats.discarded).toBe(2);
    expect(e.takeCommits()).toEqual([{ topic: 't', partition: 0, offset: 2 }]);
  });

  it('ignores records fed again below what was already fed (a re-fetch)', () => {
    const { e } = engine({ batchingWindowMs: 0 });
    e.add(range(0, 3));
    e.add(range(1, 4));

    expect(offsets(invoke(only(e.poll())).records)).toEqual(['0:0', '0:1', '0:2', '0:3']);
  });
});

describe('bisect on function error', () => {
  it('splits a failing batch in two and retries the halves in order', () => {
    const { e } = engine({ batchingWindowMs: 0, bisectOnError: true, maxRetries: 0 });
    e.add(range(0, 4));

    e.settle(invoke(only(e.poll())).actionId, fail);
    const firstHalf = invoke(only(e.poll()));
    const whileFirstHalf = e.poll();
    e.settle(firstHalf.actionId, { kind: 'success' });
    const secondHalf = invoke(only(e.poll()));

    expect(offsets(firstHalf.records)).toEqual(['0:0', '0:1']);
    expect(whileFirstHalf).toEqual([]);
    expect(e.takeCommits()).toEqual([{ topic: 't', partition: 0, offset: 2 }]);
    expect(offsets(secondHalf.records)).toEqual(['0:2', '0:3']);
  });

  it('narrows down to the poison record, sends only it to the destination and delivers the rest', () => {
    const { e } = engine({ batchingWindowMs: 0, bisectOnError: true, maxRetries: 1 });
    e.add(range(0, 8));
    const poison = 5;

    const delivered: number[] = [];
    const sentToDestination: number[] = [];
    for (let step = 0; step < 50; step++) {
      const actions = e.poll();
      if (actions.length === 0) break;
      const action = only(actions);
      if (action.kind === 'onFailure') {
        sentToDestination.push(...action.records.map((r) => r.offset));
        e.settle(action.actionId, { kind: 'sent', ok: true });
      } else if (action.records.some((r) => r.offset === poison)) {
        e.settle(action.actionId, fail);
      } else {
        delivered.push(...action.records.map((r) => r.offset));
        e.settle(action.actionId, { kind: 'success' });
      }
    }

    expect(sentToDestination).toEqual([poison]);
    expect(delivered).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(e.takeCommits().at(-1)).toEqual({ topic: 't', partition: 0, offset: 8 });
  });
});

describe('partial batch response', () => {
  it('commits before the lowest failed offset and retries that partition from it; other partitions succeed', () => {
    const { e } = engine({ batchingWindowMs: 0, maxRetries: 3 });
    e.add([...range(10, 20, { partition: 0 }), ...range(0, 3, { partition: 1 })]);

    const first = invoke(only(e.poll()));
    e.settle(first.actionId, { kind: 'partial', failedFrom: new Map([['t-0', 15]]) });
    const commits = e.takeCommits();
    const retry = invoke(only(e.poll()));

    expect(commits).toEqual([
      { topic: 't', partition: 0, offset: 15 },
      { topic: 't', partition: 1, offset: 3 },
    ]);
    expect(offsets(retry.records)).toEqual(['0:15', '0:16', '0:17', '0:18', '0:19']);
    expect(retry.retry).toBe(true);
  });

  it('counts a partial failure as an attempt and sends what still fails to the destination', () => {
    const { e } = engine({ batchingWindowMs: 0, maxRetries: 1 });
    e.add(range(0, 4));

    e.settle(invoke(only(e.poll())).actionId, { kind: 'partial', failedFrom: new Map([['t-0', 2]]) });
    e.settle(invoke(only(e.poll())).actionId, { kind: 'partial', failedFrom: new Map([['t-0', 3]]) });
    const action = only(e.poll());

    expect(action).toMatchObject({
      kind: 'onFailure',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 2,
    });
    expect(offsets(action.records)).toEqual(['0:3']);
  });

  it('does not bisect on a partial failure, even with bisect on', () => {
    const { e } = engine({ batchingWindowMs: 0, bisectOnError: true, maxRetries: 3 });
    e.add(range(0, 6));

    e.settle(invoke(only(e.poll())).actionId, { kind: 'partial', failedFrom: new Map([['t-0', 1]]) });

    expect(offsets(invoke(only(e.poll())).records)).toEqual(['0:1', '0:2', '0:3', '0:4', '0:5']);
  });
});

describe('maximum record age', () => {
  it('sends records older than the maximum age to the destination without invoking, and invokes the rest', () => {
    const clock = fakeClock(10_000_000);
    const { e } = engine({ batchingWindowMs: 0, maxRecordAgeMs: 60_000 }, clock);
    e.add([rec(0, { timestamp: clock.now() - 120_000 }), rec(1, { timestamp: clock.now() - 1_000 })]);

    const first = only(e.poll());
    e.settle(first.actionId, { kind: 'sent', ok: true });
    const second = invoke(only(e.poll()));

    expect(first).toMatchObject({
      kind: 'onFailure',
      condition: 'RetryAttemptsExhausted', // the guide documents no condition of its own for age
      approximateInvokeCount: 0,
      functionError: null,
    });
    expect(offsets(first.records)).toEqual(['0:0']);
    expect(offsets(second.records)).toEqual(['0:1']);
  });

  it('stops retrying records that age out between retries', () => {
    const clock = fakeClock(10_000_000);
    const { e } = engine({ batchingWindowMs: 0, maxRecordAgeMs: 60_000, maxRetries: 100 }, clock);
    e.add([rec(0, { timestamp: clock.now() })]);

    e.settle(invoke(only(e.poll())).actionId, fail);
    clock.advance(61_000);
    const next = only(e.poll());

    expect(next).toMatchObject({
      kind: 'onFailure',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 1,
      functionError: 'Unhandled',
    });
  });
});
