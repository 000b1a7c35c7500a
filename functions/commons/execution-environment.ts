/**
 * Which Lambda execution environment runs the current code. On Lambda there is one per process,
 * so nothing sets it. The local event source mapping runs in-process handlers (tests, the bench,
 * `tidewater run --stack local`) in simulated environments, several in one process, one
 * invocation each at a time, as Lambda does: what an environment keeps warm between invocations
 * (the partition states' cache, `state/partition-state.ts`) is kept per environment, so a batch
 * that lands in another environment than its partition's last one loads its state cold, as it
 * would on Lambda.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<string>();
const discarded: ((id: string) => void)[] = [];

/** The running environment's id; `process` outside a simulated one (on Lambda, always). */
export function environmentId(): string {
  return current.getStore() ?? 'process';
}

/** Runs `f` in the simulated execution environment `id`. */
export function inEnvironment<T>(id: string, f: () => T): T {
  return current.run(id, f);
}

/** Registers what to drop when a simulated environment is thrown away (a timed-out invocation). */
export function onEnvironmentDiscarded(f: (id: string) => void): void {
  discarded.push(f);
}

/** Throws away simulated environment `id`: what it kept warm is gone. */
export function discardEnvironment(id: string): void {
  for (const f of discarded) f(id);
}
