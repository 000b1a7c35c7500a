import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../cli/errors.ts';
import {
  EMULATOR_NAME,
  EMULATOR_VERSION,
  HOST,
  healthTimeoutMs,
  KAFKA_VERSION,
  type StackPaths,
  type StackPorts,
  stackPaths,
  stackPorts,
} from './config.ts';
import {
  checkPython,
  emulatorEnv,
  emulatorHealthy,
  emulatorInstalled,
  emulatorLayout,
  ensureEmulatorInstalled,
  httpAnswers,
  prepareEmulator,
} from './emulator.ts';
import { type Endpoints, endpoints, externalServices } from './endpoints.ts';
import {
  checkJava,
  ensureKafkaInstalled,
  kafkaAnswers,
  kafkaCommand,
  kafkaLayout,
  kafkaLogSaysStarted,
  prepareKafka,
} from './kafka.ts';
import { canBind } from './ports.ts';
import {
  isRecordAlive,
  type PidRecord,
  readPidRecord,
  removePidRecord,
  spawnDaemon,
  stopGroup,
  tail,
  writePidRecord,
} from './process.ts';

/**
 * The local stack's programmatic API (what `tidewater stack up|down|status` and the integration
 * tests' global setup call): Apache Kafka and the AWS emulator as background processes on loopback,
 * each recorded in a pid file under the state dir so `stackDown` stops exactly what `stackUp` started.
 */

export type ServiceName = 'kafka' | 'aws';

export type ServiceState =
  /** Started by Tidewater (pid file) and answering. */
  | 'running'
  /** Started by Tidewater but not answering (still starting, or wedged). */
  | 'unhealthy'
  /** Not running (no pid file, or a stale one). */
  | 'stopped'
  /** `KAFKA_BROKERS` / `AWS_ENDPOINT_URL` points at a service someone else runs. */
  | 'external';

export interface ServiceStatus {
  readonly service: ServiceName;
  readonly label: string;
  readonly state: ServiceState;
  /** Whether the endpoint answers right now (for any state: a stopped stack's port may be served by something else). */
  readonly reachable: boolean;
  readonly endpoint: string;
  readonly pid?: number;
  readonly logFile?: string;
}

export interface StackStatus {
  readonly endpoints: Endpoints;
  readonly stateDir: string;
  readonly services: Readonly<Record<ServiceName, ServiceStatus>>;
}

export interface StackUpResult extends StackStatus {
  /** Services this call started (so a caller can stop just those with `stackDown({ services })`). */
  readonly started: ServiceName[];
}

export interface StackDownResult {
  /** Services whose processes this call stopped. */
  readonly stopped: ServiceName[];
}

export interface StackOptions {
  /** Environment to read endpoints, ports and dirs from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines. @default ignored */
  readonly log?: (line: string) => void;
  /** Which services to act on. @default both */
  readonly services?: readonly ServiceName[];
  /** Recorded with what `stackUp` starts; `stackDown` with an owner stops only what that owner started. @default 'cli' for stackUp, anyone's for stackDown */
  readonly owner?: 'cli' | 'tests';
}

const ALL: readonly ServiceName[] = ['kafka', 'aws'];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Context {
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  readonly paths: StackPaths;
  readonly ports: StackPorts;
  readonly endpoints: Endpoints;
  readonly external: { kafka: boolean; aws: boolean };
  readonly services: readonly ServiceName[];
  readonly owner: 'cli' | 'tests';
}

