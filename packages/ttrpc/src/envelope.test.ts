import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeRequest,
  decodeResponse,
  encodeDataFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  encodeStatus,
  MalformedError,
  requestLength,
  requestPrefix,
  responseLength,
} from "./envelope.js";
import { Metadata } from "./metadata.js";

const hex = (...parts: (string | Buffer)[]) =>
  Buffer.concat(
    parts.map((p) => (typeof p === "string" ? Buffer.from(p.replace(/\s/g, ""), "hex") : p)),
  );
const ascii = (s: string) => Buffer.from(s, "latin1");
/** A frame's chunks as one array (an encoder returns a lone buffer when there is one chunk). */
const list = (frame: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] =>
  frame instanceof Uint8Array ? [frame] : frame;
const joined = (frame: Uint8Array | readonly Uint8Array[]) =>
  Buffer.concat(list(frame)).toString("hex");

function requestFrame(
  id: number,
  flags: number,
  service: string,
  method: string,
  payload: Uint8Array | undefined,
  timeoutNano: number,
  metadata?: Metadata,
): string {
  const prefix = requestPrefix(service, method);
  const length = requestLength(prefix, payload, timeoutNano, metadata);
  return joined(encodeRequestFrame(id, flags, length, prefix, payload, timeoutNano, metadata));
}

describe("Request envelope", () => {
  // ttrpc-rust src/proto.rs: a 67-byte Request.
  const rustBody = hex(
    "0a11",
    ascii("grpc.TestServices"),
    "1204",
    ascii("Test"),
    "1a09 010203040506070809",
    "20 80dac409",
    "2a18 0a09",
    ascii("test_key1"),
    "120b",
    ascii("test_value1"),
  );

  it("matches ttrpc-rust's golden Request", () => {
    assert.equal(rustBody.length, 67);
    const md = new Metadata({ test_key1: "test_value1" });
    const frame = requestFrame(
      0x123456,
      0,
      "grpc.TestServices",
      "Test",
      hex("010203040506070809"),
      20_000_000,
      md,
    );
    assert.equal(frame, hex("00000043 00123456 01 00", rustBody).toString("hex"));
  });

  it("decodes ttrpc-rust's golden Request", () => {
    const req = decodeRequest(rustBody);
    assert.equal(req.service, "grpc.TestServices");
    assert.equal(req.method, "Test");
    assert.equal(req.payload?.toString("hex"), "010203040506070809");
    assert.equal(req.timeoutNano, 20_000_000);
    assert.deepEqual(req.metadata, [["test_key1", "test_value1"]]);
  });

  it("matches the unary Method1 vector (1 s timeout, foo=bar)", () => {
    const service = "ttrpc.example.v1.Example";
    const frame = requestFrame(
      1,
      0,
      service,
      "Method1",
      hex("0a0161"),
      1e9,
      new Metadata({ foo: "bar" }),
    );
    const expected = hex(
      "0000003a 00000001 01 00",
      "0a18",
      ascii(service),
      "1207",
      ascii("Method1"),
      "1a03 0a0161",
      "20 8094ebdc03",
      "2a0a 0a03",
      ascii("foo"),
      "1203",
      ascii("bar"),
    );
    assert.equal(frame, expected.toString("hex"));
  });

  it("matches the Forward request containerd accepted (timeout 5 s, namespace metadata)", () => {
    const md = new Metadata({ "containerd-namespace-ttrpc": "test" });
    const frame = requestFrame(
      1,
      0,
      "containerd.services.events.ttrpc.v1.Events",
      "Forward",
      undefined,
      5e9,
      md,
    );
    // Captured: 20 80e497d012 then 2a22 0a1a "containerd-namespace-ttrpc" 1204 "test".
    assert.ok(
      frame.endsWith(
        hex(
          "20 80e497d012 2a22 0a1a",
          ascii("containerd-namespace-ttrpc"),
          "1204",
          ascii("test"),
        ).toString("hex"),
      ),
    );
  });

  it("writes one KeyValue per value, keys lower-cased, in order", () => {
    const md = new Metadata([
      ["Multi", "a"],
      ["multi", "b"],
      ["Other", ["x"]],
    ]);
    const req = decodeRequest(hex(requestFrame(1, 0, "s", "m", undefined, 0, md)).subarray(10));
    assert.deepEqual(req.metadata, [
      ["multi", "a"],
      ["multi", "b"],
      ["other", "x"],
    ]);
  });

  it("leaves out an empty payload and a zero timeout, as Go does", () => {
    const frame = requestFrame(3, 2, "a.B", "C", new Uint8Array(0), 0);
    assert.equal(
      frame,
      hex("00000008 00000003 01 02 0a03", ascii("a.B"), "1201", ascii("C")).toString("hex"),
    );
    assert.equal(decodeRequest(hex(frame).subarray(10)).payload, undefined);
  });

  it("encodes a negative timeout as a 10-byte varint and decodes it", () => {
    const frame = hex(requestFrame(1, 0, "s", "m", undefined, -1));
    assert.ok(frame.toString("hex").endsWith("20ffffffffffffffffff01"));
    assert.equal(decodeRequest(frame.subarray(10)).timeoutNano, -1);
  });

  it("decodes Go's zero time (a negative 10-byte varint) exactly", () => {
    const req = decodeRequest(hex("20 8092b8c398feffffff01"));
    assert.equal(req.timeoutNano, -62135596800);
  });

  it("does not copy a large payload: it is its own chunk", () => {
    const payload = new Uint8Array(64 * 1024).fill(7);
    const prefix = requestPrefix("s", "m");
    const md = new Metadata({ k: "v" });
    const chunks = encodeRequestFrame(
      1,
      0,
      requestLength(prefix, payload, 5, md),
      prefix,
      payload,
      5,
      md,
    );
    assert.equal(list(chunks).length, 3);
    assert.equal(list(chunks)[1], payload);
    const req = decodeRequest(Buffer.concat(list(chunks)).subarray(10));
    assert.equal(req.payload?.length, payload.length);
    assert.equal(req.timeoutNano, 5);
    assert.deepEqual(req.metadata, [["k", "v"]]);
  });

  it("skips unknown fields and rejects malformed bytes", () => {
    const req = decodeRequest(hex("0a01", ascii("s"), "3801", "4a02 ffff", "1201", ascii("m")));
    assert.equal(req.service, "s");
    assert.equal(req.method, "m");
    assert.throws(() => decodeRequest(hex("0a05 6162")), MalformedError);
    assert.throws(() => decodeRequest(hex("0f")), MalformedError);
    assert.throws(() => decodeRequest(hex("20ff")), MalformedError);
  });
});

