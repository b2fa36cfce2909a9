/**
 * The `ttrpc` command: argv to a verb, and every failure to one line on stderr and an exit status.
 * @module
 */
import { runBench } from "./bench.js";
import { runCall } from "./call.js";
import { CliError, EXIT_USAGE } from "./cli-error.js";
import { completion } from "./completion.js";
import { runDescribe, runList } from "./describe.js";
import { HELP, VERSION } from "./help.js";
import { runTap } from "./tap.js";

const VERBS = ["call", "list", "describe", "tap", "bench", "completion", "help"] as const;

function wantsHelp(argv: string[]): boolean {
  return argv.includes("-h") || argv.includes("--help");
}

async function dispatch(verb: string, rest: string[]): Promise<number> {
  const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  if (verb in HELP && wantsHelp(rest)) {
    process.stdout.write(HELP[verb as keyof typeof HELP]);
    return 0;
  }
  switch (verb) {
    case "call":
      return runCall(rest, io);
    case "list":
      return runList(rest, process.stdout);
    case "describe":
      return runDescribe(rest, process.stdout);
    case "tap":
      return runTap(rest, io);
    case "bench":
      return runBench(rest, io);
    case "completion":
      process.stdout.write(completion(rest[0] ?? "bash"));
      return 0;
    case "help": {
      const topic = rest[0] ?? "main";
      if (!(topic in HELP))
        throw new CliError(`no help on ${topic}: verbs are ${VERBS.join(", ")}`, EXIT_USAGE);
      process.stdout.write(HELP[topic as keyof typeof HELP]);
      return 0;
    }
    default:
      throw new CliError(
        `unknown command ${JSON.stringify(verb)}: expected one of ${VERBS.join(", ")} (see \`ttrpc --help\`)`,
        EXIT_USAGE,
      );
  }
}

/** Runs the command with its arguments (without `node` and the script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "-h" || verb === "--help") {
    process.stdout.write(HELP.main);
    return verb === undefined ? EXIT_USAGE : 0;
  }
  if (verb === "--version" || verb === "-v") {
    process.stdout.write(`ttrpc ${VERSION}\n`);
    return 0;
  }
  // A reader that goes away (`ttrpc call ... | head -1`) ends the command quietly, as a pipe should.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
  });
  try {
    return await dispatch(verb, rest);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ttrpc ${verb}: ${message.split("\n")[0]}\n`);
    if (process.env.TTRPC_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