function context(options: StackOptions): Context {
  const env = options.env ?? process.env;
  let ports: StackPorts;
  try {
    ports = stackPorts(env);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  return {
    env,
    log: options.log ?? (() => undefined),
    paths: stackPaths(env),
    ports,
    endpoints: endpoints(env),
    external: externalServices(env),
    services: options.services ?? ALL,
    owner: options.owner ?? 'cli',
  };
}

function pidFile(ctx: Context, service: ServiceName): string {
  return service === 'kafka' ? kafkaLayout(ctx.paths).pidFile : emulatorLayout(ctx.paths).pidFile;
}

function label(service: ServiceName): string {
  return service === 'kafka'
    ? `Apache Kafka ${KAFKA_VERSION}`
    : `AWS emulator (${EMULATOR_NAME} ${EMULATOR_VERSION})`;
}

function endpointOf(ctx: Context, service: ServiceName): string {
  return service === 'kafka' ? ctx.endpoints.kafkaBrokers.join(',') : ctx.endpoints.awsEndpoint;
}

async function answers(ctx: Context, service: ServiceName, managed: boolean): Promise<boolean> {
  if (service === 'kafka') return kafkaAnswers(ctx.endpoints.kafkaBrokers);
  return managed ? emulatorHealthy(ctx.endpoints.awsEndpoint) : httpAnswers(ctx.endpoints.awsEndpoint);
}

/** The live pid record of a service, removing a stale one (its process is gone or is not ours). */
async function liveRecord(ctx: Context, service: ServiceName): Promise<PidRecord | undefined> {
  const file = pidFile(ctx, service);
  const record = await readPidRecord(file);
  if (!record) {
    if (existsSync(file)) await removePidRecord(file);
    return undefined;
  }
  if (await isRecordAlive(record)) return record;
  await removePidRecord(file);
  return undefined;
}

async function serviceStatus(ctx: Context, service: ServiceName): Promise<ServiceStatus> {
  const record = await liveRecord(ctx, service);
  const base = { service, label: label(service), endpoint: endpointOf(ctx, service) };
  if (record) {
    const reachable = await answers(ctx, service, true);
    return {
      ...base,
      state: reachable ? 'running' : 'unhealthy',
      reachable,
      pid: record.pid,
      logFile: record.logFile,
    };
  }
  const external = ctx.external[service];
  const reachable = await answers(ctx, service, false);
  return { ...base, state: external ? 'external' : 'stopped', reachable };
}

export async function stackStatus(options: StackOptions = {}): Promise<StackStatus> {
  const ctx = context(options);
  const [kafka, aws] = await Promise.all([serviceStatus(ctx, 'kafka'), serviceStatus(ctx, 'aws')]);
  return { endpoints: ctx.endpoints, stateDir: ctx.paths.stateDir, services: { kafka, aws } };
}

const heldLocks = new Set<string>();

/**
 * One `stack up`/`down` at a time per state dir: an exclusive lock file holding the owner's pid.
 * Re-entrant within a process, so a caller can hold it around several stack calls.
 */
async function withLock<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  await mkdir(ctx.paths.stateDir, { recursive: true });
  const lock = join(ctx.paths.stateDir, 'stack.lock');
  if (heldLocks.has(lock)) return fn();
  const deadline = Date.now() + healthTimeoutMs(ctx.env) + 15 * 60_000;
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      let ownerAlive = false;
      if (Number.isInteger(owner) && owner > 0) {
        try {
          process.kill(owner, 0);
          ownerAlive = true;
        } catch {
          ownerAlive = false;
        }
      }
      if (!ownerAlive) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new UserError(
          `another 'tidewater stack' command (pid ${owner}) holds ${lock}; wait for it or remove the file`,
        );
      }
      await sleep(250);
    }
  }
  heldLocks.add(lock);
  try {
    return await fn();
  } finally {
    heldLocks.delete(lock);
    await rm(lock, { force: true });
  }
}

/** Runs `fn` holding the state dir's stack lock (which `stackUp` and `stackDown` also take). */
export function withStackLock<T>(options: StackOptions, fn: () => Promise<T>): Promise<T> {
  return withLock(context(options), fn);
}

function portTaken(port: number, service: ServiceName, variable: string): UserError {
  const useIt =
    service === 'kafka' ? `KAFKA_BROKERS=${HOST}:${port}` : `AWS_ENDPOINT_URL=http://${HOST}:${port}`;
  return new UserError(
    `port ${HOST}:${port} is already in use by another process, so ${label(service)} cannot start there: stop that process (see 'ss -ltnp | grep :${port}'), set ${useIt} to use what runs there, or pick another port with ${variable}`,
  );
}

async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  alive: () => Promise<boolean>,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (!(await alive())) {
      const last = (await tail(logFile, 1)).trim();
      throw new UserError(
        `${what} exited during startup${last ? `: ${last.slice(0, 300)}` : ''} (log: ${logFile})`,
      );
    }
    await sleep(250);
  }
  throw new UserError(
    `${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s (log: ${logFile})`,
  );
}

async function rotateLog(logFile: string): Promise<void> {
  if (existsSync(logFile)) await rename(logFile, `${logFile}.previous`);
}

async function startKafka(ctx: Context): Promise<PidRecord> {
  const libs = await ensureKafkaInstalled(ctx.paths, ctx.log);
  const layout = await prepareKafka(ctx.paths, ctx.ports, libs, ctx.log);
  await rotateLog(layout.logFile);
  ctx.log(
    `Kafka: starting broker on ${HOST}:${ctx.ports.kafka} (controller ${HOST}:${ctx.ports.kafkaController})`,
  );
  const pid = await spawnDaemon('java', kafkaCommand(libs, layout, ctx.env), {
    env: ctx.env,
    cwd: layout.dir,
    logFile: layout.logFile,
  });
  const record: PidRecord = {
    service: 'kafka',
    pid,
    marker: layout.serverProperties,
    startedAt: new Date().toISOString(),
    endpoint: `${HOST}:${ctx.ports.kafka}`,
    logFile: layout.logFile,
    owner: ctx.owner,
  };
  await writePidRecord(layout.pidFile, record);
  return record;
}

