// Issue 10, "messages that could say more": each error names what a user needs to act on it.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Code, connect, createClient, createServer } from "ttrpc";
import { dial, rejection, Svc, SvcPlus, serve, tempDir } from "./spec.js";

const T = { timeout: 20_000 };

describe("adoption: error messages", () => {
  test("UNIMPLEMENTED names the service and the method", {
    ...T,
  }, async (t) => {
    const { path } = await serve(t);
    const client = createClient(SvcPlus, await dial(t, path));
    const err = await rejection(client.addItems({}));
    assert.equal(err.code, Code.Unimplemented);
    assert.match(err.rawMessage, /adopt\.v1\.Svc/);
    assert.match(err.rawMessage, /AddItems/);
  });

  test("RESOURCE_EXHAUSTED says request or response, and which option raises the limit", {
    ...T,
  }, async (t) => {
    const { path } = await serve(t, { maxMessageBytes: 64 * 1024 });
    const big = "x".repeat(70_000);
    // A request over the server's limit.
    const toServer = await rejection(createClient(Svc, await dial(t, path)).size({ payload: big }));
    assert.equal(toServer.code, Code.ResourceExhausted);
    assert.match(toServer.rawMessage, /request/i);
    assert.match(toServer.rawMessage, /maxMessageBytes/);
    // A request over this client's own limit (refused before sending).
    const small = createClient(Svc, await dial(t, path, { maxMessageBytes: 1024 }));
    const own = await rejection(small.size({ payload: "y".repeat(2000) }));
    assert.match(own.rawMessage, /request/i);
    assert.match(own.rawMessage, /maxMessageBytes/);
    // A response over this client's limit.
    const reply = await rejection(small.big({ bytes: 5000 }));
    assert.match(reply.rawMessage, /response/i);
    assert.match(reply.rawMessage, /maxMessageBytes/);
  });

  test("connecting to a regular file or a directory says it is not a socket", {
    ...T,
  }, async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "file"), "not a socket");
    mkdirSync(join(dir, "folder"));
    for (const [name, kind] of [
      ["file", /file/i],
      ["folder", /director/i],
    ] as const) {
      const err = await rejection(connect(join(dir, name)));
      assert.equal(err.code, Code.Unavailable);
      assert.match(err.message, /not a socket/i);
      assert.match(err.message, kind);
    }
  });

  test("a peer that is not ttrpc: the call's error says why the connection ended", {
    ...T,
  }, async (t) => {
    const path = join(tempDir(t), "http.sock");
    const http = createNetServer((s) =>
      s.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"),
    );
    await new Promise<void>((r) => http.listen(path, r));
    t.after(() => http.close());
    const conn = await connect(path);
    t.after(() => conn.close());
    const err = await rejection(createClient(Svc, conn).hello({ name: "x" }, { timeoutMs: 5000 }));
    assert.equal(err.code, Code.Unavailable);
    assert.notEqual(err.rawMessage, "ttrpc: closed", "the reason must be in the message");
    assert.match(err.rawMessage, /frame|protocol|not a ttrpc/i);
  });

  test("a socket path over the OS limit is refused, not truncated", {
    ...T,
  }, async (t) => {
    const dir = tempDir(t);
    const long = join(dir, `${"d".repeat(140 - dir.length - 6)}.sock`);
    assert.ok(Buffer.byteLength(long) > 107);
    const server = createServer();
    t.after(() => server.close());
    await assert.rejects(server.listen(long), /too long|limit is 10[78]/i);
    await assert.rejects(connect(long), /too long|limit is 10[78]/i);
  });
});
