/**
 * Per scalar type: its TypeScript type, zero value, wire type and the expressions that size,
 * write and read one value. Expressions use `⟨w:$name⟩` markers produced by `Refs.w`.
 * @module
 */
import { ScalarType } from "@bufbuild/protobuf";
import type { Refs } from "./names.js";

/** protobuf wire types. */
export const WT = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/** The wire type a scalar is written with (unpacked). */
export function wireType(t: ScalarType): number {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WT.I64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WT.I32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WT.LEN;
    default:
      return WT.VARINT;
  }
}

/** Whether a 64-bit integer type. */
export function is64(t: ScalarType): boolean {
  return (
    t === ScalarType.INT64 ||
    t === ScalarType.UINT64 ||
    t === ScalarType.SINT64 ||
    t === ScalarType.FIXED64 ||
    t === ScalarType.SFIXED64
  );
}

/** The TypeScript type of a scalar. */
export function tsType(t: ScalarType, longAsString: boolean): string {
  if (is64(t)) return longAsString ? "string" : "bigint";
  switch (t) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BYTES:
      return "Uint8Array";
    case ScalarType.BOOL:
      return "boolean";
    default:
      return "number";
  }
}

/** The zero value expression of a scalar. */
export function zero(t: ScalarType, longAsString: boolean): string {
  if (is64(t)) return longAsString ? '"0"' : "0n";
  switch (t) {
    case ScalarType.STRING:
      return '""';
    case ScalarType.BYTES:
      return "new Uint8Array(0)";
    case ScalarType.BOOL:
      return "false";
    default:
      return "0";
  }
}

/** A literal for a proto2 / editions default value. */
export function literal(
  t: ScalarType,
  longAsString: boolean,
  value: string | number | bigint | boolean | Uint8Array,
): string {
  if (value instanceof Uint8Array) return `new Uint8Array([${Array.from(value).join(", ")}])`;
  if (is64(t)) return longAsString ? JSON.stringify(String(value)) : `${String(value)}n`;
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "Number.NaN";
    if (value === Number.POSITIVE_INFINITY) return "Number.POSITIVE_INFINITY";
    if (value === Number.NEGATIVE_INFINITY) return "Number.NEGATIVE_INFINITY";
    return Object.is(value, -0) ? "-0" : String(value);
  }
  return JSON.stringify(value);
}

/**
 * The "is not the zero value" test of an implicit-presence field, mirroring protobuf-es (floats
 * compare with Object.is so -0 and NaN are written), and tolerant of a missing property.
 */
export function nonZero(t: ScalarType, longAsString: boolean, v: string): string {
  if (is64(t)) return longAsString ? `(${v} && ${v} !== "0")` : `${v}`;
  switch (t) {
    case ScalarType.BYTES:
      return `(${v} !== undefined && ${v}.length > 0)`;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return `(${v} !== undefined && (${v} !== 0 || 1 / ${v} < 0))`;
    default:
      return v;
  }
}

/** A value as bigint (64-bit types stored as strings are converted). */
function big(r: Refs, longAsString: boolean, v: string): string {
  return longAsString ? `${r.w("$big")}(${v})` : v;
}

/** The encoded size of one value (without tag). */
export function sizeExpr(r: Refs, t: ScalarType, longAsString: boolean, v: string): string {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return "8";
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return "4";
    case ScalarType.BOOL:
      return "1";
    case ScalarType.STRING:
      return `${r.w("$sS")}(${v})`;
    case ScalarType.BYTES:
      return `${r.w("$sB")}(${v})`;
    case ScalarType.INT32:
      return `${r.w("$sv32")}(${v})`;
    case ScalarType.UINT32:
      return `${r.w("$sv")}(${v} >>> 0)`;
    case ScalarType.SINT32:
      return `${r.w("$sv")}(${r.w("$zz32")}(${v}))`;
    case ScalarType.INT64:
    case ScalarType.UINT64:
      return `${r.w("$sv64")}(${big(r, longAsString, v)})`;
    case ScalarType.SINT64:
      return `${r.w("$sv64")}(${r.w("$zz64")}(${big(r, longAsString, v)}))`;
  }
}

