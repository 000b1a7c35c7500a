import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canBind, freePort } from '../../localstack/ports.ts';
import { readPidRecord } from '../../localstack/process.ts';
import { acquireStackForTests } from '../../localstack/stack.ts';

/**
 * `tidewater stack` as a user runs it: the real CLI in a child process, on its own free ports and
 * its own state dir (the install cache is shared), so it never touches the stack the other
 * integration tests use.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'tidewater.js');

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env,
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Pids of live processes whose command line or environment mentions `needle` (Linux /proc). */
async function processesMentioning(needle: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8');
      const environ = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
      if (cmdline.includes(needle) || environ.includes(needle)) found.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

interface Sandbox {
  readonly stateDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly ports: { kafka: number; controller: number; aws: number };
}

async function sandbox(): Promise<Sandbox> {
  const stateDir = await mkdtemp(join(tmpdir(), 'tidewater-stack-test-'));
  const ports = { kafka: await freePort(), controller: await freePort(), aws: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Node 22 first on PATH, as inside `npm run`: the emulator's Lambda runtime uses it too.
    PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
    TIDEWATER_STATE_DIR: stateDir,
    TIDEWATER_KAFKA_PORT: String(ports.kafka),
    TIDEWATER_KAFKA_CONTROLLER_PORT: String(ports.controller),
    TIDEWATER_AWS_PORT: String(ports.aws),
    KAFKA_BROKERS: undefined,
    AWS_ENDPOINT_URL: undefined,
  };
  return { stateDir, env, ports };
}

describe('tidewater stack', () => {
  // Run in the order registered: stop processes before deleting the state dir that records them.
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('up twice, then down, leaves no process of ours running', async () => {
    // Prepare
    const box = await sandbox();
    cleanups.push(
      () => cli(['stack', 'down'], box.env),
      () => rm(box.stateDir, { recursive: true, force: true }),
    );

    // Act
    const first = await cli(['stack', 'up'], box.env);
    const kafka = await readPidRecord(join(box.stateDir, 'kafka', 'kafka.pid.json'));
    const aws = await readPidRecord(join(box.stateDir, 'emulator', 'ministack.pid.json'));
    const runningAfterUp = await processesMentioning(box.stateDir);
    const second = await cli(['stack', 'up'], box.env);
    const down = await cli(['stack', 'down'], box.env);
    const runningAfterDown = await processesMentioning(box.stateDir);

    // Assess
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('started');
    expect(runningAfterUp).toEqual(expect.arrayContaining([kafka?.pid, aws?.pid]));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('nothing to start');
    expect(second.stderr).toContain(`already running (pid ${kafka?.pid})`);
    expect(second.stderr).toContain(`already running (pid ${aws?.pid})`);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('stopped kafka and aws');
    expect(runningAfterDown).toEqual([]);
    expect(existsSync(join(box.stateDir, 'kafka', 'kafka.pid.json'))).toBe(false);
    expect(await canBind('127.0.0.1', box.ports.kafka)).toBe(true);
    expect(await canBind('127.0.0.1', box.ports.aws)).toBe(true);
  });

  it('refuses to start on a taken port with a one-line error and starts nothing', async () => {
    // Prepare
    const box = await sandbox();
    const squatter: Server = createServer();
    await new Promise<void>((ok) => squatter.listen(box.ports.aws, '127.0.0.1', ok));
    cleanups.push(
      () => new Promise((ok) => squatter.close(ok)),
      () => rm(box.stateDir, { recursive: true, force: true }),
    );

    // Act
    const up = await cli(['stack', 'up'], box.env);

    // Assess
    expect(up.code).toBe(2);
    expect(up.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^tidewater: port 127\\.0\\.0\\.1:${box.ports.aws} is already in use`),
      ),
    ]);
    expect(await processesMentioning(box.stateDir)).toEqual([]);
  });

  it('reports a missing Java in one line instead of starting Kafka', async () => {
    // Prepare
    const box = await sandbox();
    cleanups.push(() => rm(box.stateDir, { recursive: true, force: true }));
    const env = { ...box.env, PATH: dirname(process.execPath), AWS_ENDPOINT_URL: 'http://127.0.0.1:1' };

    // Act
    const up = await cli(['stack', 'up'], env);

    // Assess
    expect(up.code).toBe(2);
    expect(up.stderr.trim().split('\n').at(-1)).toMatch(
      /^tidewater: Java 17\+ is needed to run Kafka but 'java' was not found/,
    );
    expect(up.stderr).not.toMatch(/\n\s+at /);
    expect(await processesMentioning(box.stateDir)).toEqual([]);
  });

  it('starts nothing for services that KAFKA_BROKERS and AWS_ENDPOINT_URL point elsewhere, and says so', async () => {
    // Prepare
    const box = await sandbox();
    cleanups.push(() => rm(box.stateDir, { recursive: true, force: true }));
    const env = {
      ...box.env,
      KAFKA_BROKERS: `127.0.0.1:${box.ports.kafka}`,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${box.ports.aws}`,
    };

    // Act
    const up = await cli(['stack', 'up'], env);

    // Assess
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain('KAFKA_BROKERS is set: not starting Apache Kafka');
    expect(up.stderr).toContain('AWS_ENDPOINT_URL is set: not starting AWS emulator');
    expect(up.stdout).toContain('nothing to start');
    expect(await processesMentioning(box.stateDir)).toEqual([]);
  });

  it("leaves a stack started with 'stack up' running after a test run that used it", async () => {
    // Prepare
    const box = await sandbox();
    cleanups.push(
      () => cli(['stack', 'down'], box.env),
      () => rm(box.stateDir, { recursive: true, force: true }),
    );
    const up = await cli(['stack', 'up'], box.env);
    expect(up.code, up.stderr).toBe(0);
    const running = await processesMentioning(box.stateDir);

    // Act
    const lease = await acquireStackForTests({ env: box.env });
    await lease.release();

    // Assess
    expect(lease.started).toEqual([]);
    expect(running.length).toBeGreaterThanOrEqual(2);
    expect(await processesMentioning(box.stateDir)).toEqual(expect.arrayContaining(running));
  });

  it('stops what test runs started only when the last test run using it releases it', async () => {
    // Prepare: another test run on the machine, stood in for by a live process holding a lease
    const box = await sandbox();
    const other = spawn('sleep', ['600'], { stdio: 'ignore' });
    cleanups.push(
      async () => other.kill('SIGKILL'),
      () => cli(['stack', 'down'], box.env),
      () => rm(box.stateDir, { recursive: true, force: true }),
    );
    const first = await acquireStackForTests({ env: box.env });
    await mkdir(join(box.stateDir, 'leases'), { recursive: true });
    await writeFile(join(box.stateDir, 'leases', String(other.pid)), 'other test run\n');

    // Act
    await first.release();
    const whileOtherRuns = await processesMentioning(box.stateDir);
    other.kill('SIGKILL');
    await new Promise((ok) => other.once('exit', ok));
    const last = await acquireStackForTests({ env: box.env });
    await last.release();

    // Assess
    expect(first.started).toEqual(['kafka', 'aws']);
    expect(whileOtherRuns.length).toBeGreaterThanOrEqual(2);
    expect(last.started).toEqual([]);
    expect(await processesMentioning(box.stateDir)).toEqual([]);
  });
});
