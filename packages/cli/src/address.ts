/**
 * ADDR on the command line: a socket path, `unix://path`, or containerd's `ttrpc+unix://path`
 * (and `unix:path`), as they appear in shim addresses and configuration files.
 * @module
 */
import { usageError } from "./cli-error.js";

/** The unix socket path an address names. */
export function socketPath(address: string): string {
  const m = /^(?:ttrpc\+)?unix:(?:\/\/)?(.*)$/.exec(address);
  const path = m ? (m[1] ?? "") : address;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address) && !m) {
    throw usageError(
      `unsupported address ${address}: use a socket path, unix://PATH or ttrpc+unix://PATH`,
    );
  }
  if (path === "") throw usageError(`empty socket path in address ${JSON.stringify(address)}`);
  if (path.startsWith("@")) {
    // Node pads abstract socket names to the full sun_path, so a Go peer's name never matches.
    throw usageError(
      `abstract sockets (${path}) are not supported by Node.js; use a filesystem socket`,
    );
  }
  return path;
}
