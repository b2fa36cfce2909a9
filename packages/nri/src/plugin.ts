/**
 * `createPlugin`: an NRI plugin in the style of NRI's Go stub. It connects (the runtime's socket,
 * or fd 3 when the runtime launched it), registers, answers Configure with the event mask its
 * handlers imply, handles Synchronize (split or not) and the lifecycle events, lets the plugin
 * send unsolicited container updates, and reconnects after the runtime restarts.
 * @module
 */
import { createConnection, Socket } from "node:net";
import { basename, extname } from "node:path";
import type { Duplex } from "node:stream";
import { DEFAULT_MAX_MESSAGE_BYTES } from "ttrpc";
import { NriError } from "./errors.js";
import { eventNames } from "./events.js";
import type { ContainerUpdate } from "./gen/api_pb.js";
import type { ContainerUpdateInit, PluginHandlers } from "./handlers.js";
import { Session } from "./session.js";

/** Where external plugins connect by default. */
export const DEFAULT_SOCKET_PATH = "/var/run/nri/nri.sock";
/** The runtime's own default registration timeout (ms). */
export const DEFAULT_REGISTRATION_TIMEOUT_MS = 5000;

/** What a plugin reports about its connection, for logs. */
export type PluginStatus =
  | { state: "connecting"; attempt: number; target: string }
  | { state: "registered"; runtime: string; version: string; events: string[] }
  | { state: "synchronized"; pods: number; containers: number; messages: number }
  | { state: "disconnected"; error: Error | undefined }
  | { state: "shutdown" }
  | { state: "stopped" };

/** Options of {@link createPlugin}: identity, transport, limits, and the handlers. */
export interface PluginOptions extends PluginHandlers {
  /** Plugin name, `[a-zA-Z0-9_.+-]+` (launched plugins: NRI_PLUGIN_NAME wins). Default: the script's file name. */
  name?: string;
  /** Two-digit index that orders plugins (launched plugins: NRI_PLUGIN_IDX wins). Required otherwise. */
  index?: string;
  /** The runtime's NRI socket (default {@link DEFAULT_SOCKET_PATH}); ignored when launched. */
  socketPath?: string;
  /** An already connected transport instead of a socket path (one connection, no reconnect). */
  socket?: Duplex;
  /** Registration, Configure included, must finish within this (ms; default 5000). */
  registrationTimeoutMs?: number;
  /**
   * External plugins reconnect after the runtime closed the connection or could not be reached,
   * with a delay doubling from `delayMs` (250) to `maxDelayMs` (5000). `false`: one connection only.
   * Launched plugins never reconnect (the socket was inherited).
   */
  reconnect?: false | { delayMs?: number; maxDelayMs?: number };
  /** Largest ttrpc message sent or accepted (default 4 MiB, as NRI's runtimes use). */
  maxMessageBytes?: number;
  /** Unread bytes held per mux connection (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Pods and containers held while a split Synchronize arrives, in encoded bytes (default 64 MiB). */
  maxSyncBytes?: number;
  /** Connection status changes (connecting, registered, synchronized, disconnected...). */
  onStatus?: (status: PluginStatus) => void;
  /** Failures that do not end the plugin (a lost connection about to be retried...). */
  onError?: (error: unknown) => void;
  /** Environment to read NRI_PLUGIN_SOCKET/NAME/IDX from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** A running (or startable) NRI plugin. */
export interface NriPlugin {
  /** Connects and registers; resolves once the runtime has configured the plugin the first time. */
  start(): Promise<void>;
  /**
   * Runs until {@link NriPlugin.stop} (or, for a launched plugin or a given socket, until the
   * runtime closes the connection). Rejects only when the first connection fails without reconnect.
   */
  run(): Promise<void>;
  /** Closes the connection and stops reconnecting. */
  stop(): Promise<void>;
  /** Unsolicited container updates; resolves with the updates the runtime could not apply. */
  updateContainers(updates: ContainerUpdateInit[]): Promise<ContainerUpdate[]>;
  /** The registered name and index. */
  readonly name: string;
  readonly index: string;
  /** True while connected, registered and configured. */
  readonly connected: boolean;
  /** The event mask of the current connection (0 while disconnected). */
  readonly events: number;
}

const NAME_RE = /^[a-zA-Z0-9_.+-]+$/;
const INDEX_RE = /^[0-9]{2}$/;

function optionInt(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new NriError(`nri: ${what} must be a positive integer`, "INVALID_OPTIONS");
  }
  return v;
}

class PluginRunner implements NriPlugin {
  readonly name: string;
  readonly index: string;
  readonly #opts: PluginOptions;
  readonly #launchedFd: number | undefined;
  readonly #config;
  #session: Session | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #first!: { resolve: () => void; reject: (e: unknown) => void; promise: Promise<void> };
  readonly #wake = new AbortController();