async function startEmulator(ctx: Context): Promise<PidRecord> {
  const program = await ensureEmulatorInstalled(ctx.paths, ctx.log, ctx.env);
  const layout = await prepareEmulator(ctx.paths);
  await rotateLog(layout.logFile);
  ctx.log(`AWS emulator: starting ${EMULATOR_NAME} on http://${HOST}:${ctx.ports.aws}`);
  const pid = await spawnDaemon(program, [], {
    env: emulatorEnv(ctx.env, ctx.ports, layout),
    cwd: layout.dir,
    logFile: layout.logFile,
  });
  const record: PidRecord = {
    service: 'aws',
    pid,
    marker: program,
    startedAt: new Date().toISOString(),
    endpoint: `http://${HOST}:${ctx.ports.aws}`,
    logFile: layout.logFile,
    owner: ctx.owner,
  };
  await writePidRecord(layout.pidFile, record);
  return record;
}

async function stopRecord(ctx: Context, service: ServiceName, record: PidRecord): Promise<void> {
  const how = await stopGroup(record.pid, service === 'kafka' ? 30_000 : 10_000);
  await removePidRecord(pidFile(ctx, service));
  ctx.log(
    `${label(service)}: stopped (pid ${record.pid}${how === 'killed' ? ', killed after the grace period' : ''})`,
  );
}

/**
 * For a command that needs the stack (`run --stack local`, the local-stack bench): a stack that
 * answers (started by `stack up`, by a test run, or pointed at by KAFKA_BROKERS / AWS_ENDPOINT_URL)
 * is used as it is and keeps its owner; otherwise like `tidewater stack up`: install on first use
 * and start what is not running (left running; `tidewater stack down` stops it). Returns the
 * services it started.
 */
export async function ensureStack(log: (line: string) => void): Promise<ServiceName[]> {
  const status = await stackStatus();
  if (Object.values(status.services).every((s) => s.reachable)) return [];
  const up = await stackUp({ log });
  if (up.started.length > 0) log(`started ${up.started.join(' and ')}; 'tidewater stack down' stops it`);
  return up.started;
}

/**
 * Starts what is not running yet and waits until it answers. Idempotent: a service already started
 * by Tidewater is left alone; one that `KAFKA_BROKERS` / `AWS_ENDPOINT_URL` points elsewhere is not
 * started at all. If anything fails, what this call started is stopped again before it throws.
 */
export async function stackUp(options: StackOptions = {}): Promise<StackUpResult> {
  const ctx = context(options);
  const timeoutMs = healthTimeoutMs(ctx.env);
  return withLock(ctx, async () => {
    const toStart: ServiceName[] = [];
    for (const service of ctx.services) {
      if (ctx.external[service]) {
        const variable = service === 'kafka' ? 'KAFKA_BROKERS' : 'AWS_ENDPOINT_URL';
        ctx.log(`${variable} is set: not starting ${label(service)}; using ${endpointOf(ctx, service)}`);
        continue;
      }
      const record = await liveRecord(ctx, service);
      if (record) {
        ctx.log(`${label(service)}: already running (pid ${record.pid})`);
        if (ctx.owner === 'cli' && record.owner === 'tests') {
          // A person asked for it: test runs must no longer stop it when they end.
          await writePidRecord(pidFile(ctx, service), { ...record, owner: 'cli' });
        }
        continue;
      }
      toStart.push(service);
    }
    // Check every port before starting anything, so a taken port leaves nothing half-started.
    const portChecks: Array<[number, ServiceName, string]> = [];
    if (toStart.includes('kafka')) {
      portChecks.push([ctx.ports.kafka, 'kafka', 'TIDEWATER_KAFKA_PORT']);
      portChecks.push([ctx.ports.kafkaController, 'kafka', 'TIDEWATER_KAFKA_CONTROLLER_PORT']);
    }
    if (toStart.includes('aws')) portChecks.push([ctx.ports.aws, 'aws', 'TIDEWATER_AWS_PORT']);
    for (const [port, service, variable] of portChecks) {
      if (!(await canBind(HOST, port))) throw portTaken(port, service, variable);
    }
    // Likewise the toolchains: a missing Java or Python fails before anything starts.
    if (toStart.includes('kafka')) await checkJava();
    if (toStart.includes('aws') && !(await emulatorInstalled(ctx.paths))) await checkPython(ctx.env);

    const started: Array<[ServiceName, PidRecord]> = [];
    const startOne = async (service: ServiceName): Promise<void> => {
      const record = service === 'kafka' ? await startKafka(ctx) : await startEmulator(ctx);
      started.push([service, record]);
    };
    try {
      const launches = await Promise.allSettled(toStart.map(startOne));
      const failed = launches.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      await Promise.all(
        ctx.services.map(async (service) => {
          if (ctx.external[service]) return;
          const record = await liveRecord(ctx, service);
          if (!record)
            throw new UserError(
              `${label(service)} is not running after start (see ${pidFile(ctx, service)})`,
            );
          const justStarted = started.some(([s]) => s === service);
          // A broker we just launched also has to log that it finished starting (it answers
          // Metadata a moment before it leaves RECOVERY); one already running only has to answer.
          const healthy =
            service === 'kafka'
              ? async () =>
                  (!justStarted || (await kafkaLogSaysStarted(record.logFile))) &&
                  (await kafkaAnswers(ctx.endpoints.kafkaBrokers))
              : () => emulatorHealthy(ctx.endpoints.awsEndpoint);
          await waitUntil(label(service), timeoutMs, healthy, () => isRecordAlive(record), record.logFile);
          if (justStarted) {
            ctx.log(
              `${label(service)}: ready at ${endpointOf(ctx, service)} (${((Date.now() - Date.parse(record.startedAt)) / 1000).toFixed(1)} s after launch)`,
            );
          }
        }),
      );
    } catch (err) {
      for (const [service, record] of started) {
        await stopRecord(ctx, service, record).catch(() => undefined);
      }
      throw err;
    }
    const [kafka, aws] = await Promise.all([serviceStatus(ctx, 'kafka'), serviceStatus(ctx, 'aws')]);
    return {
      endpoints: ctx.endpoints,
      stateDir: ctx.paths.stateDir,
      services: { kafka, aws },
      started: started.map(([service]) => service),
    };
  });
}