describe("Response envelope", () => {
  it("encodes OK as no status at all: an empty payload is a 10-byte frame", () => {
    assert.equal(joined(encodeResponseFrame(1, 0, undefined, undefined)), "00000000000000010200");
    const r = decodeResponse(Buffer.alloc(0));
    assert.equal(r.status, undefined);
    assert.equal(r.payload.length, 0);
  });

  it("matches the UNIMPLEMENTED reply vector", () => {
    const status = encodeStatus(12, "service Not", []);
    const frame = joined(
      encodeResponseFrame(3, responseLength(status, undefined), status, undefined),
    );
    assert.equal(
      frame,
      hex("00000011 00000003 02 00 0a0f 080c 120b", ascii("service Not")).toString("hex"),
    );
  });

  it("decodes the shim's NotFound reply", () => {
    const body = hex("0a24 0805 1220", ascii("container not created: not found"));
    const r = decodeResponse(body);
    assert.deepEqual(r.status, {
      code: 5,
      message: "container not created: not found",
      details: [],
    });
  });

  it("accepts Rust's explicit OK status", () => {
    const r = decodeResponse(hex("0a00 1201 2a"));
    assert.equal(r.status?.code, 0);
    assert.equal(r.payload.toString("hex"), "2a");
  });

  it("round-trips a status with details", () => {
    const details = [
      { typeUrl: "type.googleapis.com/google.protobuf.StringValue", value: hex("0a026869") },
      { typeUrl: "x/y", value: new Uint8Array(0) },
    ];
    const status = encodeStatus(9, "precondition ✗", details);
    const payload = hex("0102");
    const r = decodeResponse(
      Buffer.concat(
        list(encodeResponseFrame(1, responseLength(status, payload), status, payload)),
      ).subarray(10),
    );
    assert.equal(r.status?.code, 9);
    assert.equal(r.status?.message, "precondition ✗");
    assert.deepEqual(
      r.status?.details.map((d) => [d.typeUrl, Buffer.from(d.value).toString("hex")]),
      [
        ["type.googleapis.com/google.protobuf.StringValue", "0a026869"],
        ["x/y", ""],
      ],
    );
    assert.equal(r.payload.toString("hex"), "0102");
  });
});

describe("Data frames", () => {
  it("a stream close is an empty Data frame with remote-closed and no-data", () => {
    assert.equal(joined(encodeDataFrame(0x0b, 5, undefined)), "000000000000000b0305");
  });

  it("an empty message is a zero-length Data frame without no-data", () => {
    assert.equal(joined(encodeDataFrame(1, 0, new Uint8Array(0))), "00000000000000010300");
  });

  it("carries the raw message, and a large one without copying", () => {
    assert.equal(joined(encodeDataFrame(1, 0, hex("0801"))), "000000020000000103000801");
    const big = new Uint8Array(20_000);
    const chunks = encodeDataFrame(1, 0, big);
    assert.equal(list(chunks).length, 2);
    assert.equal(list(chunks)[1], big);
  });
});

describe("validation, as protobuf-go does it", () => {
  it("rejects invalid UTF-8 in strings but keeps a real U+FFFD", () => {
    assert.throws(() => decodeRequest(hex("0a02 ff41")), /invalid UTF-8/);
    assert.throws(() => decodeRequest(hex("2a04 1202 c328")), /invalid UTF-8/);
    assert.equal(decodeRequest(hex("0a03 efbfbd")).service, "\ufffd");
  });

  it("rejects field number 0", () => {
    assert.throws(() => decodeRequest(hex("0001")), /field number 0/);
  });
});
