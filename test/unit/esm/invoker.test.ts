import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LambdaKafkaEvent } from '../../../functions/core/kafka.ts';
import { type FunctionIdentity, inProcessInvoker, workerInvoker } from '../../../localstack/esm/invoker.ts';

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

describe('invoking the bundled handler file in execution environments (worker threads)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'esm-invoker-'));
  const file = join(dir, 'index.mjs');
  // Module state tells environments apart: an id per module instance and a warm-invocation count.
  writeFileSync(
    file,
    `const environment = Math.random().toString(36).slice(2);
let invocations = 0;
export const handler = async (event) => {
  invocations++;
  await new Promise((r) => setTimeout(r, event.bootstrapServers === 'slow' ? 200 : 1));
  return { environment, invocations };
};
`,
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const slow: LambdaKafkaEvent = { ...event, bootstrapServers: 'slow' };
  type Seen = { ok: true; value: { environment: string; invocations: number } };

  it('runs concurrent invocations in environments of their own, and reuses an idle one warm', async () => {
    const invoker = workerInvoker(identity, file, 'handler', {});
    try {
      const [a, b] = (await Promise.all([invoker.invoke(slow, 'r1'), invoker.invoke(slow, 'r2')])) as Seen[];
      const c = (await invoker.invoke(event, 'r3')) as Seen;

      expect(a?.value.environment).not.toBe(b?.value.environment);
      expect([a?.value.invocations, b?.value.invocations]).toEqual([1, 1]);
      expect([a?.value.environment, b?.value.environment]).toContain(c.value.environment);
      expect(c.value.invocations).toBe(2);
    } finally {
      await invoker.close();
    }
  });
});
