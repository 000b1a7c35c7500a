import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../cli/errors.ts';
import {
  EMULATOR_NAME,
  EMULATOR_VERSION,
  HOST,
  MIN_PYTHON,
  type StackPaths,
  type StackPorts,
} from './config.ts';
import { run } from './process.ts';

/**
 * The AWS emulator of the local stack: MiniStack from PyPI, in a virtualenv under the cache, pinned
 * with hashes by `localstack/emulator/requirements.txt`, serving every AWS API on one loopback port.
 */

export const REQUIREMENTS_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  'emulator',
  'requirements.txt',
);

export interface EmulatorLayout {
  readonly dir: string;
  readonly dataDir: string;
  readonly tmpDir: string;
  readonly logFile: string;
  readonly pidFile: string;
}

export function emulatorLayout(paths: StackPaths): EmulatorLayout {
  const dir = join(paths.stateDir, 'emulator');
  return {
    dir,
    dataDir: join(dir, 's3'),
    tmpDir: join(dir, 'tmp'),
    logFile: join(dir, `${EMULATOR_NAME}.log`),
    pidFile: join(dir, `${EMULATOR_NAME}.pid.json`),
  };
}

/** `python3 --version` output to [major, minor]: `Python 3.11.7` is [3, 11]. */
export function parsePythonVersion(output: string): [number, number] | undefined {
  const m = /Python (\d+)\.(\d+)/.exec(output);
  return m?.[1] && m[2] ? [Number(m[1]), Number(m[2])] : undefined;
}

function pythonCommand(env: Readonly<Record<string, string | undefined>>): string {
  return env['TIDEWATER_PYTHON']?.trim() || 'python3';
}

export async function checkPython(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const python = pythonCommand(env);
  const need = `${MIN_PYTHON[0]}.${MIN_PYTHON[1]}`;
  const r = await run(python, ['--version']);
  if (r.spawnError) {
    throw new UserError(
      `Python ${need}+ is needed to run the AWS emulator but '${python}' was not found on PATH: install Python ${need}+ with venv (Debian: apt-get install python3 python3-venv), set TIDEWATER_PYTHON, or set AWS_ENDPOINT_URL to an emulator you run`,
    );
  }
  const version = parsePythonVersion(`${r.stdout}\n${r.stderr}`);
  if (
    !version ||
    version[0] < MIN_PYTHON[0] ||
    (version[0] === MIN_PYTHON[0] && version[1] < MIN_PYTHON[1])
  ) {
    throw new UserError(
      `the AWS emulator needs Python ${need}+ but '${python} --version' reports ${version?.join('.') ?? 'an unknown version'}: install Python ${need}+, set TIDEWATER_PYTHON, or set AWS_ENDPOINT_URL to an emulator you run`,
    );
  }
  return python;
}

/** The virtualenv directory: named by the emulator version and the requirements' hash, so a bump re-installs. */
export async function venvDir(paths: StackPaths): Promise<string> {
  const requirements = await readFile(REQUIREMENTS_FILE);
  const digest = createHash('sha256').update(requirements).digest('hex').slice(0, 12);
  return join(paths.cacheDir, `${EMULATOR_NAME}-${EMULATOR_VERSION}-${digest}`);
}

/** The last line of pip's output that says what went wrong. */
export function pipError(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const error = lines.find((l) => l.startsWith('ERROR:')) ?? lines.at(-1) ?? '';
  return error.replace(/^ERROR:\s*/, '').slice(0, 300);
}

/**
 * Makes sure the emulator is installed in its virtualenv, installing it from PyPI on first use
 * (`pip install --require-hashes`). Returns the path of its `ministack` program.
 */
/** Whether the emulator's virtualenv is complete (so starting it needs no Python download). */
export async function emulatorInstalled(paths: StackPaths): Promise<boolean> {
  const venv = await venvDir(paths);
  return existsSync(join(venv, '.complete')) && existsSync(join(venv, 'bin', EMULATOR_NAME));
}

export async function ensureEmulatorInstalled(
  paths: StackPaths,
  log: (line: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const venv = await venvDir(paths);
  const program = join(venv, 'bin', EMULATOR_NAME);
  const marker = join(venv, '.complete');
  if (await emulatorInstalled(paths)) return program;
  const python = await checkPython(env);
  log(
    `AWS emulator: installing ${EMULATOR_NAME} ${EMULATOR_VERSION} from PyPI into ${venv} (first run only)`,
  );
  await rm(venv, { recursive: true, force: true });
  await mkdir(paths.cacheDir, { recursive: true });
  const created = await run(python, ['-m', 'venv', venv], { timeoutMs: 120_000 });
  if (created.code !== 0) {
    await rm(venv, { recursive: true, force: true });
    throw new UserError(
      `creating a Python virtualenv in ${venv} failed: ${pipError(`${created.stdout}\n${created.stderr}`)} (Debian: apt-get install python3-venv)`,
    );
  }
  const installed = await run(
    join(venv, 'bin', 'python'),
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--require-hashes',
      '--only-binary',
      ':all:',
      '-r',
      REQUIREMENTS_FILE,
    ],
    { env: { ...process.env, PIP_CACHE_DIR: paths.pipCache }, timeoutMs: 15 * 60_000 },
  );
  if (installed.code !== 0) {
    await rm(venv, { recursive: true, force: true });
    throw new UserError(
      `downloading ${EMULATOR_NAME} ${EMULATOR_VERSION} from PyPI failed (pip exit ${installed.code ?? 'signal'}): ${pipError(`${installed.stdout}\n${installed.stderr}`)}`,
    );
  }
  if (!existsSync(program)) {
    throw new UserError(
      `installing ${EMULATOR_NAME} ${EMULATOR_VERSION} failed: ${program} is missing after pip install`,
    );
  }
  await writeFile(marker, `${EMULATOR_NAME}==${EMULATOR_VERSION}\n`);
  return program;
}

/** The environment the emulator runs with: loopback only, its files inside the state dir. */
export function emulatorEnv(
  base: NodeJS.ProcessEnv,
  ports: StackPorts,
  layout: EmulatorLayout,
): NodeJS.ProcessEnv {
  return {
    ...base,
    GATEWAY_PORT: String(ports.aws),
    BIND_HOST: HOST,
    S3_DATA_DIR: layout.dataDir,
    TMPDIR: layout.tmpDir,
    // The emulator's own settings, never a client's pointers at some other endpoint.
    AWS_ENDPOINT_URL: undefined,
    LOG_LEVEL: base['TIDEWATER_EMULATOR_LOG_LEVEL'] ?? 'INFO',
  };
}

export async function prepareEmulator(paths: StackPaths): Promise<EmulatorLayout> {
  const layout = emulatorLayout(paths);
  await mkdir(layout.dataDir, { recursive: true });
  await mkdir(layout.tmpDir, { recursive: true });
  return layout;
}

/** Whether MiniStack's health endpoint answers 200 at `endpoint`. */
export async function emulatorHealthy(endpoint: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(new URL('/_ministack/health', endpoint), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Whether any HTTP server answers at `endpoint` (an emulator someone else runs: LocalStack, a
 * MiniStack container, moto). Any HTTP status counts; only a refused or timed-out connection does not.
 */
export async function httpAnswers(endpoint: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(new URL('/_localstack/health', endpoint), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
