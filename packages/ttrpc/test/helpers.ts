// Shared test helpers: temporary socket paths, tiny codecs, a server+client pair.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import {
  type AnyService,
  type Client,
  type Connection,
  type ConnectOptions,
  connect,
  createClient,
  createServer,
  type MessageCodec,
  type Server,
  type ServerOptions,
  type ServiceImpl,
} from "../src/index.js";

const tempDirs: string[] = [];
process.once("exit", () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh socket path in its own temporary folder; the folder goes when the process exits. */
export function tempSocket(name = "t.sock"): string {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-test-"));
  tempDirs.push(dir);
  return join(dir, name);
}

/**
 * The node binary for a child that needs Node's loader flags (`--import tsx`, module hooks):
 * `process.execPath` under Node, `node` from the PATH under Bun or Deno (there execPath is bun or
 * deno, which take other flags).
 */
export function nodeBinary(): string {
  const versions = process.versions as Record<string, string | undefined>;
  const other = versions.bun !== undefined || versions.deno !== undefined || "Deno" in globalThis;
  return other ? "node" : process.execPath;
}

/** JSON messages (an empty payload decodes to null). */
export const json: MessageCodec<unknown> = {
  encode: (m) => Buffer.from(JSON.stringify(m ?? null)),
  decode: (b) => (b.length === 0 ? null : JSON.parse(Buffer.from(b).toString("utf8"))),
};

/** Raw bytes, copied on decode. */
export const bytes: MessageCodec<Uint8Array> = {
  encode: (m) => m,
  decode: (b) => new Uint8Array(b),
};

/** UTF-8 strings. */
export const text: MessageCodec<string> = {
  encode: (m) => Buffer.from(m, "utf8"),
  decode: (b) => Buffer.from(b).toString("utf8"),
};

export interface Pair<S extends AnyService> {
  server: Server;
  conn: Connection;
  client: Client<S>;
  path: string;
  close(): Promise<void>;
}

type PairOptions = { server?: ServerOptions; client?: ConnectOptions };

/**
 * A server with one service on a temporary unix socket, and a connected client. Given the test's
 * context first, both are closed when the test ends (`t.after`), whatever it asserts.
 */
export async function pair<S extends AnyService>(
  t: TestContext,
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options?: PairOptions,
): Promise<Pair<S>>;
/** The same, closed by the caller (a pair shared by a suite, closed in its `after`). */
export async function pair<S extends AnyService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options?: PairOptions,
): Promise<Pair<S>>;
export async function pair<S extends AnyService>(...args: unknown[]): Promise<Pair<S>> {
  const t = isTestContext(args[0]) ? (args.shift() as TestContext) : undefined;
  const [service, impl, options = {}] = args as [S, Partial<ServiceImpl<S>>, PairOptions?];
  const p = await openPair(service, impl, options);
  t?.after(() => p.close());
  return p;
}

function isTestContext(value: unknown): value is TestContext {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { after?: unknown }).after === "function" &&
    typeof (value as { diagnostic?: unknown }).diagnostic === "function"
  );
}

async function openPair<S extends AnyService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: PairOptions,
): Promise<Pair<S>> {
  const server = createServer(options.server);
  server.register(service, impl);
  const path = tempSocket();
  await server.listen(path);
  const conn = await connect(path, options.client);
  const client = createClient(service, conn);
  return {
    server,
    conn,
    client,
    path,
    async close() {
      await conn.close();
      await server.close();
    },
  };
}

/** Resolves after `ms` (for handlers that must stay busy; never used to order events). */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve function (Promise.withResolvers is Node 22+). */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
