import { acquireStackForTests } from '../../localstack/stack.ts';

/**
 * Global setup of the `integration` project: makes sure Kafka and the AWS emulator answer, starting
 * (and on first use installing) only what nothing answers for, and afterwards stops what test runs
 * started once no other test run on this machine still uses it. A stack started with
 * `tidewater stack up`, or services that `KAFKA_BROKERS` / `AWS_ENDPOINT_URL` point at, are used as
 * they are and left alone.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[local stack] ${line}\n`);
  const t0 = Date.now();
  const lease = await acquireStackForTests({ log });
  if (lease.started.length > 0) {
    log(`started ${lease.started.join(' and ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return () => lease.release();
}