/** Stops what `stackUp` started (per the pid files), whole process groups, and waits until they are gone. */
export async function stackDown(options: StackOptions = {}): Promise<StackDownResult> {
  const ctx = context(options);
  return withLock(ctx, async () => {
    const stopped: ServiceName[] = [];
    for (const service of ctx.services) {
      const record = await liveRecord(ctx, service);
      if (!record) {
        ctx.log(
          `${label(service)}: not running${ctx.external[service] ? ' here (managed outside Tidewater)' : ''}`,
        );
        continue;
      }
      if (options.owner !== undefined && (record.owner ?? 'cli') !== options.owner) {
        ctx.log(
          `${label(service)}: left running (started by ${record.owner === 'tests' ? 'a test run' : "'stack up'"})`,
        );
        continue;
      }
      await stopRecord(ctx, service, record);
      stopped.push(service);
    }
    return { stopped };
  });
}

export interface TestLease {
  /** Services this test run had to start (the others were already answering). */
  readonly started: ServiceName[];
  readonly status: StackStatus;
  /** Ends this run's use; stops what test runs started once no other test run still uses it. */
  release(): Promise<void>;
}

async function liveLeases(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
      live.push(pid);
    } catch {
      await rm(join(dir, name), { force: true });
    }
  }
  return live;
}

/**
 * The integration tests' use of the local stack, safe when several test runs share a machine (and a
 * state dir): starts only the services nothing answers for, recording them as started by `tests`,
 * and takes a lease (a file named by this process's pid). `release()` drops the lease and, if no
 * other live test run holds one, stops what test runs started. A stack a person started with
 * `stack up`, or one that `KAFKA_BROKERS` / `AWS_ENDPOINT_URL` points at, is used and left alone.
 */
export async function acquireStackForTests(options: StackOptions = {}): Promise<TestLease> {
  const ctx = context(options);
  const leases = join(ctx.paths.stateDir, 'leases');
  const lease = join(leases, String(process.pid));
  return withLock(ctx, async () => {
    const before = await stackStatus(options);
    const missing: ServiceName[] = [];
    for (const service of ctx.services) {
      const s = before.services[service];
      if (s.reachable) {
        ctx.log(`${s.label}: using what answers at ${s.endpoint}`);
        continue;
      }
      if (ctx.external[service]) {
        const variable = service === 'kafka' ? 'KAFKA_BROKERS' : 'AWS_ENDPOINT_URL';
        throw new UserError(
          `${variable}=${s.endpoint} is set but nothing answers there: start it, or unset ${variable}`,
        );
      }
      missing.push(service);
    }
    const status = missing.length ? await stackUp({ ...options, services: missing, owner: 'tests' }) : before;
    await mkdir(leases, { recursive: true });
    await writeFile(lease, `${new Date().toISOString()}\n`);
    return {
      started: missing,
      status,
      release: () =>
        withLock(ctx, async () => {
          await rm(lease, { force: true });
          const others = await liveLeases(leases);
          if (others.length > 0) {
            ctx.log(`still used by test run(s) ${others.join(', ')}: left running`);
            return;
          }
          await stackDown({ ...options, owner: 'tests' });
        }),
    };
  });
}