/** A statement-expression writing one value at `p` into `b`, evaluating to the new position. */
export function writeExpr(r: Refs, t: ScalarType, longAsString: boolean, v: string): string {
  switch (t) {
    case ScalarType.DOUBLE:
      return `${r.w("$wf64")}(b, p, ${v})`;
    case ScalarType.FLOAT:
      return `${r.w("$wf32")}(b, p, ${v})`;
    case ScalarType.FIXED32:
      return `${r.w("$wfx32")}(b, p, ${v})`;
    case ScalarType.SFIXED32:
      return `${r.w("$wsfx32")}(b, p, ${v})`;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return `${r.w("$wfx64")}(b, p, ${big(r, longAsString, v)})`;
    case ScalarType.BOOL:
      return `((b[p] = ${v} ? 1 : 0), p + 1)`;
    case ScalarType.STRING:
      return `${r.w("$wS")}(b, p, ${v})`;
    case ScalarType.BYTES:
      return `${r.w("$wB")}(b, p, ${v})`;
    case ScalarType.INT32:
      return `${r.w("$wv32")}(b, p, ${v})`;
    case ScalarType.UINT32:
      return `${r.w("$wv")}(b, p, ${v} >>> 0)`;
    case ScalarType.SINT32:
      return `${r.w("$wv")}(b, p, ${r.w("$zz32")}(${v}))`;
    case ScalarType.INT64:
    case ScalarType.UINT64:
      return `${r.w("$wv64")}(b, p, ${big(r, longAsString, v)})`;
    case ScalarType.SINT64:
      return `${r.w("$wv64")}(b, p, ${r.w("$zz64")}(${big(r, longAsString, v)}))`;
  }
}

/** An expression reading one value from reader `r`. */
export function readExpr(r: Refs, t: ScalarType, longAsString: boolean, strict: boolean): string {
  const s = (e: string) => (longAsString ? `String(${e})` : e);
  switch (t) {
    case ScalarType.DOUBLE:
      return `${r.w("$f64")}(r)`;
    case ScalarType.FLOAT:
      return `${r.w("$f32")}(r)`;
    case ScalarType.FIXED32:
      return `${r.w("$fx32")}(r)`;
    case ScalarType.SFIXED32:
      return `${r.w("$sfx32")}(r)`;
    case ScalarType.FIXED64:
      return s(`${r.w("$fx64")}(r)`);
    case ScalarType.SFIXED64:
      return s(`${r.w("$sfx64")}(r)`);
    case ScalarType.BOOL:
      return `${r.w("$bool")}(r)`;
    case ScalarType.STRING:
      return `${r.w("$str")}(r, ${strict})`;
    case ScalarType.BYTES:
      return `${r.w("$bytes")}(r)`;
    case ScalarType.INT32:
      return `${r.w("$i32")}(r)`;
    case ScalarType.UINT32:
      return `${r.w("$u32")}(r)`;
    case ScalarType.SINT32:
      return `${r.w("$s32")}(r)`;
    case ScalarType.INT64:
      return s(`${r.w("$i64")}(r)`);
    case ScalarType.UINT64:
      return s(`${r.w("$u64")}(r)`);
    case ScalarType.SINT64:
      return s(`${r.w("$s64")}(r)`);
  }
}

/** The varint bytes of a tag, as `b[p++] = …;` statements, and its length. */
export function tagBytes(no: number, wt: number): { stmt: string; len: number } {
  let v = no * 8 + wt;
  const bytes: number[] = [];
  while (v > 0x7f) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return { stmt: bytes.map((x) => `b[p++] = ${x};`).join(" "), len: bytes.length };
}

/** The tag value as decoded by `$tag`. */
export function tagValue(no: number, wt: number): number {
  return no * 8 + wt;
}
