import { describe, expect, it } from 'vitest';
import type { LambdaKafkaEvent } from '../../../functions/core/kafka.ts';
import { type FunctionIdentity, inProcessInvoker } from '../../../localstack/esm/invoker.ts';

const identity: FunctionIdentity = {
  functionName: 'Tidewater-local-Processing-Ingest',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:Tidewater-local-Processing-Ingest',
  memorySizeMiB: 1024,
  timeoutSeconds: 60,
};
const event: LambdaKafkaEvent = { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:9092', records: {} };

describe('invoking an in-process handler', () => {
  it('hands the handler a Lambda context counting down the function timeout', async () => {
    const invoker = inProcessInvoker(identity, (_event, context) => ({
      name: context.functionName,
      arn: context.invokedFunctionArn,
      requestId: context.awsRequestId,
      memory: context.memoryLimitInMB,
      remaining: context.getRemainingTimeInMillis(),
    }));

    const result = await invoker.invoke(event, 'req-1');

    expect(result.ok).toBe(true);
    const value = (result as { value: { remaining: number } }).value;
    expect(value).toMatchObject({
      name: identity.functionName,
      arn: identity.functionArn,
      requestId: 'req-1',
      memory: '1024',
    });
    expect(value.remaining).toBeGreaterThan(0);
    expect(value.remaining).toBeLessThanOrEqual(60_000);
  });

  it('reports a thrown error by name and message', async () => {
    const invoker = inProcessInvoker(identity, () => {
      throw new TypeError('bad record');
    });

    expect(await invoker.invoke(event, 'req-2')).toEqual({ ok: false, error: 'TypeError: bad record' });
  });

  it('reports a handler still running at the function timeout as timed out', async () => {
    const invoker = inProcessInvoker(
      { ...identity, timeoutSeconds: 0.05 },
      () => new Promise(() => undefined),
    );

    expect(await invoker.invoke(event, 'req-3')).toEqual({
      ok: false,
      error: 'Task timed out after 0.05 seconds',
    });
  });
});
