/**
 * Our implementation of the interop services (test/interop/proto/interop.proto, bench.proto):
 * the same behaviour as the Go peer's `serve`, plus a record of what the handlers saw, so a
 * test can assert on it after a Go client ran against our server.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext, type ServiceImpl, TtrpcError } from "ttrpc";
import { Bench } from "./gen/bench_pb.js";
import {
  EchoPayloadSchema,
  Interop,
  type MetadataList,
  MetadataListSchema,
  type SleepResponse,
  SleepResponseSchema,
  Streaming,
} from "./gen/interop_pb.js";

/** The payload pattern both peers use: byte i is i % 251. */
export function pattern(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = i % 251;
  return data;
}

/** The detail every error case carries: Any{EchoPayload{seq: code, msg: "detail"}}. */
export function detailFor(code: number): { typeUrl: string; value: Uint8Array } {
  return {
    typeUrl: "type.googleapis.com/ttrpc.interop.v1.EchoPayload",
    value: toBinary(EchoPayloadSchema, create(EchoPayloadSchema, { seq: code, msg: "detail" })),
  };
}

function metadataList(ctx: HandlerContext): MetadataList {
  const entries = [...ctx.metadata]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, values]) => ({ key, values }));
  return create(MetadataListSchema, { entries });
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

interface SleepRecord {
  started: ReturnType<typeof deferred<void>>;
  done: ReturnType<typeof deferred<SleepResponse>>;
  finished: SleepResponse | undefined;
}

/** What our handlers saw. */
export class Recorder {
  readonly #sleeps = new Map<string, SleepRecord>();
  /** Metadata seen by MetadataEcho / MetadataEchoStream, in call order. */
  readonly metadata: MetadataList[] = [];
  /** HandlerContext.timeoutMs() seen by DeadlineEcho. */
  readonly deadlines: (number | undefined)[] = [];

  sleep(tag: string): SleepRecord {
    let r = this.#sleeps.get(tag);
    if (r === undefined) {
      r = { started: deferred<void>(), done: deferred<SleepResponse>(), finished: undefined };
      this.#sleeps.set(tag, r);
    }
    return r;
  }

  /** Resolves once a Sleep with this tag is running in a handler. */
  started(tag: string): Promise<void> {
    return this.sleep(tag).started.promise;
  }

  /** Resolves with the outcome of the Sleep with this tag once its handler has finished. */
  outcome(tag: string): Promise<SleepResponse> {
    return this.sleep(tag).done.promise;
  }
}

function abortReason(ctx: HandlerContext): string {
  const reason: unknown = ctx.signal.reason;
  if (reason instanceof TtrpcError && reason.code === Code.DeadlineExceeded) return "deadline";
  return "canceled";
}

/** Registers Streaming, Interop and Bench on a server, recording into rec. */
export function implementations(rec: Recorder): {
  streaming: ServiceImpl<typeof Streaming>;
  interop: ServiceImpl<typeof Interop>;
  bench: ServiceImpl<typeof Bench>;
} {
  const streaming: ServiceImpl<typeof Streaming> = {
    echo(req) {
      return { seq: req.seq + 1, msg: req.msg };
    },
    async *echoStream(requests) {
      for await (const p of requests) yield { seq: p.seq + 1, msg: p.msg };
    },
    async sumStream(requests) {
      let sum = 0;
      let num = 0;
      for await (const part of requests) {
        sum += part.add;
        num += 1;
      }
      return { sum, num };
    },
    *divideStream(req) {
      for (let i = 0; i < req.num; i++) {
        let add = Math.trunc(req.sum / req.num);
        if (i === req.num - 1) add += req.sum % req.num;
        yield { add };
      }
    },
    async echoNull(requests) {
      for await (const _ of requests) {
        // drain
      }
      return create(EmptySchema);
    },
    async *echoNullStream(requests) {
      for await (const _ of requests) {
        for (let i = 0; i < 10; i++) yield create(EmptySchema);
      }
    },
    *emptyPayloadStream() {
      yield { seq: 1, msg: "empty" };
      yield { seq: 2, msg: "empty" };
    },
  };

  const interop: ServiceImpl<typeof Interop> = {
    metadataEcho(_req, ctx) {
      const list = metadataList(ctx);
      rec.metadata.push(list);
      return list;
    },
    *metadataEchoStream(req, ctx) {
      const list = metadataList(ctx);
      rec.metadata.push(list);
      for (let i = 0; i < req.count; i++) yield list;
    },
    deadlineEcho(_req, ctx) {
      const left = ctx.timeoutMs();
      rec.deadlines.push(left);
      if (left === undefined) return { hasDeadline: false, remainingMs: 0n };
      return { hasDeadline: true, remainingMs: BigInt(Math.trunc(left)) };
    },
    fail(req) {
      const details =
        req.detailTypeUrl === "" ? [] : [{ typeUrl: req.detailTypeUrl, value: req.detailValue }];
      throw new TtrpcError(req.message, req.code, { details });
    },
    async *failStream(requests) {
      for await (const req of requests) {
        const details =
          req.detailTypeUrl === "" ? [] : [{ typeUrl: req.detailTypeUrl, value: req.detailValue }];
        throw new TtrpcError(req.message, req.code, { details });
      }
      yield* []; // a client that sends nothing gets an empty stream
    },
    async sleep(req, ctx) {
      const r = rec.sleep(req.tag);
      r.started.resolve();
      const signal = ctx.signal;
      const cancelled = await new Promise<boolean>((resolve) => {
        if (signal.aborted) {
          resolve(true);
          return;
        }
        const timer = setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve(false);
        }, req.ms);
        const onAbort = () => {
          clearTimeout(timer);
          resolve(true);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
      const response = create(SleepResponseSchema, {
        tag: req.tag,
        cancelled,
        found: true,
        finished: true,
        reason: cancelled ? abortReason(ctx) : "",
      });
      if (r.finished === undefined) {
        r.finished = response;
        r.done.resolve(response);
      }
      if (cancelled) {
        const reason: unknown = signal.reason;
        throw reason instanceof TtrpcError
          ? reason
          : new TtrpcError("context canceled", Code.Canceled);
      }
      return response;
    },
    async sleepOutcome(req) {
      const r = rec.sleep(req.tag);
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        r.done.promise,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), req.waitMs);
        }),
      ]);
      clearTimeout(timer);
      return waited ?? create(SleepResponseSchema, { tag: req.tag });
    },
    payload(req) {
      return { data: pattern(req.size) };
    },
    size(req) {
      return { size: req.data.length };
    },
  };

  const bench: ServiceImpl<typeof Bench> = {
    unary(m) {
      return { payload: m.payload };
    },
    *serverStream(req) {
      const msg = { payload: new Uint8Array(req.size) };
      for (let i = 0; i < req.count; i++) yield msg;
    },
    async clientStream(requests) {
      for await (const _ of requests) {
        // drain
      }
      return {};
    },
    async *bidi(requests) {
      for await (const m of requests) yield { payload: m.payload };
    },
  };

  return { streaming, interop, bench };
}

export { Bench, Interop, Streaming };
