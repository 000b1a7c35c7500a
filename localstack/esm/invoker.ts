/**
 * Runs a function's bundled handler the way a Lambda execution environment would: its own module
 * instance and its own `process.env` (a worker thread in this process), warm across invocations,
 * a context whose `getRemainingTimeInMillis()` counts down the function's `Timeout`, and on a
 * timeout the environment is thrown away (the next invocation starts cold). Concurrent invocations
 * run in environments of their own, one invocation per environment at a time.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { discardEnvironment, inEnvironment } from '../../functions/commons/execution-environment.ts';
import type { LambdaKafkaEvent } from '../../functions/core/kafka.ts';
import type { LocalKafkaHandler, LocalLambdaContext } from './types.ts';

export interface FunctionIdentity {
  readonly functionName: string;
  readonly functionArn: string;
  readonly memorySizeMiB: number;
  readonly timeoutSeconds: number;
}

export interface Invoker {
  invoke(
    event: LambdaKafkaEvent,
    requestId: string,
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: string }>;
  close(): Promise<void>;
}

/** The context object handed to a handler. */
export function lambdaContext(
  identity: FunctionIdentity,
  requestId: string,
  deadline: number,
): LocalLambdaContext {
  const logGroupName = `/aws/lambda/${identity.functionName}`;
  return {
    functionName: identity.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: identity.functionArn,
    memoryLimitInMB: String(identity.memorySizeMiB),
    awsRequestId: requestId,
    logGroupName,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function timeoutMessage(seconds: number): string {
  return `Task timed out after ${seconds.toFixed(2)} seconds`;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Calls an in-process handler (tests inject these) in simulated execution environments: an
 * invocation takes an idle one (the first, as `workerInvoker` does) or a new one, so what the
 * handler keeps warm per environment (`functions/commons/execution-environment.ts`) is as warm as
 * on Lambda, where concurrent invocations never share it. A timed-out call is reported as failed
 * and its environment thrown away; the call itself cannot be stopped.
 */
export function inProcessInvoker(identity: FunctionIdentity, handler: LocalKafkaHandler): Invoker {
  const environments: { readonly id: string; busy: boolean }[] = [];
  let created = 0;
  return {
    async invoke(event, requestId) {
      let environment = environments.find((x) => !x.busy);
      if (environment === undefined) {
        environment = { id: `${identity.functionName}#${++created}`, busy: false };
        environments.push(environment);
      }
      const env = environment;
      env.busy = true;
      const deadline = Date.now() + identity.timeoutSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ ok: false; error: string }>((resolve) => {
        timer = setTimeout(() => {
          // Lambda discards the execution environment of a timed-out invocation.
          environments.splice(environments.indexOf(env), 1);
          discardEnvironment(env.id);
          resolve({ ok: false, error: timeoutMessage(identity.timeoutSeconds) });
        }, identity.timeoutSeconds * 1000);
      });
      try {
        const run = inEnvironment(env.id, async () => {
          try {
            return {
              ok: true as const,
              value: await handler(event, lambdaContext(identity, requestId, deadline)),
            };
          } catch (error) {
            return { ok: false as const, error: errorText(error) };
          }
        });
        return await Promise.race([run, timeout]);
      } finally {
        clearTimeout(timer);
        env.busy = false;
      }
    },
    async close() {
      for (const e of environments.splice(0)) discardEnvironment(e.id);
    },
  };
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { randomUUID } = require('node:crypto');
let loaded;
function load() {
  loaded ??= import(workerData.url).then((m) => {
    const fn = m[workerData.exportName] ?? m.default?.[workerData.exportName];
    if (typeof fn !== 'function') throw new Error('Runtime.HandlerNotFound: ' + workerData.exportName + ' is not exported by ' + workerData.url);
    return fn;
  });
  return loaded;
}
parentPort.on('message', async (msg) => {
  const id = workerData.identity;
  const context = {
    functionName: id.functionName, functionVersion: '$LATEST', invokedFunctionArn: id.functionArn,
    memoryLimitInMB: String(id.memorySizeMiB), awsRequestId: msg.requestId,
    logGroupName: '/aws/lambda/' + id.functionName, logStreamName: 'local/[$LATEST]' + randomUUID().replaceAll('-', ''),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
  try {
    const fn = await load();
    const value = await fn(msg.event, context);
    parentPort.postMessage({ id: msg.id, ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) });
  } catch (error) {
    parentPort.postMessage({ id: msg.id, ok: false, error: error instanceof Error ? error.name + ': ' + error.message : String(error) });
  }
});
`;

/**
 * Runs the bundled handler file in worker threads with the function's environment, one invocation
 * per worker at a time, as Lambda runs one invocation per execution environment: an idle
 * environment is reused (warm), concurrent invocations get environments of their own (each with
 * its own module instance, as concurrent Lambda invocations never share memory).
 */
export function workerInvoker(
  identity: FunctionIdentity,
  handlerFile: string,
  exportName: string,
  env: Readonly<Record<string, string>>,
): Invoker {
  interface Environment {
    readonly worker: Worker;
    busy: boolean;
  }
  const environments: Environment[] = [];
  let nextId = 1;
  type Done = (r: { ok: true; value: unknown } | { ok: false; error: string }) => void;
  const pending = new Map<number, { environment: Environment; done: Done }>();

  function discard(environment: Environment): void {
    const i = environments.indexOf(environment);
    if (i >= 0) environments.splice(i, 1);
  }

  function start(): Environment {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      env: { ...process.env, ...env },
      workerData: { url: pathToFileURL(handlerFile).href, exportName, identity },
    });
    const environment: Environment = { worker: w, busy: false };
    w.on('message', (msg: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const entry = pending.get(msg.id);
      pending.delete(msg.id);
      entry?.done(
        msg.ok ? { ok: true, value: msg.value } : { ok: false, error: msg.error ?? 'Unknown error' },
      );
    });
    const fail = (error: string) => {
      discard(environment);
      for (const [id, entry] of pending) {
        if (entry.environment !== environment) continue;
        pending.delete(id);
        entry.done({ ok: false, error });
      }
    };
    w.on('error', (error) => fail(`Runtime.ExitError: ${errorText(error)}`));
    w.on('exit', (code) => fail(`Runtime.ExitError: exited with ${code}`));
    w.unref();
    environments.push(environment);
    return environment;
  }

  return {
    invoke(event, requestId) {
      const environment = environments.find((x) => !x.busy) ?? start();
      environment.busy = true;
      const id = nextId++;
      const deadline = Date.now() + identity.timeoutSeconds * 1000;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          if (!pending.has(id)) return;
          pending.delete(id);
          // Lambda discards the execution environment of a timed-out invocation.
          discard(environment);
          void environment.worker.terminate();
          resolve({ ok: false, error: timeoutMessage(identity.timeoutSeconds) });
        }, identity.timeoutSeconds * 1000);
        pending.set(id, {
          environment,
          done: (r) => {
            clearTimeout(timer);
            environment.busy = false;
            resolve(r);
          },
        });
        environment.worker.postMessage({ id, requestId, deadline, event });
      });
    },
    async close() {
      const all = environments.splice(0);
      await Promise.all(all.map((x) => x.worker.terminate()));
    },
  };
}
