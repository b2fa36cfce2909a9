import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, codeToString, TtrpcError } from "./errors.js";

describe("Code", () => {
  it("has the gRPC numbering", () => {
    assert.equal(Code.Canceled, 1);
    assert.equal(Code.Unknown, 2);
    assert.equal(Code.DeadlineExceeded, 4);
    assert.equal(Code.ResourceExhausted, 8);
    assert.equal(Code.Unimplemented, 12);
    assert.equal(Code.Unavailable, 14);
    assert.equal(Code.Unauthenticated, 16);
    assert.equal(Object.keys(Code).length, 16);
  });

  it("names codes in snake case", () => {
    assert.equal(codeToString(Code.NotFound), "not_found");
    assert.equal(codeToString(Code.DeadlineExceeded), "deadline_exceeded");
    assert.equal(codeToString(99), "code_99");
  });
});

describe("TtrpcError", () => {
  it("keeps code, raw message, details and cause", () => {
    const cause = new Error("inner");
    const details = [{ typeUrl: "t/x", value: new Uint8Array([1]) }];
    const err = new TtrpcError("no such task", Code.NotFound, { details, cause });
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, "no such task");
    assert.equal(err.message, "[not_found] no such task");
    assert.deepEqual(err.details, details);
    assert.equal(err.cause, cause);
    assert.ok(err instanceof Error);
    assert.ok(err instanceof TtrpcError);
  });

  it("defaults to UNKNOWN", () => {
    assert.equal(new TtrpcError("x").code, Code.Unknown);
  });

  it("from() keeps a TtrpcError and converts anything else", () => {
    const original = new TtrpcError("x", Code.Aborted);
    assert.equal(TtrpcError.from(original), original);
    const plain = TtrpcError.from(new Error("boom"));
    assert.equal(plain.code, Code.Unknown);
    assert.equal(plain.rawMessage, "boom");
    assert.equal(TtrpcError.from("str", Code.Internal).code, Code.Internal);
    const abort = new AbortController();
    abort.abort();
    try {
      abort.signal.throwIfAborted();
    } catch (e) {
      assert.equal(TtrpcError.from(e).code, Code.Canceled);
    }
    assert.equal(
      TtrpcError.from(new DOMException("t", "TimeoutError")).code,
      Code.DeadlineExceeded,
    );
  });

  it("instanceof works across copies of the package", () => {
    const foreign = Object.assign(new Error("x"), { [Symbol.for("ttrpc.TtrpcError")]: true });
    assert.ok(foreign instanceof TtrpcError);
    assert.ok(!(new Error("x") instanceof TtrpcError));
  });
});
