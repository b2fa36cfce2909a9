/**
 * What both sides of a call share: the client's per-call options and the handler's context.
 * @module
 */
import type { Deadline } from "./deadline.js";
import type { TtrpcError } from "./errors.js";
import { Metadata, type MetadataInit } from "./metadata.js";
import type { MethodInfo } from "./method.js";

/** Per-call options. */
export interface CallOptions {
  /** Aborting fails the call with CANCELLED. Cancellation is local: ttrpc has no cancel frame. */
  signal?: AbortSignal;
  /** Sent as `timeout_nano`; the call also fails locally with DEADLINE_EXCEEDED when it passes. */
  timeoutMs?: number;
  /** Sent with the request, on unary and streaming calls alike. */
  metadata?: MetadataInit;
}

/** What a handler receives besides its request. */
export interface HandlerContext {
  /** The fully-qualified service name. */
  readonly service: string;
  /** The method: proto name, local name, kind, `/service/Method` path, descriptor. */
  readonly method: MethodInfo;
  /** The request's metadata (keys lower-case). */
  readonly metadata: Metadata;
  /**
   * Aborts on the call's deadline (reason: DEADLINE_EXCEEDED), when the client's connection
   * closes (CANCELLED), when the server is closed (UNAVAILABLE), and once the call is over.
   */
  readonly signal: AbortSignal;
  /** The deadline as epoch milliseconds, from the request's `timeout_nano`; undefined if none. */
  readonly deadline: number | undefined;
  /** Milliseconds left until the deadline (may be negative); undefined without one. */
  timeoutMs(): number | undefined;
  /** What the server's handshaker returned for this connection. */
  readonly peer: unknown;
  /**
   * Aborts when the server begins a graceful `shutdown()` (reason: UNAVAILABLE "ttrpc: server
   * shutting down"), already aborted if it has. The call itself goes on: this is the cue for a
   * call that would otherwise never end (an endless stream, a long watch) to wind down and return
   * so that the shutdown completes. `signal` still aborts if the shutdown turns into `close()`.
   *
   * @example
   * async *watch(_req, ctx) {
   *   while (!ctx.draining.aborted) yield await nextEvent(ctx.draining);
   * }
   */
  readonly draining: AbortSignal;
}

/**
 * A server's notice of its graceful shutdown, shared by its calls: each context that reads
 * `draining` registers one controller here until its call ends, so listeners never pile up on one
 * long-lived signal.
 */
export class DrainNotice {
  /** Set once the shutdown began. */
  reason: TtrpcError | undefined;
  readonly #watchers = new Set<AbortController>();

  /** The shutdown began: every watching context's `draining` aborts with `reason`. */
  start(reason: TtrpcError): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    const watchers = [...this.#watchers];
    this.#watchers.clear();
    for (const controller of watchers) controller.abort(reason);
  }

  /** A context reads `draining`: its controller hears of the shutdown. */
  watch(controller: AbortController): void {
    if (this.reason !== undefined) controller.abort(this.reason);
    else this.#watchers.add(controller);
  }

  /** The context's call ended. */
  unwatch(controller: AbortController): void {
    this.#watchers.delete(controller);
  }
}

/** Ends a context: aborts its signal with `reason` (the first reason wins). For the server only. */
export let abortContext: (context: CallContext, reason: TtrpcError) => void;

/**
 * The handler context: a small object of its own, holding only what a handler may read. The
 * server's call machinery is elsewhere and out of reach; the server ends a context with
 * {@link abortContext}. Metadata and signal are built on first use: most handlers never read them.
 */
export class CallContext implements HandlerContext {
  readonly method: MethodInfo;
  readonly peer: unknown;
  readonly deadline: number | undefined;
  /** The deadline on the `performance.now()` clock, if any. */
  readonly #at: number | undefined;
  #pairs: readonly [string, string][];
  #metadata: Metadata | undefined;
  #controller: AbortController | undefined;
  #reason: TtrpcError | undefined;
  readonly #drain: DrainNotice | undefined;
  #draining: AbortController | undefined;

  constructor(
    method: MethodInfo,
    pairs: readonly [string, string][],
    deadline: Deadline | undefined,
    peer: unknown,
    drain?: DrainNotice,
  ) {
    this.#drain = drain;
    this.method = method;
    this.#pairs = pairs;
    this.deadline = deadline?.epochMs;
    this.#at = deadline?.at;
    this.peer = peer;
  }

  get service(): string {
    return this.method.service;
  }

  get metadata(): Metadata {
    if (this.#metadata === undefined) {
      const metadata = new Metadata();
      for (const [key, value] of this.#pairs) metadata.append(key, value);
      this.#metadata = metadata;
      this.#pairs = [];
    }
    return this.#metadata;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get draining(): AbortSignal {
    if (this.#draining === undefined) {
      const controller = new AbortController();
      this.#draining = controller;
      // A call that is over no longer hears of the shutdown (and holds no place in the notice).
      if (this.#reason === undefined) this.#drain?.watch(controller);
    }
    return this.#draining.signal;
  }

  timeoutMs(): number | undefined {
    return this.#at === undefined ? undefined : this.#at - performance.now();
  }

  static {
    abortContext = (context, reason) => {
      if (context.#reason !== undefined) return;
      context.#reason = reason;
      context.#controller?.abort(reason);
      if (context.#draining !== undefined) context.#drain?.unwatch(context.#draining);
    };
  }
}
