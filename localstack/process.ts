import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { platform } from 'node:os';

/**
 * Processes of the local stack: each service runs as the leader of its own process group, so
 * stopping it stops everything it spawned (the emulator's Lambda workers, for instance), and a
 * JSON pid file records what `stack up` started so `stack down` stops exactly that.
 */
export interface PidRecord {
  readonly service: string;
  /** Pid of the group leader; the process group id is the same number. */
  readonly pid: number;
  /** A string that the process's command line contains: guards against a recycled pid. */
  readonly marker: string;
  readonly startedAt: string;
  readonly endpoint: string;
  readonly logFile: string;
  /**
   * Who asked for it: `cli` (a person's `stack up`, stopped only by `stack down`) or `tests` (the
   * integration tests' global setup, stopped when the last test run using it ends). @default cli
   */
  readonly owner?: 'cli' | 'tests';
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command could not be started at all (ENOENT for a missing program). */
  readonly spawnError?: NodeJS.ErrnoException;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a program to completion and collects its output; never throws. */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ code: null, stdout, stderr, spawnError: err }),
    );
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starts a long-running program detached, in a new process group and session, with stdout and
 * stderr appended to `logFile`. Returns its pid (which is also its process group id).
 */
export function spawnDaemon(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; logFile: string },
): Promise<number> {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.unref();
        if (child.pid === undefined) reject(new Error(`${command} started without a pid`));
        else resolve(child.pid);
      });
    });
  } finally {
    closeSync(fd);
  }
}

export async function readPidRecord(file: string): Promise<PidRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<PidRecord>;
    if (
      typeof value.pid !== 'number' ||
      typeof value.marker !== 'string' ||
      typeof value.service !== 'string'
    ) {
      return undefined;
    }
    return value as PidRecord;
  } catch {
    return undefined;
  }
}

export async function writePidRecord(file: string, record: PidRecord): Promise<void> {
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
}

export async function removePidRecord(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** The command line of a live (non-zombie) process, or undefined when there is none. */
export async function commandLine(pid: number): Promise<string | undefined> {
  if (platform() === 'linux') {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (processState(stat) === 'Z') return undefined;
      return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
    } catch {
      return undefined;
    }
  }
  const r = await run('ps', ['-o', 'args=', '-p', String(pid)]);
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** The state letter of a `/proc/<pid>/stat` line (R, S, D, Z, ...). */
export function processState(statLine: string): string | undefined {
  const close = statLine.lastIndexOf(')');
  return close < 0 ? undefined : statLine.slice(close + 2, close + 3);
}

/** The process group id of a `/proc/<pid>/stat` line. */
export function processGroup(statLine: string): number | undefined {
  const close = statLine.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = statLine.slice(close + 2).split(' ');
  const pgrp = Number(fields[2]);
  return Number.isInteger(pgrp) ? pgrp : undefined;
}

/** Whether the recorded process is alive and still the program we started (not a recycled pid). */
export async function isRecordAlive(record: PidRecord): Promise<boolean> {
  const cmd = await commandLine(record.pid);
  return cmd?.includes(record.marker) ?? false;
}

/** Live (non-zombie) members of a process group. */
export async function groupMembers(pgid: number): Promise<number[]> {
  if (platform() !== 'linux') {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      if (processGroup(stat) === pgid && processState(stat) !== 'Z') members.push(Number(name));
    } catch {
      // the process exited while we looked
    }
  }
  return members;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Stops a whole process group: SIGTERM, then SIGKILL after `graceMs`, then waits until no member
 * is left. Returns how it ended; throws if processes survive SIGKILL (which only a process stuck
 * in the kernel can do).
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<'terminated' | 'killed' | 'gone'> {
  if ((await groupMembers(pgid)).length === 0) return 'gone';
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if ((await groupMembers(pgid)).length === 0) return 'terminated';
    await sleep(100);
  }
  signalGroup(pgid, 'SIGKILL');
  const killDeadline = Date.now() + 10_000;
  while (Date.now() < killDeadline) {
    if ((await groupMembers(pgid)).length === 0) return 'killed';
    await sleep(100);
  }
  const left = await groupMembers(pgid);
  throw new Error(`processes ${left.join(', ')} of group ${pgid} survived SIGKILL`);
}

/** The last `lines` lines of a log file, for error messages. */
export async function tail(file: string, lines: number): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
