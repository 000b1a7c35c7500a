import { externalServices } from '../../localstack/endpoints.ts';
import { type ServiceName, stackDown, stackStatus, stackUp } from '../../localstack/stack.ts';

/**
 * Global setup of the `integration` project: makes sure Kafka and the AWS emulator answer, starting
 * (and on first use installing) only the services that nothing answers for, and stops exactly those
 * afterwards. A stack that was already running, or `KAFKA_BROKERS` / `AWS_ENDPOINT_URL` pointing at
 * services someone else runs, is used as it is and left alone.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[local stack] ${line}\n`);
  const status = await stackStatus();
  const external = externalServices();
  const missing: ServiceName[] = [];
  for (const service of ['kafka', 'aws'] as const) {
    const s = status.services[service];
    if (s.reachable) {
      log(`${s.label}: using what answers at ${s.endpoint}`);
      continue;
    }
    if (external[service]) {
      const variable = service === 'kafka' ? 'KAFKA_BROKERS' : 'AWS_ENDPOINT_URL';
      throw new Error(
        `${variable}=${s.endpoint} is set but nothing answers there: start it, or unset ${variable}`,
      );
    }
    missing.push(service);
  }
  if (missing.length === 0) return async () => undefined;

  const started = Date.now();
  const result = await stackUp({ services: missing, log });
  log(
    `up in ${((Date.now() - started) / 1000).toFixed(1)} s (started: ${result.started.join(', ') || 'nothing'})`,
  );
  return async () => {
    if (result.started.length === 0) return;
    const down = await stackDown({ services: result.started, log });
    log(`stopped: ${down.stopped.join(', ') || 'nothing'}`);
  };
}
