import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../cli/errors.ts';
import { MIN_PYTHON } from './config.ts';
import { run } from './process.ts';

/**
 * Python tools from PyPI in a virtualenv under the cache, pinned with hashes by a requirements file
 * (`pip install --require-hashes --only-binary :all:`): the AWS emulator of the local stack
 * (`emulator.ts`) and the CloudFormation linters (`linters.ts`). The venv's folder is named by the
 * tool, its version and the requirements' hash, so a bump installs afresh; a `.complete` marker
 * makes the next check instant; a lock keeps two runs on the machine from installing it at once.
 */

type Env = Readonly<Record<string, string | undefined>>;

export interface PythonTool {
  /** Folder name: `ministack`, `cfn-linters`. */
  readonly name: string;
  /** What messages call it: `AWS emulator`, `CloudFormation linters`. */
  readonly label: string;
  /** Version in the folder name and the messages (the requirements file pins the exact set). */
  readonly version: string;
  /** `requirements.txt` with every dependency pinned and hashed (pip-compile --generate-hashes). */
  readonly requirementsFile: string;
  /** Programs the venv's `bin/` must hold once installed. */
  readonly programs: readonly string[];
}

export interface VenvPaths {
  /** Where the venvs live: `~/.cache/tidewater` (`TIDEWATER_CACHE_DIR`). */
  readonly cacheDir: string;
  /** pip's download cache. */
  readonly pipCache: string;
}

/** `python3 --version` output to [major, minor]: `Python 3.11.7` is [3, 11]. */
export function parsePythonVersion(output: string): [number, number] | undefined {
  const m = /Python (\d+)\.(\d+)/.exec(output);
  return m?.[1] && m[2] ? [Number(m[1]), Number(m[2])] : undefined;
}

function pythonCommand(env: Env): string {
  return env['TIDEWATER_PYTHON']?.trim() || 'python3';
}

/**
 * The Python to create venvs with (`TIDEWATER_PYTHON`, else `python3`), checked to be 3.11+.
 * @param purpose what needs it, for the messages (`to run the AWS emulator`)
 * @param otherwise the way around it, for the messages
 */
export async function checkPython(
  env: Env = process.env,
  purpose = 'to run the AWS emulator',
  otherwise = 'or set AWS_ENDPOINT_URL to an emulator you run',
): Promise<string> {
  const python = pythonCommand(env);
  const need = `${MIN_PYTHON[0]}.${MIN_PYTHON[1]}`;
  const r = await run(python, ['--version']);
  if (r.spawnError) {
    throw new UserError(
      `Python ${need}+ is needed ${purpose} but '${python}' was not found on PATH: install Python ${need}+ with venv (Debian: apt-get install python3 python3-venv), set TIDEWATER_PYTHON, ${otherwise}`,
    );
  }
  const version = parsePythonVersion(`${r.stdout}\n${r.stderr}`);
  if (
    !version ||
    version[0] < MIN_PYTHON[0] ||
    (version[0] === MIN_PYTHON[0] && version[1] < MIN_PYTHON[1])
  ) {
    throw new UserError(
      `Python ${need}+ is needed ${purpose} but '${python} --version' reports ${version?.join('.') ?? 'an unknown version'}: install Python ${need}+, set TIDEWATER_PYTHON, ${otherwise}`,
    );
  }
  return python;
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

/** The tool's virtualenv folder: `<cache>/<name>-<version>-<12 hex of the requirements' sha256>`. */
export async function toolVenvDir(cacheDir: string, tool: PythonTool): Promise<string> {
  const requirements = await readFile(tool.requirementsFile);
  const digest = createHash('sha256').update(requirements).digest('hex').slice(0, 12);
  return join(cacheDir, `${tool.name}-${tool.version}-${digest}`);
}

/** Whether the tool's virtualenv is complete (so using it needs no download). */
export async function toolInstalled(cacheDir: string, tool: PythonTool): Promise<boolean> {
  const venv = await toolVenvDir(cacheDir, tool);
  return existsSync(join(venv, '.complete')) && tool.programs.every((p) => existsSync(join(venv, 'bin', p)));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `install` holding `<venv>.lock` (a folder: mkdir is atomic), so two runs on the machine (a
 * developer's and CI's, or two test runs) never build the same venv at once. A lock whose holder
 * died is taken over; while a live holder installs, this waits and returns once it is done.
 */
async function withInstallLock(
  venv: string,
  done: () => Promise<boolean>,
  install: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const lock = `${venv}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(join(lock, 'pid'), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (await done()) return;
    if (Date.now() > deadline) {
      throw new UserError(
        `waited ${Math.round(timeoutMs / 1000)} s for another install of ${venv} (lock ${lock}, pid ${holder || 'unknown'}): stop it or remove the lock`,
      );
    }
    await sleep(1_000);
  }
  try {
    await writeFile(join(lock, 'pid'), `${process.pid}\n`);
    if (!(await done())) await install();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/**
 * Makes sure the tool is installed in its virtualenv, installing it from PyPI on first use
 * (`pip install --require-hashes --only-binary :all:`). Returns the venv folder.
 * @param python the Python that creates the venv (from {@link checkPython})
 */
export async function ensureToolInstalled(
  paths: VenvPaths,
  tool: PythonTool,
  python: () => Promise<string>,
  log: (line: string) => void,
): Promise<string> {
  const venv = await toolVenvDir(paths.cacheDir, tool);
  const done = () => toolInstalled(paths.cacheDir, tool);
  if (await done()) return venv;
  await mkdir(paths.cacheDir, { recursive: true });
  const timeoutMs = 15 * 60_000;
  await withInstallLock(
    venv,
    done,
    async () => {
      const pythonProgram = await python();
      log(`${tool.label}: installing ${tool.name} ${tool.version} from PyPI into ${venv} (first run only)`);
      await rm(venv, { recursive: true, force: true });
      const created = await run(pythonProgram, ['-m', 'venv', venv], { timeoutMs: 120_000 });
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
          tool.requirementsFile,
        ],
        { env: { ...process.env, PIP_CACHE_DIR: paths.pipCache }, timeoutMs },
      );
      if (installed.code !== 0) {
        await rm(venv, { recursive: true, force: true });
        throw new UserError(
          `downloading ${tool.name} ${tool.version} from PyPI failed (pip exit ${installed.code ?? 'signal'}): ${pipError(`${installed.stdout}\n${installed.stderr}`)}`,
        );
      }
      const missing = tool.programs.filter((p) => !existsSync(join(venv, 'bin', p)));
      if (missing.length > 0) {
        throw new UserError(
          `installing ${tool.name} ${tool.version} failed: ${missing.map((p) => join(venv, 'bin', p)).join(', ')} missing after pip install`,
        );
      }
      await writeFile(join(venv, '.complete'), `${tool.name}==${tool.version}\n`);
    },
    timeoutMs,
  );
  return venv;
}
