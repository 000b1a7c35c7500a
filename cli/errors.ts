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
