import type { Command } from 'commander';
import {
  type ServiceStatus,
  type StackStatus,
  stackDown,
  stackStatus,
  stackUp,
} from '../../localstack/stack.ts';
import { requireNode22 } from '../errors.ts';

/**
 * `tidewater stack up|down|status`: the local stack (Apache Kafka + AWS emulator on loopback).
 * Progress goes to stderr, the result to stdout.
 */

const STATE_TEXT: Record<ServiceStatus['state'], string> = {
  running: 'running',
  unhealthy: 'started but not answering',
  stopped: 'stopped',
  external: 'external',
};

function describe(s: ServiceStatus): string {
  const pid = s.pid === undefined ? '' : ` (pid ${s.pid})`;
  const reach = s.state === 'running' ? '' : s.reachable ? ', answering' : ', not answering';
  return `${s.label.padEnd(34)} ${`${STATE_TEXT[s.state]}${pid}${reach}`.padEnd(36)} ${s.endpoint}`;
}

export function formatStatus(status: StackStatus): string {
  const { kafka, aws } = status.services;
  return [
    describe(kafka),
    describe(aws),
    '',
    `KAFKA_BROKERS=${status.endpoints.kafkaBrokers.join(',')}`,
    `AWS_ENDPOINT_URL=${status.endpoints.awsEndpoint}`,
    `AWS_REGION=${status.endpoints.region}`,
    `state: ${status.stateDir}`,
  ].join('\n');
}

/** Progress lines on stderr; on a terminal, also a ticking elapsed time while nothing is printed. */
function progress(): { log: (line: string) => void; done: () => void } {
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  let ticking = false;
  const clear = () => {
    if (ticking) process.stderr.write('\r\x1b[2K');
    ticking = false;
  };
  const timer = tty
    ? setInterval(() => {
        process.stderr.write(`\r\x1b[2K  … ${Math.round((Date.now() - started) / 1000)} s`);
        ticking = true;
      }, 1000)
    : undefined;
  return {
    log: (line) => {
      clear();
      process.stderr.write(`${line}\n`);
    },
    done: () => {
      if (timer) clearInterval(timer);
      clear();
    },
  };
}

const NODE22 = ['stack', "'npm run stack:up' or 'npx tidewater stack up'"] as const;

export function register(program: Command): void {
  const stack = program
    .command('stack')
    .description('the local stack: Apache Kafka and an AWS emulator on 127.0.0.1, no Docker needed');

  stack
    .command('up')
    .description('install on first use, start what is not running, and wait until it answers')
    .option('--json', 'print the resulting status as JSON')
    .action(async (opts: { json?: boolean }) => {
      requireNode22(...NODE22);
      const p = progress();
      const t0 = Date.now();
      try {
        const result = await stackUp({ log: p.log });
        p.done();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          const started = result.started.length
            ? `started ${result.started.join(' and ')}`
            : 'nothing to start';
          process.stdout.write(
            `${formatStatus(result)}\n\nstack up: ${started} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
          );
        }
      } finally {
        p.done();
      }
    });

  stack
    .command('down')
    .description('stop what `stack up` started (whole process groups) and wait until it is gone')
    .action(async () => {
      requireNode22(...NODE22);
      const p = progress();
      try {
        const result = await stackDown({ log: p.log });
        p.done();
        process.stdout.write(
          `stack down: ${result.stopped.length ? `stopped ${result.stopped.join(' and ')}` : 'nothing was running'}\n`,
        );
      } finally {
        p.done();
      }
    });

  stack
    .command('status')
    .description('show what runs, where, and whether it answers')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => {
      requireNode22(...NODE22);
      const status = await stackStatus();
      process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
    });
}
