/**
 * One connection of a plugin to a runtime: the mux over the socket, our `Plugin` service on mux
 * connection 1, a client of the runtime's `Runtime` service on connection 2, and the registration
 * handshake (RegisterPlugin, then wait for Configure).
 * @module
 */
import type { Duplex } from "node:stream";
import {
  type Client,
  type Connection,
  connect,
  createClient,
  createServer,
  type Server,
} from "ttrpc";
import { NriError } from "./errors.js";
import { Plugin, Runtime } from "./gen/api_pb.js";
import type { ConfigureInfo, PluginHandlers } from "./handlers.js";
import { Mux, PLUGIN_SERVICE_CONN, RUNTIME_SERVICE_CONN } from "./mux.js";
import { pluginService, type SessionEvents } from "./service.js";

/** Limits and identity a session needs (all sizes in bytes). */
export interface SessionConfig {
  name: string;
  index: string;
  registrationTimeoutMs: number;
  maxMessageBytes: number;
  maxBufferedBytes: number;
  maxSyncBytes: number;
}

/** An open, registered and configured connection to a runtime. */
export class Session {
  readonly mux: Mux;
  readonly runtime: Client<typeof Runtime>;
  /** What Configure said. */
  readonly info: ConfigureInfo;
  /** The event mask we answered Configure with. */
  readonly mask: number;
  readonly #conn: Connection;
  /** Settles when the connection to the runtime is gone, with why. */
  readonly closed: Promise<Error | undefined>;

  private constructor(
    mux: Mux,
    server: Server,
    conn: Connection,
    info: ConfigureInfo,
    mask: number,
  ) {
    this.mux = mux;
    this.#conn = conn;
    this.runtime = createClient(Runtime, conn);
    this.info = info;
    this.mask = mask;
    // Either ttrpc connection ending means the runtime dropped us: close the whole trunk.
    void conn.closed.then((err) => mux.close(err));
    this.closed = mux.closed.then(async (err) => {
      await server.close().catch(() => {});
      return err;
    });
  }

  /** Closes the connection to the runtime. */
  close(): void {
    this.mux.close();
    void this.#conn.close().catch(() => {});
  }

  /**
   * Serves `Plugin` on the trunk, registers, and waits for the runtime's Configure, all within
   * the registration timeout. The trunk is closed if anything fails.
   */
  static async open(
    trunk: Duplex,
    handlers: PluginHandlers,
    config: SessionConfig,
    events: Omit<SessionEvents, "configured">,
  ): Promise<Session> {
    const mux = new Mux(trunk, {
      maxBufferedBytes: config.maxBufferedBytes,
      maxMessageBytes: config.maxMessageBytes + 10,
      maxFrameBytes: Math.max(config.maxMessageBytes + 10, 16 << 20),
    });
    let configured!: (v: { info: ConfigureInfo; mask: number }) => void;
    const gotConfigure = new Promise<{ info: ConfigureInfo; mask: number }>((resolve) => {
      configured = resolve;
    });
    const server = createServer({ maxMessageBytes: config.maxMessageBytes });
    server.register(
      Plugin,
      pluginService(handlers, config.maxSyncBytes, {
        ...events,
        configured: (info, mask) => configured({ info, mask }),
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      // Serve first: the runtime calls Configure as soon as RegisterPlugin is answered.
      server.handleConnection(mux.open(PLUGIN_SERVICE_CONN));
      const conn = await connect(mux.open(RUNTIME_SERVICE_CONN), {
        maxMessageBytes: config.maxMessageBytes,
      });
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new NriError(
                `nri: registration as ${config.index}-${config.name} did not complete within ${config.registrationTimeoutMs} ms`,
                "REGISTRATION_TIMEOUT",
              ),
            ),
          config.registrationTimeoutMs,
        );
      });
      const closed = mux.closed.then((err) => {
        throw new NriError(
          "nri: the runtime closed the connection during registration",
          "NOT_CONNECTED",
          {
            cause: err,
          },
        );
      });
      // Also settles after a successful registration: nobody waits for it then.
      closed.catch(() => {});
      const runtime = createClient(Runtime, conn);
      await Promise.race([
        runtime.registerPlugin(
          { pluginName: config.name, pluginIdx: config.index },
          { timeoutMs: config.registrationTimeoutMs },
        ),
        deadline,
        closed,
      ]);
      const { info, mask } = await Promise.race([gotConfigure, deadline, closed]);
      return new Session(mux, server, conn, info, mask);
    } catch (err) {
      mux.close();
      await server.close().catch(() => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
