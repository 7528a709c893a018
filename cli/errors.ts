import { KestrelError } from '../shared/errors.ts';

/**
 * An error the CLI raises itself, for the person at the terminal: printed as one line, no
 * stack trace. `exitCode` 2 is a usage error (bad command or flag), 1 a failure while working.
 * Errors from the other rooms need no wrapping: every KestrelError prints the same way.
 */
export class CliError extends KestrelError {
  override readonly name = 'CliError';
  constructor(message: string, exitCode = 1) {
    super(message, { exitCode });
  }
}
