import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AWS_PORT, DEFAULT_KAFKA_PORT } from './endpoints.ts';

/**
 * Pinned versions and on-disk layout of the local stack.
 *
 * Apache Kafka 4.2.1: the newest release inside the range `@platformatic/kafka` is tested against
 * (3.5.0 to 4.2.0 and equivalents). The emulator's exact pins, with hashes, are in
 * `localstack/emulator/requirements.txt`.
 */
export const KAFKA_VERSION = '4.2.1';
export const SCALA_VERSION = '2.13';
/** Log4j 2 as Kafka 4.2.1 itself uses; its SLF4J 1.x binding is added so the broker's logs reach its log file. */
export const LOG4J_VERSION = '2.25.4';
/** Pinned so Maven does not fall back to the ancient plugin version its super-POM names. */
export const MAVEN_DEPENDENCY_PLUGIN_VERSION = '3.8.1';
export const EMULATOR_NAME = 'ministack';
export const EMULATOR_VERSION = '1.5.33';
export const MIN_JAVA_MAJOR = 17;
export const MIN_PYTHON: readonly [number, number] = [3, 11];

export const DEFAULT_KAFKA_CONTROLLER_PORT = 9093;
/** Loopback only: nothing of the local stack listens on another interface. */
export const HOST = '127.0.0.1';

type Env = Readonly<Record<string, string | undefined>>;

export interface StackPaths {
  /** Downloads and installs, shared by every state dir: `~/.cache/tidewater` (`TIDEWATER_CACHE_DIR`). */
  readonly cacheDir: string;
  /** Maven's local repository, kept inside the cache. */
  readonly mavenRepo: string;
  /** Kafka's jars: `<cache>/kafka-<version>/libs`. */
  readonly kafkaHome: string;
  /** pip's download cache. */
  readonly pipCache: string;
  /** Configs, data, logs and pid files of one running stack: `<cache>/stack` (`TIDEWATER_STATE_DIR`). */
  readonly stateDir: string;
}

export interface StackPorts {
  readonly kafka: number;
  readonly kafkaController: number;
  readonly aws: number;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function stackPaths(env: Env = process.env): StackPaths {
  const cacheDir = nonEmpty(env['TIDEWATER_CACHE_DIR']) ?? join(homedir(), '.cache', 'tidewater');
  return {
    cacheDir,
    mavenRepo: join(cacheDir, 'm2'),
    kafkaHome: join(cacheDir, `kafka-${KAFKA_VERSION}`),
    pipCache: join(cacheDir, 'pip'),
    stateDir: nonEmpty(env['TIDEWATER_STATE_DIR']) ?? join(cacheDir, 'stack'),
  };
}

/** Parses a TCP port from the environment; a bad value is the user's mistake, reported with the fix. */
export function parsePort(name: string, value: string | undefined, fallback: number): number {
  const raw = nonEmpty(value);
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`${name}=${raw} is not a TCP port: use a whole number from 1 to 65535`);
  }
  return port;
}

export function stackPorts(env: Env = process.env): StackPorts {
  return {
    kafka: parsePort('TIDEWATER_KAFKA_PORT', env['TIDEWATER_KAFKA_PORT'], DEFAULT_KAFKA_PORT),
    kafkaController: parsePort(
      'TIDEWATER_KAFKA_CONTROLLER_PORT',
      env['TIDEWATER_KAFKA_CONTROLLER_PORT'],
      DEFAULT_KAFKA_CONTROLLER_PORT,
    ),
    aws: parsePort('TIDEWATER_AWS_PORT', env['TIDEWATER_AWS_PORT'], DEFAULT_AWS_PORT),
  };
}

/** How long `stack up` waits for a service to answer before giving up. @default 120 s */
export function healthTimeoutMs(env: Env = process.env): number {
  const raw = nonEmpty(env['TIDEWATER_STACK_TIMEOUT_MS']);
  const ms = raw === undefined ? 120_000 : Number(raw);
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`TIDEWATER_STACK_TIMEOUT_MS=${raw} is not a positive number of milliseconds`);
  }
  return ms;
}
