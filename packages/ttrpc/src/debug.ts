/**
 * `NODE_DEBUG=ttrpc`: Node's `util.debuglog` convention for the core's debug lines (connections
 * opened and closed, calls with their stream id and method, stream ends, protocol errors).
 *
 * `node:util` is loaded only when the lines are on: importing it costs about 0.6 MiB RSS, more
 * than the rest of the engine's imports together (measured with `node --expose-gc`, a listening
 * `node:net` server with and without `import "node:util"`: 43.1 vs 43.8 MiB).
 * @module
 */

type Log = (format: string, ...args: unknown[]) => void;

/** True when `NODE_DEBUG` names `ttrpc`: a comma-separated list, case-insensitive, `*` wildcards. */
function enabledIn(setting: string | undefined): boolean {
  if (!setting) return false;
  return setting.split(",").some((part) => {
    const pattern = part
      .trim()
      .replace(/[|\\{}()[\]^$+?.]/g, "\\$&")
      .replaceAll("*", ".*");
    return pattern !== "" && new RegExp(`^${pattern}$`, "i").test("ttrpc");
  });
}

/**
 * Read once at load: call sites test this constant before building any argument, so the lines
 * cost one branch when off.
 */
export const DEBUG: boolean = enabledIn(globalThis.process?.env?.NODE_DEBUG);

let log: Log | undefined;

function makeLog(): Log {
  // process.getBuiltinModule (Node >= 20.16, Bun, Deno) loads node:util synchronously, and only now.
  const util = (
    globalThis.process as { getBuiltinModule?: (id: string) => unknown } | undefined
  )?.getBuiltinModule?.("node:util") as
    | { debuglog?: (section: string) => Log; format?: (...args: unknown[]) => string }
    | undefined;
  const debuglog = util?.debuglog?.("ttrpc");
  if (debuglog) return debuglog;
  const pid = globalThis.process?.pid ?? 0;
  return (format, ...args) =>
    console.error(
      `TTRPC ${pid}: ${util?.format ? util.format(format, ...args) : format}`,
      ...(util?.format ? [] : args),
    );
}

/** Writes one debug line (`TTRPC <pid>: …` on stderr); call it only under `if (DEBUG)`. */
export function debug(format: string, ...args: unknown[]): void {
  log ??= makeLog();
  log(format, ...args);
}

let connections = 0;

/** A number for a new connection, so its lines can be told apart (`conn 3`). */
export function nextConnectionId(): number {
  return ++connections;
}
