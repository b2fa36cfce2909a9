/**
 * Unix socket paths, both ways: connecting with errors a user can act on (a path longer than the
 * kernel keeps is refused, as Node 20/22 truncate it silently; a path that is a regular file or a
 * directory says so instead of ECONNREFUSED), and the stale-socket check before listening.
 * @module
 */
import { lstatSync, unlinkSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { Code, canceledError, TtrpcError } from "./errors.js";

/** The longest socket path the kernel keeps: `sun_path` less its terminating NUL. */
export const MAX_SOCKET_PATH_BYTES =
  process.platform === "linux" ? 107 : process.platform === "win32" ? Infinity : 103;

/** Throws INVALID_ARGUMENT for a socket path the kernel would truncate. */
export function checkSocketPath(where: string, path: string): void {
  if (typeof path !== "string" || path.length === 0) {
    throw new TtrpcError(
      `ttrpc: ${where}: the socket path must be a non-empty string`,
      Code.InvalidArgument,
    );
  }
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new TtrpcError(
      `ttrpc: ${where}: socket path is ${bytes} bytes; the limit is ${MAX_SOCKET_PATH_BYTES} on ${process.platform} (too long, it would be truncated): ${path}`,
      Code.InvalidArgument,
    );
  }
}

/** What lies at `path` when it is not a socket ("a regular file", "a directory"), else undefined. */
function notASocket(path: string): string | undefined {
  try {
    const stat = lstatSync(path);
    if (stat.isSocket()) return undefined;
    if (stat.isFile()) return "a regular file";
    if (stat.isDirectory()) return "a directory";
    if (stat.isSymbolicLink()) return undefined; // followed by connect: its target's error stands
    return "not a socket file";
  } catch {
    return undefined;
  }
}

/** The UNAVAILABLE error of a failed connect, naming what lies at the path when it explains it. */
export function dialError(path: string, err: Error): TtrpcError {
  const errno = (err as { code?: unknown }).code;
  const kind =
    errno === "ECONNREFUSED" || errno === "ENOTSOCK" || errno === "EISDIR"
      ? notASocket(path)
      : undefined;
  const why = kind === undefined ? err.message : `not a socket (${kind})`;
  return new TtrpcError(`ttrpc: cannot connect to ${path}: ${why}`, Code.Unavailable, {
    cause: err,
  });
}

/** Connects to a unix socket; rejects with UNAVAILABLE (or CANCELLED when `signal` aborts). */
export function dialSocket(path: string, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    checkSocketPath("connect", path);
    if (signal?.aborted) {
      reject(canceledError(signal));
      return;
    }
    const socket = createConnection(path);
    const onAbort = () => {
      socket.destroy();
      reject(canceledError(signal as AbortSignal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const onError = (err: Error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(dialError(path, err));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      signal?.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
      resolve(socket);
    });
  });
}

/**
 * Before `listen()`: removes a stale socket file at `path` (nothing listening: a server that
 * died); a live socket or a file that is not a socket is never replaced (EADDRINUSE).
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return; // nothing there
  }
  const inUse = (message: string) =>
    Object.assign(new Error(`ttrpc: ${message}: ${path}`), { code: "EADDRINUSE", path });
  if (!stat.isSocket()) throw inUse("refusing to replace a file that is not a socket");
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) throw inUse("a server is already listening on");
  unlinkSync(path);
}
