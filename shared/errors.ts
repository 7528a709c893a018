/**
 * The base of every error whose message is meant for the person: it says what was wrong and
 * how to fix it, in one line, so a host prints it as it is (no stack trace, no "unexpected
 * error"). `exitCode` is what a command-line host ends with: 1 a failure while working, 2 a
 * usage error (something named on the command line), 130 cancelled. The CLI and the UI's
 * bridge recognise these by this one class, not by a list of their kinds.
 */
export class KestrelError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}
