/**
 * Generates `Foo$enc`, both passes of encoding a message in one function: with `b` undefined it
 * returns the size (the size pass), with a buffer it writes at `p` (the write pass). Both visit
 * the fields in number order and make the same decisions; lengths that the write pass needs
 * before a value (nested messages, strings, packed fields, map entries) are computed once in the
 * size pass and kept, in visiting order, in the wire module's `$W.sz`.
 * @module
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { enumZero, hasPresence, las, PRESENCE, sortedFields, unwrapped } from "./model.js";
import { lit, type Refs } from "./names.js";
import { is64, nonZero, sizeExpr, tagBytes, WT, wireType, writeExpr } from "./scalars.js";

interface Code {
  size: string[];
  write: string[];
  /** Whole statements of `Foo$enc`, both passes (filled by {@link guarded}). */
  both: string[];
}

/** Fixed element sizes of packed fields, which need no stored length. */
function fixedSize(t: ScalarType): number | undefined {
  if (t === ScalarType.DOUBLE || t === ScalarType.FIXED64 || t === ScalarType.SFIXED64) return 8;
  if (t === ScalarType.FLOAT || t === ScalarType.FIXED32 || t === ScalarType.SFIXED32) return 4;
  if (t === ScalarType.BOOL) return 1;
  return undefined;
}

/** Size and write code for one message value `v` under field number `no`. */
function messageValue(
  r: Refs,
  msg: DescMessage,
  no: number,
  delimited: boolean,
  v: string,
  c: Code,
): void {
  if (delimited) {
    const s = tagBytes(no, WT.SGROUP);
    const e = tagBytes(no, WT.EGROUP);
    c.size.push(`n += ${s.len + e.len} + ${r.t(msg, "$enc")}(${v}, undefined, 0);`);
    c.write.push(`${s.stmt} p = ${r.t(msg, "$enc")}(${v}, b, p); ${e.stmt}`);
    return;
  }
  const tag = tagBytes(no, WT.LEN);
  c.size.push(
    `{ const s = ${r.w("$put")}(${r.w("$slot")}(), ${r.t(msg, "$enc")}(${v}, undefined, 0)); n += ${tag.len} + ${r.w("$sv")}(s) + s; }`,
  );
  c.write.push(
    `${tag.stmt} p = ${r.w("$wv")}(b, p, ${r.w("$next")}()); p = ${r.t(msg, "$enc")}(${v}, b, p);`,
  );
}

/** Size and write code for one scalar value `v` with its tag. */
function scalarValue(
  r: Refs,
  t: ScalarType,
  longAsString: boolean,
  no: number,
  v: string,
  c: Code,
): void {
  const tag = tagBytes(no, wireType(t));
  c.size.push(`n += ${tag.len} + ${sizeExpr(r, t, longAsString, v)};`);
  c.write.push(`${tag.stmt} p = ${writeExpr(r, t, longAsString, v)};`);
}

/** Code for the value of a singular field (scalar, enum, message), given as expression `v`. */
function singularValue(r: Refs, f: DescField, v: string, c: Code): void {
  if (f.fieldKind === "scalar") scalarValue(r, f.scalar, las(f), f.number, v, c);
  else if (f.fieldKind === "enum") scalarValue(r, ScalarType.INT32, false, f.number, v, c);
  else if (f.fieldKind === "message") {
    const w = unwrapped(f);
    if (w !== undefined) messageValue(r, f.message, f.number, false, `{ value: ${v} }`, c);
    else messageValue(r, f.message, f.number, f.delimitedEncoding, v, c);
  }
}

/** Wraps the inner code of both passes in the same condition. */
function guarded(cond: string, pre: string, inner: Code, c: Code): void {
  // In the size pass (`b` undefined) `p` accumulates the size; in the write pass, the position.
  const size = inner.size.map((l) => `    ${l.replace(/\bn \+= /g, "p += ")}`);
  const write = inner.write.map((l) => `    ${l}`);
  c.both.push(
    `${pre}if (${cond}) {`,
    "  if (b === undefined) {",
    ...size,
    "  } else {",
    ...write,
    "  }",
    "}",
  );
}

