// The published declarations (issue 9): the core is packed with `npm pack` (its prepack builds
// it, in a copy so the dist/ other tests import stays put), installed from the tarball into a
// scratch project without @bufbuild/protobuf, and a user's program is type-checked with strict,
// skipLibCheck: false and module nodenext. The program uses the documented API and, through
// `@ts-expect-error`, proves the internals are out of the types: a member that came back would make
// its `@ts-expect-error` unused, which is an error.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const tsc = join(root, "node_modules", ".bin", "tsc");

function run(cmd: string, args: string[], cwd: string): { status: number; output: string } {
  try {
    const output = execFileSync(cmd, args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 180_000,
      // The scratch project must not see this repository's export condition or tsx loader.
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    return { status: 0, output };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string; message: string };
    return {
      status: err.status ?? 1,
      output: `${err.stdout ?? ""}${err.stderr ?? ""}${err.message}`,
    };
  }
}

const consumer = `
import {
  type Client,
  Code,
  type Connection,
  connect,
  createClient,
  createServer,
  createWritableIterable,
  defineService,
  type HandlerContext,
  type Interceptor,
  type MessageCodec,
  Metadata,
  type Server,
  TtrpcError,
} from "ttrpc";
import { Flag, HEADER_LENGTH, MessageType } from "ttrpc/wire";

const text: MessageCodec<string> = {
  encode: (s) => new TextEncoder().encode(s),
  decode: (b) => new TextDecoder().decode(b),
};
export const Greeter = defineService({
  typeName: "demo.v1.Greeter",
  methods: {
    hello: { name: "Hello", kind: "unary", input: text, output: text },
    chat: { name: "Chat", kind: "bidi_streaming", input: text, output: text },
  },
});

export function serve(server: Server): Server {
  // @ts-expect-error the registry is private
  server.lookup;
  // @ts-expect-error the closing reason is private
  server.closing;
  // @ts-expect-error connections are private
  server.forget;
  // @ts-expect-error settings are private
  server.maxMessageBytes;
  return server.register(Greeter, {
    hello(name: string, ctx: HandlerContext): string {
      // @ts-expect-error the context is not the call
      ctx.fail;
      // @ts-expect-error the context does not reach the connection
      ctx.conn;
      if (name === "") throw new TtrpcError("no name", Code.InvalidArgument);
      return \`hello \${name} \${ctx.metadata.get("k") ?? ""} \${ctx.method.path} \${ctx.timeoutMs() ?? 0}\`;
    },
    async *chat(names: AsyncIterable<string>, ctx: HandlerContext) {
      for await (const n of names) if (!ctx.signal.aborted) yield n;
    },
  });
}

export const logger: Interceptor = (next) => async (req) => {
  // @ts-expect-error the engine's request prefix is not part of MethodInfo
  req.method.prefix;
  return next(req);
};

export async function call(conn: Connection): Promise<string[]> {
  // @ts-expect-error the multiplexer is private
  conn.frame;
  // @ts-expect-error
  conn.send;
  // @ts-expect-error
  conn.release;
  // @ts-expect-error
  conn.unary;
  // @ts-expect-error
  conn.invoke;
  // @ts-expect-error
  conn.limits;
  const client: Client<typeof Greeter> = createClient(Greeter, conn);
  const one: string = await client.hello("x", { timeoutMs: 1000, metadata: new Metadata({ k: "v" }) });
  const requests = createWritableIterable<string>();
  requests.write("a");
  requests.close();
  const out = [one];
  for await (const s of client.chat(requests)) out.push(s);
  return out;
}

export const frameConstants: number = Flag.RemoteClosed + MessageType.Data + HEADER_LENGTH;

export async function main(path: string): Promise<void> {
  const server = serve(createServer({ interceptors: [logger] }));
  await server.listen(path);
  const conn = await connect(path);
  console.log("ok", (await call(conn)).join(","), conn.isClosed, conn.activeStreams);
  await conn.close();
  await server.close();
}
`;

