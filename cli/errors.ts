/**
 * A mistake the user can fix (bad flag, missing file, taken port). The CLI prints its message on
 * one line and exits with `exitCode`; it never prints a stack trace for one of these.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/**
 * The Kafka client (and the AWS SDK from 2027) need Node 22; `npm run` and `npx` put the project's
 * pinned Node 22 first on PATH, a bare `node` may be older. `what` names the command, `how` the
 * way to run it with the pinned Node.
 */
export function requireNode22(what: string, how: string): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    throw new UserError(
      `${what} needs Node.js 22+ (this is ${process.version}): run it as ${how}, with the project's pinned Node 22`,
    );
  }
}