function singular(r: Refs, f: DescField, msg: DescMessage, c: Code): void {
  const v = `v${f.number}`;
  const inner: Code = { size: [], write: [], both: [] };
  if (f.oneof !== undefined) {
    const o = `o${f.number}`;
    singularValue(r, f, `${o}.value`, inner);
    guarded(
      `${o} !== undefined && ${o}.case === ${lit(f.localName)}`,
      `const ${o} = m.${f.oneof.localName}; `,
      inner,
      c,
    );
    return;
  }
  singularValue(r, f, v, inner);
  const pre = `const ${v} = m.${f.localName}; `;
  if (hasPresence(f)) {
    guarded(`${v} !== undefined && ${v} !== null`, pre, inner, c);
    if (f.fieldKind !== "message" && f.presence === PRESENCE.LEGACY_REQUIRED) {
      const err = `cannot encode field ${msg.typeName}.${f.name} to binary: required field not set`;
      c.both.push(`else throw new Error(${lit(err)});`);
    }
    return;
  }
  const cond =
    f.fieldKind === "enum"
      ? `${v} !== undefined && ${v} !== ${enumZero(f.enum)}`
      : f.fieldKind === "scalar"
        ? nonZero(f.scalar, las(f), v)
        : `${v} !== undefined`;
  guarded(cond, pre, inner, c);
}

function list(r: Refs, f: DescField & { fieldKind: "list" }, c: Code): void {
  const a = `a${f.number}`;
  const pre = `const ${a} = m.${f.localName}; `;
  const inner: Code = { size: [], write: [], both: [] };
  if (f.listKind === "message") {
    messageValue(r, f.message, f.number, f.delimitedEncoding, "v", inner);
    guarded(
      `${a} !== undefined`,
      pre,
      {
        size: [`for (const v of ${a}) {`, ...inner.size.map((l) => `  ${l}`), "}"],
        write: [`for (const v of ${a}) {`, ...inner.write.map((l) => `  ${l}`), "}"],
        both: [],
      },
      c,
    );
    return;
  }
  const t = f.listKind === "enum" ? ScalarType.INT32 : f.scalar;
  const long = f.listKind === "scalar" ? las(f) : false;
  if (!f.packed) {
    const fixed = fixedSize(t);
    if (fixed !== undefined) {
      // A constant size per element: no loop in the size pass.
      const tag = tagBytes(f.number, wireType(t));
      guarded(
        `${a} !== undefined`,
        pre,
        {
          size: [`n += ${a}.length * ${tag.len + fixed};`],
          write: [`for (const v of ${a}) { ${tag.stmt} p = ${writeExpr(r, t, long, "v")}; }`],
          both: [],
        },
        c,
      );
      return;
    }
    scalarValue(r, t, long, f.number, "v", inner);
    guarded(
      `${a} !== undefined`,
      pre,
      {
        size: [`for (const v of ${a}) ${inner.size[0]}`],
        write: [`for (const v of ${a}) { ${inner.write[0]} }`],
        both: [],
      },
      c,
    );
    return;
  }
  const tag = tagBytes(f.number, WT.LEN);
  const fixed = fixedSize(t);
  if (fixed !== undefined) {
    inner.size.push(
      `n += ${tag.len} + ${r.w("$sv")}(${a}.length * ${fixed}) + ${a}.length * ${fixed};`,
    );
    inner.write.push(`${tag.stmt} p = ${r.w("$wv")}(b, p, ${a}.length * ${fixed});`);
  } else {
    inner.size.push(
      `let s = 0;`,
      `for (const v of ${a}) s += ${sizeExpr(r, t, long, "v")};`,
      `${r.w("$put")}(${r.w("$slot")}(), s);`,
      `n += ${tag.len} + ${r.w("$sv")}(s) + s;`,
    );
    inner.write.push(`${tag.stmt} p = ${r.w("$wv")}(b, p, ${r.w("$next")}());`);
  }
  inner.write.push(`for (const v of ${a}) p = ${writeExpr(r, t, long, "v")};`);
  guarded(`${a} !== undefined && ${a}.length > 0`, pre, inner, c);
}

