import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metadata, toMetadata } from "./metadata.js";

describe("Metadata (Go's MD semantics)", () => {
  it("gets the first value and all values, case-insensitively", () => {
    const md = new Metadata({ Foo: ["a", "b"] });
    assert.equal(md.get("foo"), "a");
    assert.equal(md.get("FOO"), "a");
    assert.deepEqual(md.getAll("Foo"), ["a", "b"]);
    assert.equal(md.get("missing"), undefined);
    assert.deepEqual(md.getAll("missing"), []);
  });

  it("stores keys lower-case", () => {
    const md = new Metadata().set("X-Trace", "1");
    assert.deepEqual([...md], [["x-trace", ["1"]]]);
  });

  it("set replaces, set with no values deletes", () => {
    const md = new Metadata({ k: ["1", "2"] });
    md.set("K", "3");
    assert.deepEqual(md.getAll("k"), ["3"]);
    md.set("k");
    assert.equal(md.has("k"), false);
  });

  it("append adds to a new or an existing key, keeping order", () => {
    const md = new Metadata();
    md.append("k", "1");
    md.append("K", "2", "3");
    assert.deepEqual(md.getAll("k"), ["1", "2", "3"]);
  });

  it("delete and has", () => {
    const md = new Metadata({ a: "1" });
    assert.equal(md.has("A"), true);
    assert.equal(md.delete("A"), true);
    assert.equal(md.delete("a"), false);
    assert.equal(md.size, 0);
  });

  it("accepts a record, an iterable of pairs, or a Metadata", () => {
    const fromPairs = new Metadata([
      ["a", "1"],
      ["a", ["2"]],
    ]);
    assert.deepEqual(fromPairs.getAll("a"), ["1", "2"]);
    const copy = new Metadata(fromPairs);
    assert.deepEqual(copy.toJSON(), { a: ["1", "2"] });
    assert.equal(toMetadata(copy), copy);
    assert.deepEqual(toMetadata(undefined).size, 0);
  });

  it("clones deeply: a clone changes independently", () => {
    const md = new Metadata({ a: ["1"] });
    const clone = md.clone();
    clone.append("a", "2");
    md.set("b", "x");
    assert.deepEqual(md.getAll("a"), ["1"]);
    assert.deepEqual(clone.getAll("a"), ["1", "2"]);
    assert.equal(clone.has("b"), false);
  });

  it("iteration yields copies", () => {
    const md = new Metadata({ a: "1" });
    for (const [, values] of md) values.push("mutated");
    assert.deepEqual(md.getAll("a"), ["1"]);
    md.getAll("a").push("x");
    assert.deepEqual(md.getAll("a"), ["1"]);
  });
});