const runner = `
import * as core from "ttrpc";
import * as wire from "ttrpc/wire";
import { main } from "./out/consumer.js";
await main(process.argv[2]);
console.log("wire", wire.Flag.RemoteClosed, wire.HEADER_LENGTH, "Flag" in core, "MessageType" in core);
`;

describe("the core's published declarations", { timeout: 400_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-decl-"));
  const project = join(dir, "app");
  let installed = "";
  let compiled = { status: 1, output: "" };
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(
    () => {
      // Pack from a copy: the root tsconfig the package's build extends, and the root node_modules.
      const work = join(dir, "work");
      mkdirSync(join(work, "packages"), { recursive: true });
      cpSync(join(root, "tsconfig.json"), join(work, "tsconfig.json"));
      symlinkSync(join(root, "node_modules"), join(work, "node_modules"));
      cpSync(join(root, "packages", "ttrpc"), join(work, "packages", "ttrpc"), {
        recursive: true,
        filter: (src) => !/[/\\](node_modules|dist)$/.test(src),
      });
      const packed = run(
        "npm",
        ["pack", "--json", "--pack-destination", dir],
        join(work, "packages", "ttrpc"),
      );
      assert.equal(packed.status, 0, packed.output);
      const [info] = JSON.parse(packed.output.slice(packed.output.indexOf("["))) as {
        filename: string;
      }[];
      assert.ok(info);
      mkdirSync(join(project, "src"), { recursive: true });
      writeFileSync(
        join(project, "package.json"),
        JSON.stringify({ name: "app", private: true, type: "module" }),
      );
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            lib: ["ES2023"],
            module: "nodenext",
            moduleResolution: "nodenext",
            types: ["node"],
            strict: true,
            skipLibCheck: false,
            rootDir: "src",
            outDir: "out",
          },
          include: ["src"],
        }),
      );
      writeFileSync(join(project, "src", "consumer.ts"), consumer);
      writeFileSync(join(project, "run.mjs"), runner);
      const typesNode = JSON.parse(
        readFileSync(join(root, "node_modules", "@types", "node", "package.json"), "utf8"),
      ).version;
      const install = run(
        "npm",
        [
          "install",
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
          "--loglevel=error",
          join(dir, info.filename),
          `@types/node@${typesNode}`,
        ],
        project,
      );
      assert.equal(install.status, 0, install.output);
      installed = join(project, "node_modules", "ttrpc", "dist");
      compiled = run(process.execPath, [tsc, "-p", "."], project);
    },
    { timeout: 360_000 },
  );

  it("installs without @bufbuild/protobuf (an optional peer)", () => {
    assert.throws(() => readdirSync(join(project, "node_modules", "@bufbuild")));
  });

  it("a strict user's program type-checks (skipLibCheck: false, module nodenext), internals out of reach", () => {
    assert.equal(compiled.status, 0, compiled.output);
  });

  it("no emitted declaration has an @internal member or imports @bufbuild/protobuf", () => {
    const files = readdirSync(installed).filter((f) => f.endsWith(".d.ts"));
    assert.ok(files.includes("index.d.ts") && files.includes("wire.d.ts"), files.join(" "));
    for (const f of files) {
      const text = readFileSync(join(installed, f), "utf8");
      assert.ok(!text.includes("@internal"), `${f} has an @internal member`);
      assert.ok(
        !/(from|import\()\s*"@bufbuild\/protobuf"/.test(text),
        `${f} imports @bufbuild/protobuf`,
      );
    }
  });

  it("runs: calls and a stream; ttrpc/wire has the frame constants, the main entry does not", () => {
    const socket = join(dir, "s.sock");
    const r = run(process.execPath, ["run.mjs", socket], project);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /^ok hello x v \/demo\.v1\.Greeter\/Hello \d+(\.\d+)?,a false 0$/m);
    assert.match(r.output, /^wire 1 10 false false$/m);
  });
});
