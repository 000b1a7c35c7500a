import { execFile } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `tidewater` command as a child process, with the project's Node 22 first on PATH (like `npm start`). */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'tidewater.js');
const ENV = {
  ...process.env,
  PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
};

export interface Cli {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tidewater ...args` from the repository root; resolves with its exit code and output. */
export function tidewater(...args: string[]): Promise<Cli> {
  return tidewaterWith({}, ...args);
}

/** {@link tidewater} with extra environment variables (e.g. a cache dir of the test's own). */
export function tidewaterWith(env: Readonly<Record<string, string>>, ...args: string[]): Promise<Cli> {
  return new Promise((resolve) => {
    execFile(
      'node',
      [BIN, ...args],
      { cwd: ROOT, env: { ...ENV, ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
