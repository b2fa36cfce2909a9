/**
 * Shared pieces of test/adoption/: the specs of issue 10's src-side items, written before the
 * code and now passing (none is `todo` any more). For a spec written ahead of its code: mark it
 * `todo` with PENDING's reason (its failure is listed at the end of `npm test` and fails
 * nothing), and reach an API that does not exist yet through `proposed()`, so the workspace's
 * typecheck passes meanwhile.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import * as ttrpc from "ttrpc";

/** The todo reason of a spec: which src change makes it pass. */
export function PENDING(change: string): string {
  return `issue 10, pending src change (after the issue 9 refactor): ${change}`;
}

/** The library, for APIs proposed by these specs (typed here, not in src). */
export function proposed<T>(name: string): T {
  const value = (ttrpc as Record<string, unknown>)[name];
  if (value === undefined) throw new Error(`ttrpc exports no ${name} yet`);
  return value as T;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A JSON codec typed as T. */
export function json<T>(): ttrpc.MessageCodec<T> {
  return {
    encode: (m) => encoder.encode(JSON.stringify(m)),
    decode: (b) => JSON.parse(decoder.decode(b)) as T,
  };
}

/** The service the specs call: adopt.v1.Svc. */
export const Svc = ttrpc.defineService({
  typeName: "adopt.v1.Svc",
  methods: {
    hello: {
      name: "Hello",
      kind: "unary",
      input: json<{ name: string }>(),
      output: json<{ text: string }>(),
    },
    count: {
      name: "Count",
      kind: "server_streaming",
      input: json<{ to: number }>(),
      output: json<{ n: number }>(),
    },
    size: {
      name: "Size",
      kind: "unary",
      input: json<{ payload: string }>(),
      output: json<{ payload: string }>(),
    },
    big: {
      name: "Big",
      kind: "unary",
      input: json<{ bytes: number }>(),
      output: json<{ payload: string }>(),
    },
  },
});

/** The same service as a client may know it: one method more than the server implements. */
export const SvcPlus = ttrpc.defineService({
  typeName: "adopt.v1.Svc",
  methods: {
    ...Svc.methods,
    addItems: { name: "AddItems", kind: "unary", input: json<object>(), output: json<object>() },
  },
});

/** A temp folder removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-adopt-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A server for Svc on a temp socket, closed when the test ends. */
export async function serve(
  t: TestContext,
  options: ttrpc.ServerOptions = {},
  calls: { count: number } = { count: 0 },
): Promise<{ server: ttrpc.Server; path: string }> {
  const path = join(tempDir(t), "s.sock");
  const server = ttrpc.createServer(options).register(Svc, {
    hello: (req) => ({ text: `hello, ${req.name}` }),
    async *count(req) {
      calls.count++;
      for (let n = 1; n <= req.to; n++) yield { n };
    },
    size: (req) => ({ payload: req.payload }),
    big: (req) => ({ payload: "x".repeat(req.bytes) }),
  });
  await server.listen(path);
  t.after(() => server.close());
  return { server, path };
}

/** A client connection closed when the test ends. */
export async function dial(
  t: TestContext,
  path: string,
  options?: ttrpc.ConnectOptions,
): Promise<ttrpc.Connection> {
  const conn = await ttrpc.connect(path, options);
  t.after(() => conn.close());
  return conn;
}

/** The rejection of a promise that must reject. */
export async function rejection(promise: Promise<unknown>): Promise<ttrpc.TtrpcError> {
  try {
    await promise;
  } catch (e) {
    return ttrpc.TtrpcError.from(e);
  }
  throw new Error("expected a rejection");
}
