/**
 * `NODE_DEBUG=ttrpc`: Node's `util.debuglog` convention for the core's debug lines (connections
 * opened and closed, calls with their stream id and method, stream ends, protocol errors).
 * @module
 */
import { debuglog } from "node:util";

const log = debuglog("ttrpc");

/**
 * Read once at load: call sites test this constant before building any argument, so the lines
 * cost one branch when off. Runtimes whose `debuglog` has no `enabled` read `NODE_DEBUG` directly.
 */
export const DEBUG: boolean =
  typeof log.enabled === "boolean"
    ? log.enabled
    : /(^|,)\s*ttrpc\s*(,|$)/i.test(process.env.NODE_DEBUG ?? "");

/** Writes one debug line (`TTRPC <pid>: …` on stderr); call it only under `if (DEBUG)`. */
export function debug(format: string, ...args: unknown[]): void {
  log(format, ...args);
}

let connections = 0;

/** A number for a new connection, so its lines can be told apart (`conn 3`). */
export function nextConnectionId(): number {
  return ++connections;
}