  constructor(options: PluginOptions) {
    const env = options.env ?? process.env;
    const fd = env.NRI_PLUGIN_SOCKET;
    this.#launchedFd = fd !== undefined && fd !== "" ? Number(fd) : undefined;
    if (this.#launchedFd !== undefined && !Number.isInteger(this.#launchedFd)) {
      throw new NriError(
        `nri: NRI_PLUGIN_SOCKET=${fd} is not a file descriptor`,
        "INVALID_OPTIONS",
      );
    }
    const launched = this.#launchedFd !== undefined;
    const script = basename(process.argv[1] ?? "plugin");
    this.name =
      (launched ? env.NRI_PLUGIN_NAME : undefined) ??
      options.name ??
      basename(script, extname(script));
    this.index = (launched ? env.NRI_PLUGIN_IDX : undefined) ?? options.index ?? "";
    if (!NAME_RE.test(this.name)) {
      throw new NriError(`nri: invalid plugin name ${JSON.stringify(this.name)}`, "INVALID_NAME");
    }
    if (!INDEX_RE.test(this.index)) {
      throw new NriError(
        `nri: invalid plugin index ${JSON.stringify(this.index)}: two digits required`,
        "INVALID_INDEX",
      );
    }
    this.#opts = options;
    const maxMessageBytes = optionInt(
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
      "maxMessageBytes",
    );
    this.#config = {
      name: this.name,
      index: this.index,
      registrationTimeoutMs: optionInt(
        options.registrationTimeoutMs,
        DEFAULT_REGISTRATION_TIMEOUT_MS,
        "registrationTimeoutMs",
      ),
      maxMessageBytes,
      maxBufferedBytes: optionInt(options.maxBufferedBytes, 8 << 20, "maxBufferedBytes"),
      maxSyncBytes: optionInt(options.maxSyncBytes, 64 << 20, "maxSyncBytes"),
    };
  }

  get connected(): boolean {
    return this.#session !== undefined;
  }

  get events(): number {
    return this.#session?.mask ?? 0;
  }

  #status(status: PluginStatus): void {
    try {
      this.#opts.onStatus?.(status);
    } catch (err) {
      this.#error(err);
    }
  }

  #error(err: unknown): void {
    try {
      this.#opts.onError?.(err);
    } catch {
      // A failing error hook has nowhere left to report to.
    }
  }

  get #reconnects(): boolean {
    return (
      this.#launchedFd === undefined &&
      this.#opts.socket === undefined &&
      this.#opts.reconnect !== false
    );
  }

  start(): Promise<void> {
    if (!this.#loop) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#first = { resolve, reject, promise };
      this.#loop = this.#run().then(
        () => reject(new NriError("nri: plugin stopped before it registered", "STOPPED")),
        (err: unknown) => reject(err),
      );
      promise.catch(() => {});
    }
    return this.#first.promise;
  }

  async run(): Promise<void> {
    await this.start();
    await this.#loop;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.abort();
    this.#session?.close();
    await this.#loop;
    this.#status({ state: "stopped" });
  }

  async updateContainers(updates: ContainerUpdateInit[]): Promise<ContainerUpdate[]> {
    const session = this.#session;
    if (!session) throw new NriError("nri: not connected to a runtime", "NOT_CONNECTED");
    const reply = await session.runtime.updateContainers({ update: updates });
    return reply.failed;
  }

  /** Opens the transport of one attempt. */
  async #dial(attempt: number): Promise<Duplex> {
    if (this.#launchedFd !== undefined) {
      this.#status({ state: "connecting", attempt, target: `fd ${this.#launchedFd}` });
      return new Socket({ fd: this.#launchedFd, readable: true, writable: true });
    }
    if (this.#opts.socket) {
      this.#status({ state: "connecting", attempt, target: "given socket" });
      return this.#opts.socket;
    }
    const path = this.#opts.socketPath ?? DEFAULT_SOCKET_PATH;
    this.#status({ state: "connecting", attempt, target: path });
    return await new Promise<Duplex>((resolve, reject) => {
      const socket = createConnection(path);
      socket.once("connect", () => {
        socket.removeListener("error", reject);
        resolve(socket);
      });
      socket.once("error", reject);
    });
  }

  async #run(): Promise<void> {
    const reconnect = this.#opts.reconnect === false ? {} : (this.#opts.reconnect ?? {});
    const initialDelay = reconnect.delayMs ?? 250;
    const maxDelay = reconnect.maxDelayMs ?? 5000;
    let delay = initialDelay;
    for (let attempt = 1; !this.#stopped; attempt++) {
      let session: Session | undefined;
      try {
        const trunk = await this.#dial(attempt);
        session = await Session.open(trunk, this.#opts, this.#config, {
          synchronized: (pods, containers, messages) =>
            this.#status({ state: "synchronized", pods, containers, messages }),
          shutdown: () => this.#status({ state: "shutdown" }),
        });
      } catch (err) {
        if (this.#stopped) return;
        if (!this.#reconnects) throw err;
        this.#error(err);
      }
      if (session) {
        if (this.#stopped) {
          session.close();
          return;
        }
        this.#session = session;
        delay = initialDelay;
        this.#status({
          state: "registered",
          runtime: session.info.runtimeName,
          version: session.info.runtimeVersion,
          events: eventNames(session.mask),
        });
        this.#first.resolve();
        const error = await session.closed;
        this.#session = undefined;
        this.#status({ state: "disconnected", error });
        if (!this.#reconnects) return;
      }
      if (this.#stopped) return;
      await this.#sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#wake.signal;
      if (signal.aborted) return resolve();
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * Creates an NRI plugin. Handlers are optional; the event mask is derived from the ones present.
 *
 * @example
 * const plugin = createPlugin({
 *   name: "inject-env",
 *   index: "10",
 *   createContainer: (pod, ctr) => ({ adjust: { env: [{ key: "FROM_NRI", value: "1" }] } }),
 * });
 * await plugin.run();
 */
export function createPlugin(options: PluginOptions): NriPlugin {
  return new PluginRunner(options);
}
