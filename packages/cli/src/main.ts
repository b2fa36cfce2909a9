/**
 * The `ttrpc` command's entry point.
 * @module
 */

/** Runs the command with its arguments; resolves to the exit status. */
export async function main(_argv: string[]): Promise<number> {
  process.stdout.write("ttrpc: work in progress\n");
  return 0;
}
