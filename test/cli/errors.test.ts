// Bad input to `ttrpc`: each case is one clear line on stderr, a non-zero exit and no stack trace.
// Unknown names and JSON errors need no peer; "not a ttrpc socket" uses small fake servers in this
// process; "the peer dies mid-stream" kills the Go ttrpc peer under a running bidi call.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, test } from "node:test";
import { interopSuite, socketPath, startGoServer, tempDir } from "../interop/peer.js";
import { INTEROP, oneLine, PATH_WITH_PROTOC, REPO, spawnCli, statusOf, ttrpc } from "./helpers.js";

const T = { timeout: 60_000 };
const env = { PATH: PATH_WITH_PROTOC };
const S = "ttrpc.interop.v1.Streaming";

describe("ttrpc: bad input is one line and a non-zero exit", () => {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-cli-err-"));
  const nowhere = join(dir, "nothing.sock");
  after(() => rmSync(dir, { recursive: true, force: true }));
  const call = (args: string[], input?: string) =>
    ttrpc(["call", nowhere, ...args], { env, ...(input === undefined ? {} : { input }) });

  test("unknown method and service: exit 3, with the closest names", T, async () => {
    const m = await call([`${S}/Ecko`, ...INTEROP]);
    assert.equal(m.code, 3);
    assert.match(oneLine(m), /ttrpc\.interop\.v1\.Streaming has no method Ecko; did you mean Echo/);
    const s = await call(["containerd.task.v2.Tusk/State"]);
    assert.equal(s.code, 3);
    assert.match(
      oneLine(s),
      /unknown service containerd\.task\.v2\.Tusk; did you mean containerd\.task\.v2\.Task/,
    );
    const shape = await call(["State"]);
    assert.equal(shape.code, 3);
    assert.match(oneLine(shape), /is not SERVICE\/METHOD/);
  });

  test("invalid JSON: exit 3, where it is (-d, a stream line)", T, async () => {
    const d = await call(["containerd.task.v2.Task/State", "-d", '{"id":']);
    assert.equal(d.code, 3);
    assert.match(oneLine(d), /^ttrpc call: -d: invalid JSON: /);
    const line = await call([`${S}/SumStream`, ...INTEROP], '{"add":1}\n{oops}\n');
    // The stream opens first (nothing is listening here, so that fails first); with a peer the
    // bad line is reported: see the Go peer suite below.
    assert.equal(line.code, 14);
    assert.match(oneLine(line), /cannot connect to .*: no such socket/);
  });

  test(
    "JSON that does not fit the message: the field, suggestions, the fields it has",
    T,
    async () => {
      const r = await call(["containerd.task.v2.Task/Kill", "-d", '{"id":"c","signl":9}']);
      assert.equal(r.code, 3);
      assert.match(
        oneLine(r),
        /containerd\.task\.v2\.KillRequest has no field "signl"; did you mean "signal"\? \(fields: id, execId, signal, all\)/,
      );
      const snake = await call(["containerd.task.v2.Task/Kill", "-d", '{"exec_idd":"x"}']);
      assert.match(oneLine(snake), /did you mean "exec_id" or "execId"/);
      const type = await call(["containerd.task.v2.Task/Kill", "-d", '{"signal":"nine"}']);
      assert.equal(type.code, 3);
      assert.match(oneLine(type), /KillRequest.*signal/);
      const notObject = await call(["containerd.task.v2.Task/Kill", "-d", "[1]"]);
      assert.match(oneLine(notObject), /must be a JSON object, not an array/);
    },
  );

  test("usage errors exit 64: missing arguments, unknown flags, unknown verbs", T, async () => {
    for (const argv of [["call", nowhere], ["call", "--nope", "a", "b"], ["frobnicate"], ["tap"]]) {
      const r = await ttrpc(argv);
      assert.equal(r.code, 64, `${argv.join(" ")}: ${r.stderr}`);
      oneLine(r);
    }
  });

  test("schemas that cannot be read: exit 3", T, async () => {
    const bad = join(dir, "bad.binpb");
    writeFileSync(bad, "this is not a descriptor set");
    const r = await ttrpc(["list", "--protoset", bad]);
    assert.equal(r.code, 3);
    assert.match(oneLine(r), /is not a binary FileDescriptorSet/);
    const missing = await ttrpc(["list", "--proto", "nope.proto", "-I", dir]);
    assert.equal(missing.code, 3);
    assert.match(oneLine(missing), /nope\.proto: not found in the import paths/);
  });

  test("no socket, or nobody listening: exit 14 (UNAVAILABLE)", T, async () => {
    const r = await call(["containerd.task.v2.Task/State"]);
    assert.equal(r.code, 14);
    assert.match(oneLine(r), /cannot connect to .*nothing\.sock: no such socket/);
  });

  /** A unix server that greets every client with `greeting` (then keeps or closes the socket). */
  async function fakeServer(
    name: string,
    greeting: Buffer,
    close: boolean,
  ): Promise<{ path: string; server: Server }> {
    const path = join(dir, name);
    const server = createServer((s) => {
      s.on("error", () => {});
      s.write(greeting);
      if (close) s.end();
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { path, server };
  }

  test(
    "a socket that is not ttrpc: HTTP/2 (a gRPC socket), HTTP/1, a server that hangs up",
    T,
    async (t) => {
      const h2 = await fakeServer(
        "grpc.sock",
        Buffer.from("000006040000000000000300000064", "hex"),
        false,
      );
      const h1 = await fakeServer(
        "http.sock",
        Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n"),
        true,
      );
      const bye = await fakeServer("bye.sock", Buffer.alloc(0), true);
      t.after(() => {
        for (const s of [h2, h1, bye]) s.server.close();
      });
      const a = await ttrpc(["call", h2.path, "containerd.task.v2.Task/State", "--timeout", "10s"]);
      assert.equal(a.code, 14);
      assert.match(oneLine(a), /is not a ttrpc server: it speaks HTTP\/2 \(a gRPC socket\?/);
      const b = await ttrpc(["call", h1.path, "containerd.task.v2.Task/State", "--timeout", "10s"]);
      assert.equal(b.code, 14);
      assert.match(oneLine(b), /is not a ttrpc server: it answered with HTTP\/1/);
      const c = await ttrpc([
        "call",
        bye.path,
        "containerd.task.v2.Task/State",
        "--timeout",
        "10s",
      ]);
      assert.equal(c.code, 14);
      const st = statusOf(c);
      assert.equal(st.name, "UNAVAILABLE");
      assert.match(st.hint ?? "", /peer went away or is not a ttrpc server/);
    },
  );
});

interopSuite("ttrpc: bad input against the Go peer", (bin) => {
  const dir = tempDir();

  test("a bad line in a client stream: exit 3, naming the line", T, async (t) => {
    const server = await startGoServer(bin, socketPath(dir, "go"));
    t.after(() => server.kill());
    const r = await ttrpc(["call", server.socket, `${S}/SumStream`, ...INTEROP], {
      env,
      input: '{"add":1}\n{oops}\n',
    });
    assert.equal(r.code, 3);
    assert.match(oneLine(r), /^ttrpc call: stdin line 2: invalid JSON/);
  });

  test("a reply that does not fit the schema: exit 13, one line naming the type", T, async (t) => {
    const server = await startGoServer(bin, socketPath(dir, "go"));
    t.after(() => server.kill());
    const r = await ttrpc([
      "call",
      server.socket,
      "ttrpc.interop.v1.Interop/Payload",
      "--no-builtin",
      "--proto",
      "wrong.proto",
      "-I",
      join(REPO, "test/cli/proto"),
      "-d",
      '{"size":5}',
    ]);
    assert.equal(r.code, 13);
    assert.match(
      oneLine(r),
      /the reply does not decode as ttrpc\.interop\.v1\.Wrong .*does the schema match/,
    );
  });

  test("the peer dies mid-stream: exit 14, one JSON status line", T, async (t) => {
    const server = await startGoServer(bin, socketPath(dir, "go"));
    t.after(() => server.kill());
    const child = spawnCli(["call", server.socket, `${S}/EchoStream`, ...INTEROP], env);
    t.after(() => child.kill("SIGKILL"));
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[
      Symbol.asyncIterator
    ]();
    child.stdin?.write('{"seq":1}\n');
    assert.deepEqual(JSON.parse(String((await lines.next()).value)), { seq: 2 });
    await server.kill();
    const code = await new Promise((resolve) => child.once("close", resolve));
    assert.equal(code, 14);
    const out = stderr.trim().split("\n");
    assert.equal(out.length, 1, stderr);
    const st = JSON.parse(out[0] as string);
    assert.equal(st.name, "UNAVAILABLE");
    assert.match(st.hint, /went away/);
  });
});
