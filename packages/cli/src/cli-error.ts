/**
 * The command's own errors (bad flags, bad input, a schema that does not know a name): one line
 * that tells the user what to change, and the exit status it ends with.
 * @module
 */

/** Exit status of a usage error (bad flags, missing arguments): EX_USAGE, outside the status codes. */
export const EXIT_USAGE = 64;

/** Exit status of bad input (JSON, an unknown method): the status code INVALID_ARGUMENT. */
export const EXIT_INPUT = 3;

/**
 * A failure of the command itself, with the exit status it ends with. Its message is one line that
 * tells the user what to change.
 */
export class CliError extends Error {
  override name = "CliError";
  /** The process exit status. */
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_INPUT) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** A usage error: exits with {@link EXIT_USAGE}. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}