/** Converts an object key (always a string) to the map's key type. */
function keyValue(t: ScalarType): string {
  if (t === ScalarType.STRING) return "k";
  if (t === ScalarType.BOOL) return `k === "true"`;
  if (is64(t)) return "BigInt(k)";
  return "Number(k)";
}

function map(r: Refs, f: DescField & { fieldKind: "map" }, c: Code): void {
  const mp = `m${f.number}`;
  const tag = tagBytes(f.number, WT.LEN);
  const kt = f.mapKey;
  const kTag = tagBytes(1, wireType(kt));
  const size = [
    `const v = ${mp}[k]!;`,
    `const i = ${r.w("$slot")}();`,
    `const kv = ${keyValue(kt)};`,
    `let s = ${kTag.len} + ${sizeExpr(r, kt, false, "kv")};`,
  ];
  const write = [
    `const v = ${mp}[k]!;`,
    `${tag.stmt} p = ${r.w("$wv")}(b, p, ${r.w("$next")}());`,
    `const kv = ${keyValue(kt)};`,
    `${kTag.stmt} p = ${writeExpr(r, kt, false, "kv")};`,
  ];
  if (f.mapKind === "message") {
    const vTag = tagBytes(2, WT.LEN);
    size.push(
      `const vs = ${r.w("$put")}(${r.w("$slot")}(), ${r.t(f.message, "$enc")}(v, undefined, 0));`,
      `s += ${vTag.len} + ${r.w("$sv")}(vs) + vs;`,
    );
    write.push(
      `${vTag.stmt} p = ${r.w("$wv")}(b, p, ${r.w("$next")}()); p = ${r.t(f.message, "$enc")}(v, b, p);`,
    );
  } else {
    const vt = f.mapKind === "enum" ? ScalarType.INT32 : f.scalar;
    const vTag = tagBytes(2, wireType(vt));
    size.push(`s += ${vTag.len} + ${sizeExpr(r, vt, false, "v")};`);
    write.push(`${vTag.stmt} p = ${writeExpr(r, vt, false, "v")};`);
  }
  size.push(`${r.w("$put")}(i, s);`, `n += ${tag.len} + ${r.w("$sv")}(s) + s;`);
  // Fixed-size keys and values need no variable in the size pass.
  for (const name of ["v", "kv"]) {
    const re = new RegExp(`\\b${name}\\b`);
    if (!size.slice(1).some((l) => !l.startsWith(`const ${name} =`) && re.test(l))) {
      const i = size.findIndex((l) => l.startsWith(`const ${name} =`));
      if (i >= 0) size.splice(i, 1);
    }
  }
  const loop = (body: string[]) => [
    `for (const ${body.some((l) => /\bk\b/.test(l)) ? "k" : "_k"} of Object.keys(${mp})) {`,
    ...body.map((l) => `  ${l}`),
    "}",
  ];
  guarded(
    `${mp} !== undefined`,
    `const ${mp} = m.${f.localName}; `,
    { size: loop(size), write: loop(write), both: [] },
    c,
  );
}

/** The `Foo$enc` function of a message. */
export function encodeFunctions(r: Refs, msg: DescMessage): string {
  const c: Code = { size: [], write: [], both: [] };
  for (const f of sortedFields(msg)) {
    if (f.fieldKind === "list") list(r, f, c);
    else if (f.fieldKind === "map") map(r, f, c);
    else singular(r, f, msg, c);
  }
  const T = r.t(msg);
  return [
    `export function ${T}$enc(m: ${T}, b: Buffer | undefined, p: number): number {`,
    ...c.both.map((l) => `  ${l}`),
    "  const u = m.$unknown;",
    "  if (u !== undefined) {",
    "    if (b === undefined) for (const x of u) p += x.length;",
    `    else for (const x of u) p = ${r.w("$wR")}(b, p, x);`,
    "  }",
    "  return p;",
    "}",
  ].join("\n");
}
