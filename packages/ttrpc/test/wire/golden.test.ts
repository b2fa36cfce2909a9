/**
 * Golden byte vectors (ttrpc-reference.md §1.2, containerd-peers.md): first the test helper's
 * own encoder is checked against them, then the engine's client and server must produce and
 * accept exactly those bytes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  connect,
  createClient,
  createServer,
  defineService,
  type HandlerContext,
} from "../../src/index.js";
import {
  bytesCodec,
  frame,
  frameBytes,
  header,
  hex,
  pbRequest,
  pbResponse,
  pbStatus,
  RawServer,
  REQUEST,
  RESPONSE,
  rawClient,
  tmpDir,
  varint,
} from "./helpers.js";

const ascii = (s: string) => Buffer.from(s, "ascii").toString("hex");

// ttrpc-rust src/proto.rs: a 67-byte Request.
const RUST_REQUEST_HEX =
  "0a11" +
  ascii("grpc.TestServices") +
  "1204" +
  ascii("Test") +
  "1a09010203040506070809" +
  "2080dac409" +
  "2a180a09" +
  ascii("test_key1") +
  "120b" +
  ascii("test_value1");

// Unary request for ttrpc.example.v1.Example/Method1, payload Method1Request{foo:"a"}, 1 s, foo=bar.
const METHOD1_FRAME_HEX =
  "0000003a0000000101000a18" +
  ascii("ttrpc.example.v1.Example") +
  "1207" +
  ascii("Method1") +
  "1a030a0161" +
  "208094ebdc03" +
  "2a0a0a03" +
  ascii("foo") +
  "1203" +
  ascii("bar");

// UNIMPLEMENTED reply on stream 3 for service "Not".
const UNIMPLEMENTED_FRAME_HEX = `000000110000000302000a0f080c120b${ascii("service Not")}`;

describe("golden vectors: the test helper's encoder", () => {
  test("reproduces ttrpc-rust's 67-byte Request and its header", () => {
    const body = pbRequest({
      service: "grpc.TestServices",
      method: "Test",
      payload: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
      timeoutNano: 20_000_000,
      metadata: [["test_key1", "test_value1"]],
    });
    assert.equal(body.length, 67);
    assert.equal(hex(body), RUST_REQUEST_HEX);
    assert.equal(hex(header(0x43, 0x123456, 0x01, 0xef)), "00000043" + "00123456" + "01" + "ef");
  });

  test("reproduces the Method1 request frame", () => {
    const f = frame(
      1,
      REQUEST,
      0,
      pbRequest({
        service: "ttrpc.example.v1.Example",
        method: "Method1",
        payload: Buffer.from("0a0161", "hex"),
        timeoutNano: 1_000_000_000,
        metadata: [["foo", "bar"]],
      }),
    );
    assert.equal(hex(f), METHOD1_FRAME_HEX);
  });

  test("reproduces the UNIMPLEMENTED reply, the -1 timeout varint and the stream close", () => {
    const f = frame(
      3,
      RESPONSE,
      0,
      pbResponse({ status: pbStatus({ code: 12, message: "service Not" }) }),
    );
    assert.equal(hex(f), UNIMPLEMENTED_FRAME_HEX);
    assert.equal(hex(varint(-1)), "ffffffffffffffffff01");
    assert.equal(hex(frame(7, 0x03, 0x05)), "00000000000000070305");
  });
});

describe("golden vectors: the engine", { timeout: 20_000 }, () => {
  test("client writes the Method1 request frame byte for byte", async (t) => {
    const raw = await RawServer.start(t);
    const Example = defineService({
      typeName: "ttrpc.example.v1.Example",
      methods: {
        method1: { name: "Method1", kind: "unary", input: bytesCodec, output: bytesCodec },
      },
    });
    const conn = await connect(raw.path);
    t.after(() => conn.close());
    const peer = await raw.accept();
    const client = createClient(Example, conn);
    const reply = client.method1(Buffer.from("0a0161", "hex"), {
      timeoutMs: 1000,
      metadata: { foo: "bar" },
    });
    const f = await peer.next();
    assert.equal(hex(frameBytes(f)), METHOD1_FRAME_HEX);
    assert.equal(peer.bytes, 10 + 0x3a, "nothing but the one frame was written");
    await peer.respond(1, { payload: Buffer.from("0a0162", "hex") });
    assert.deepEqual(await reply, Uint8Array.from([0x0a, 0x01, 0x62]));
  });

  test("server answers an unknown service with the golden UNIMPLEMENTED frame", async (t) => {
    const path = join(tmpDir(t), "s.sock");
    const server = createServer();
    await server.listen(path);
    t.after(() => server.close());
    const peer = await rawClient(t, path);
    await peer.request(3, 0, { service: "Not", method: "Anything" });
    const f = await peer.next();
    assert.equal(hex(frameBytes(f)), UNIMPLEMENTED_FRAME_HEX);
  });

  test("server decodes ttrpc-rust's 67-byte Request (flags 0xef ignored) and answers on a 4-byte stream id", async (t) => {
    const path = join(tmpDir(t), "s.sock");
    const server = createServer();
    const Rust = defineService({
      typeName: "grpc.TestServices",
      methods: { test: { name: "Test", kind: "unary", input: bytesCodec, output: bytesCodec } },
    });
    let seen: { payload: Uint8Array; md: string[]; deadline: number | undefined } | undefined;
    server.register(Rust, {
      test(req: Uint8Array, ctx: HandlerContext) {
        seen = { payload: req, md: ctx.metadata.getAll("test_key1"), deadline: ctx.deadline };
        return Buffer.from("ok");
      },
    });
    await server.listen(path);
    t.after(() => server.close());
    const peer = await rawClient(t, path);
    const id = 0x00123457; // odd, every byte but the first non-zero
    await peer.write(header(0x43, id, REQUEST, 0xef), Buffer.from(RUST_REQUEST_HEX, "hex"));
    const f = await peer.next();
    assert.equal(hex(frameBytes(f).subarray(0, 10)), "00000004" + "00123457" + "02" + "00");
    assert.equal(hex(f.data), `1202${ascii("ok")}`);
    assert.ok(seen);
    assert.deepEqual(seen.payload, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert.deepEqual(seen.md, ["test_value1"]);
    assert.notEqual(seen.deadline, undefined, "timeout_nano 20 ms gives the handler a deadline");
  });
});
