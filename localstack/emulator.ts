import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMULATOR_NAME, EMULATOR_VERSION, HOST, type StackPaths, type StackPorts } from './config.ts';
import {
  checkPython as checkToolPython,
  ensureToolInstalled,
  type PythonTool,
  toolInstalled,
  toolVenvDir,
} from './python-venv.ts';

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

export { parsePythonVersion, pipError } from './python-venv.ts';

/** MiniStack as a {@link PythonTool}: its venv is `<cache>/ministack-<version>-<hash>`. */
export const EMULATOR_TOOL: PythonTool = {
  name: EMULATOR_NAME,
  label: 'AWS emulator',
  version: EMULATOR_VERSION,
  requirementsFile: REQUIREMENTS_FILE,
  programs: [EMULATOR_NAME],
};

/** The Python the emulator's venv is created with, checked to be 3.11+. */
export function checkPython(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  return checkToolPython(env);
}

/** The virtualenv directory: named by the emulator version and the requirements' hash, so a bump re-installs. */
export function venvDir(paths: StackPaths): Promise<string> {
  return toolVenvDir(paths.cacheDir, EMULATOR_TOOL);
}

/** Whether the emulator's virtualenv is complete (so starting it needs no Python download). */
export function emulatorInstalled(paths: StackPaths): Promise<boolean> {
  return toolInstalled(paths.cacheDir, EMULATOR_TOOL);
}

/**
 * Makes sure the emulator is installed in its virtualenv, installing it from PyPI on first use
 * (`pip install --require-hashes`). Returns the path of its `ministack` program.
 */
export async function ensureEmulatorInstalled(
  paths: StackPaths,
  log: (line: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const venv = await ensureToolInstalled(paths, EMULATOR_TOOL, () => checkPython(env), log);
  return join(venv, 'bin', EMULATOR_NAME);
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
