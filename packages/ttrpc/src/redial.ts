/**
 * The engine of a connection that redials (`redial()` in client.ts): it dials on the first call,
 * hands each call the current connection, and after the peer goes away dials again with capped
 * exponential backoff. While it has no connection a call fails at once with UNAVAILABLE, or waits
 * in a queue bounded in calls and bytes (by option).
 * @module
 */

import { ClientEngine, type ConnectOptions } from "./connection.js";
import type { CallOptions } from "./context.js";
import { Deadline } from "./deadline.js";
import { checkSocketPath, dialSocket } from "./dial.js";
import { Code, canceledError, closedError, deadlineError, TtrpcError } from "./errors.js";
import { checkOptions, SHARED_OPTIONS, timerMs } from "./limits.js";
import { type EngineMethod, streamsRequests } from "./method.js";

/**
 * Where a redialing connection stands. `idle`: not dialed yet (it dials on the first call);
 * `connecting`: a dial is under way; `ready`: connected; `disconnected`: the peer went away or a
 * dial failed, the next dial waits for its backoff; `closed`: `close()` was called, for good.
 */
export type ConnectionState = "idle" | "connecting" | "ready" | "disconnected" | "closed";

/** Options of `redial()`: those of `connect()` and the redialing policy. */
export interface RedialOptions extends Omit<ConnectOptions, "signal"> {
  /** The wait before the first redial after a loss or a failed dial (default 100 ms). */
  initialBackoffMs?: number;
  /** The longest wait between dials; each failure doubles the wait up to this (default 10 s). */
  maxBackoffMs?: number;
  /**
   * Calls that may wait while there is no connection (default 0: they fail at once with
   * UNAVAILABLE). Calls made while a dial is under way wait for its outcome either way.
   */
  queue?: number;
  /** Encoded request bytes the waiting calls may hold in all (default 4 MiB). */
  queueBytes?: number;
  /** Hears each change of state; a dial failure or a loss comes with its error. */
  onStateChange?: (state: ConnectionState, error?: TtrpcError) => void;
}

/** The default of {@link RedialOptions.initialBackoffMs}: 100 ms. */
export const DEFAULT_INITIAL_BACKOFF_MS = 100;
/** The default of {@link RedialOptions.maxBackoffMs}: 10 s. */
export const DEFAULT_MAX_BACKOFF_MS = 10_000;
/** The default of {@link RedialOptions.queueBytes}: 4 MiB. */
export const DEFAULT_REDIAL_QUEUE_BYTES = 4 << 20;

const REDIAL_KEYS = ["initialBackoffMs", "maxBackoffMs", "queue", "queueBytes", "onStateChange"];

/** A call waiting for a connection. */
interface Waiter {
  resolve(engine: ClientEngine): void;
  reject(error: TtrpcError): void;
  bytes: number;
  /** Counted against `queue` (it arrived while disconnected, or outlived a failed dial). */
  queued: boolean;
}

/** The options a call goes on with once it has waited `waited` ms: its timeout shortened. */
function remaining(options: CallOptions | undefined, waited: number): CallOptions | undefined {
  if (options?.timeoutMs === undefined) return options;
  return { ...options, timeoutMs: options.timeoutMs - waited };
}

/** The redialing engine behind a `Connection` made by `redial()`. */
export class Redialer {
  readonly path: string;
  #state: ConnectionState = "idle";
  #engine: ClientEngine | undefined;
  readonly #connectOptions: ConnectOptions;
  readonly #initial: number;
  readonly #max: number;
  readonly #queue: number;
  readonly #queueBytes: number;
  readonly #onStateChange: RedialOptions["onStateChange"];
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Calls waiting for a connection, in arrival order. */
  #waiters = new Set<Waiter>();
  #queued = 0;
  #queuedBytes = 0;
  #resolveClosed!: (value: undefined) => void;
  /** Settles (with undefined) once `close()` was called. */
  readonly closed: Promise<undefined>;
  /** True when calls go through interceptors. */
  readonly hasInterceptors: boolean;

  /** Throws for a nonsensical option or a socket path the kernel would truncate. */
  constructor(path: string, options: RedialOptions = {}) {
    checkSocketPath("redial", path);
    checkOptions("redial", options, {
      initialBackoffMs: "ms",
      maxBackoffMs: "ms",
      queueBytes: "count",
    });
    const queue = options.queue ?? 0;
    if (!(Number.isInteger(queue) && queue >= 0) && queue !== Number.POSITIVE_INFINITY) {
      throw new RangeError(`redial: queue must be an integer >= 0, got ${queue}`);
    }
    if (options.onStateChange !== undefined && typeof options.onStateChange !== "function") {
      throw new TypeError("redial: onStateChange must be a function");
    }
    this.path = path;
    const connectOptions: Record<string, unknown> = { ...options };
    for (const key of REDIAL_KEYS) delete connectOptions[key];
    this.#connectOptions = connectOptions as ConnectOptions;
    // Checked here, at redial(), not at the first dial.
    checkOptions("redial", connectOptions, SHARED_OPTIONS);
    this.#initial = options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    this.#max = Math.max(this.#initial, options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS);
    this.#queue = queue;
    this.#queueBytes = options.queueBytes ?? DEFAULT_REDIAL_QUEUE_BYTES;
    this.#onStateChange = options.onStateChange;
    this.hasInterceptors = (options.interceptors?.length ?? 0) > 0;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Calls in flight on the current connection, and calls waiting for one. */
  get activeStreams(): number {
    return (this.#engine?.activeStreams ?? 0) + this.#waiters.size;
  }

  /**
   * The connection for a call: the current one when ready, else a promise of one (the call waits
   * for the dial under way, or in the queue) that rejects with UNAVAILABLE when the call may not
   * wait, DEADLINE_EXCEEDED or CANCELLED when its own timeout or signal ends the wait.
   */
  acquire(
    method: EngineMethod,
    input: unknown,
    options: CallOptions | undefined,
  ): ClientEngine | Promise<[ClientEngine, CallOptions | undefined]> {
    const engine = this.#engine;
    if (engine !== undefined && this.#state === "ready") return engine;
    if (this.#state === "closed") return Promise.reject(closedError());
    if (this.#state === "idle") this.#dial();
    const queued = this.#state === "disconnected";
    let bytes = 0;
    if (queued || this.#queue > 0) {
      // What a waiting call holds is its request: measured once, encoded again when it goes.
      if (!streamsRequests(method.kind)) {
        try {
          const encoded = method.input.encode(input);
          bytes =
            encoded instanceof Uint8Array
              ? encoded.length
              : encoded.reduce((n, c) => n + c.length, 0);
        } catch {
          bytes = 0; // the call itself reports the encoding error once it goes
        }
      }
    }
    if (queued && !this.#admit(bytes)) return Promise.reject(this.#refusal());
    return this.#wait(bytes, queued, options);
  }

  /** Room in the queue for one more call of `bytes`. */
  #admit(bytes: number): boolean {
    return this.#queued < this.#queue && this.#queuedBytes + bytes <= this.#queueBytes;
  }

  #refusal(): TtrpcError {
    const why = this.#queue === 0 ? "" : " (the queue of calls waiting for it is full)";
    return new TtrpcError(`ttrpc: not connected to ${this.path}${why}`, Code.Unavailable, {
      cause: this.#lastError,
    });
  }

  #lastError: TtrpcError | undefined;

  #wait(
    bytes: number,
    queued: boolean,
    options: CallOptions | undefined,
  ): Promise<[ClientEngine, CallOptions | undefined]> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) {
        reject(canceledError(signal));
        return;
      }
      let deadline: Deadline | undefined;
      const done = () => {
        deadline?.cancel();
        signal?.removeEventListener("abort", onAbort);
        if (!this.#waiters.delete(waiter)) return; // settled already
        if (waiter.queued) {
          this.#queued--;
          this.#queuedBytes -= waiter.bytes;
        }
      };
      const waiter: Waiter = {
        bytes,
        queued,
        resolve: (engine) => {
          done();
          resolve([engine, remaining(options, performance.now() - started)]);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(canceledError(signal as AbortSignal));
      signal?.addEventListener("abort", onAbort, { once: true });
      const timeoutMs = options?.timeoutMs;
      if (timeoutMs !== undefined && timeoutMs < Number.POSITIVE_INFINITY) {
        // The core's deadline, not a bare timer: a timeout past 2^31 − 1 ms (days) must re-arm,
        // where setTimeout would fire at once and fail the call with DEADLINE_EXCEEDED.
        deadline = new Deadline(timeoutMs, {
          deadlineExpired: () => waiter.reject(deadlineError()),
        });
      }
      if (queued) {
        this.#queued++;
        this.#queuedBytes += bytes;
      }
      this.#waiters.add(waiter);
      // A timer that waits for a redial keeps the process alive only while calls wait for it.
      this.#timer?.ref();
    });
  }

  #setState(state: ConnectionState, error?: TtrpcError): void {
    if (this.#state === state) return;
    this.#state = state;
    if (error !== undefined) this.#lastError = error;
    const listener = this.#onStateChange;
    if (listener === undefined) return;
    try {
      listener(state, error);
    } catch (thrown) {
      process.emitWarning(`ttrpc: onStateChange threw: ${(thrown as Error)?.message ?? thrown}`, {
        code: "TTRPC_ONSTATECHANGE_THREW",
      });
    }
  }

  #dial(): void {
    this.#timer = undefined;
    this.#setState("connecting");
    dialSocket(this.path).then(
      (socket) => {
        if (this.#state === "closed") {
          socket.destroy();
          return;
        }
        let engine: ClientEngine;
        try {
          engine = new ClientEngine(socket, this.#connectOptions);
        } catch (error) {
          socket.destroy();
          this.#failed(TtrpcError.from(error, Code.InvalidArgument));
          return;
        }
        this.#engine = engine;
        this.#failures = 0;
        void engine.closed.then((error) => this.#lost(engine, error));
        this.#setState("ready");
        for (const waiter of [...this.#waiters]) waiter.resolve(engine);
      },
      (error: unknown) => this.#failed(TtrpcError.from(error, Code.Unavailable)),
    );
  }

  /** A dial failed: calls that may not wait fail with its error; the next dial waits its turn. */
  #failed(error: TtrpcError): void {
    if (this.#state === "closed") return;
    this.#setState("disconnected", error);
    for (const waiter of [...this.#waiters]) {
      if (waiter.queued) continue;
      if (this.#admit(waiter.bytes)) {
        waiter.queued = true;
        this.#queued++;
        this.#queuedBytes += waiter.bytes;
      } else waiter.reject(this.#queue === 0 ? error : this.#refusal());
    }
    this.#schedule();
  }

  /** The connection ended: unless closed on purpose, redial after the backoff. */
  #lost(engine: ClientEngine, error: TtrpcError | undefined): void {
    if (this.#engine !== engine) return;
    this.#engine = undefined;
    if (this.#state === "closed") return;
    this.#setState("disconnected", error ?? closedError());
    this.#schedule();
  }

  /** Capped exponential backoff with jitter (half to all of the step), so peers do not dial in step. */
  #schedule(): void {
    const step = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    const delay = step / 2 + (Math.random() * step) / 2;
    // Clamped like every option-driven timer: a longer delay would fire at once, a dial storm.
    this.#timer = setTimeout(() => this.#dial(), timerMs(delay));
    if (this.#waiters.size === 0) this.#timer.unref();
  }

  /** Stops for good: no more dials; the connection closes, waiting calls fail with UNAVAILABLE. */
  close(): Promise<void> {
    if (this.#state !== "closed") {
      this.#setState("closed");
      clearTimeout(this.#timer);
      this.#timer = undefined;
      const engine = this.#engine;
      this.#engine = undefined;
      for (const waiter of [...this.#waiters]) waiter.reject(closedError());
      engine?.channel.close();
      this.#resolveClosed(undefined);
    }
    return this.closed.then(() => {});
  }
}
