/**
 * Generates `Foo$read`: a loop over tags with one `case` per field number and accepted wire
 * type. A known field number with another wire type is an error; unknown fields are kept as raw
 * bytes (views of the input) and written back by the encoder.
 * @module
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import {
  closedValues,
  elementType,
  initialValue,
  las,
  sortedFields,
  strict,
  unwrapped,
} from "./model.js";
import { lit, prop, type Refs } from "./names.js";
import { readExpr, tagValue, WT, wireType } from "./scalars.js";

/** Reads a message value: length-delimited or a group; `into` merges (repeated occurrences). */
function readMessage(
  r: Refs,
  msg: DescMessage,
  no: number,
  delimited: boolean,
  into: string,
): { tag: number; expr: string } {
  if (delimited) {
    return {
      tag: tagValue(no, WT.SGROUP),
      expr: `${r.t(msg, "$read")}(r, r.e, ${no}, ${into})`,
    };
  }
  return {
    tag: tagValue(no, WT.LEN),
    expr: `${r.t(msg, "$read")}(r, ${r.w("$len")}(r), 0, ${into})`,
  };
}

function isPackable(t: ScalarType): boolean {
  return t !== ScalarType.STRING && t !== ScalarType.BYTES;
}

/** A closed enum's membership test. */
function known(values: number[], v: string): string {
  return values.length === 0 ? "false" : values.map((x) => `${v} === ${x}`).join(" || ");
}

function singularCases(r: Refs, f: DescField, cases: string[]): void {
  const set = (value: string) =>
    f.oneof !== undefined
      ? `m.${f.oneof.localName} = { case: ${lit(f.localName)}, value: ${value} };`
      : `m.${f.localName} = ${value};`;
  if (f.fieldKind === "scalar") {
    const t = tagValue(f.number, wireType(f.scalar));
    cases.push(`case ${t}: ${set(readExpr(r, f.scalar, las(f), strict(f)))} continue;`);
    return;
  }
  if (f.fieldKind === "enum") {
    const t = tagValue(f.number, WT.VARINT);
    const values = closedValues(f.enum);
    if (values === undefined) {
      cases.push(`case ${t}: ${set(`${r.w("$i32")}(r) as ${r.t(f.enum)}`)} continue;`);
      return;
    }
    // A closed enum keeps a value it does not know as an unknown field (protobuf-es does so).
    cases.push(
      `case ${t}: {`,
      `  const v = ${r.w("$i32")}(r);`,
      `  if (${known(values, "v")}) ${set(`v as ${r.t(f.enum)}`)}`,
      `  else (m.$unknown ??= []).push(${r.w("$unknownEnum")}(${f.number}, v));`,
      "  continue;",
      "}",
    );
    return;
  }
  if (f.fieldKind !== "message") return;
  const w = unwrapped(f);
  if (w !== undefined) {
    const into = `m.${f.localName} === undefined ? undefined : { value: m.${f.localName} }`;
    const rd = readMessage(r, f.message, f.number, false, into);
    cases.push(`case ${rd.tag}: m.${f.localName} = ${rd.expr}.value; continue;`);
    return;
  }
  if (f.oneof !== undefined) {
    const o = f.oneof.localName;
    const rd = readMessage(
      r,
      f.message,
      f.number,
      f.delimitedEncoding,
      `m.${o}.case === ${lit(f.localName)} ? m.${o}.value : undefined`,
    );
    cases.push(`case ${rd.tag}: ${set(rd.expr)} continue;`);
    return;
  }
  const rd = readMessage(r, f.message, f.number, f.delimitedEncoding, `m.${f.localName}`);
  cases.push(`case ${rd.tag}: m.${f.localName} = ${rd.expr}; continue;`);
}

function listCases(r: Refs, f: DescField & { fieldKind: "list" }, cases: string[]): void {
  const a = `m.${f.localName}`;
  if (f.listKind === "message") {
    const rd = readMessage(r, f.message, f.number, f.delimitedEncoding, "undefined");
    cases.push(`case ${rd.tag}: ${a}.push(${rd.expr}); continue;`);
    return;
  }
  const t = f.listKind === "enum" ? ScalarType.INT32 : f.scalar;
  const long = f.listKind === "scalar" ? las(f) : false;
  const read =
    f.listKind === "enum"
      ? `${readExpr(r, t, long, strict(f))} as ${r.t(f.enum)}`
      : readExpr(r, t, long, strict(f));
  cases.push(`case ${tagValue(f.number, wireType(t))}: ${a}.push(${read}); continue;`);
  if (isPackable(t)) {
    // Packed and unpacked are both accepted, whatever the declaration says.
    cases.push(
      `case ${tagValue(f.number, WT.LEN)}: {`,
      `  const e = ${r.w("$len")}(r);`,
      `  const a = ${a};`,
      `  while (r.p < e) a.push(${read});`,
      "  continue;",
      "}",
    );
  }
}

function keyString(t: ScalarType): string {
  return t === ScalarType.STRING ? "k" : "String(k)";
}

function mapCases(r: Refs, f: DescField & { fieldKind: "map" }, cases: string[]): void {
  const kt = f.mapKey;
  const kTag = tagValue(1, wireType(kt));
  let vTag: number;
  let readV: string;
  let zeroV: string;
  if (f.mapKind === "message") {
    vTag = tagValue(2, WT.LEN);
    readV = `${r.t(f.message, "$read")}(r, ${r.w("$len")}(r), 0, v)`;
    zeroV = `${r.t(f.message)}.create()`;
  } else {
    const vt = f.mapKind === "enum" ? ScalarType.INT32 : f.scalar;
    vTag = tagValue(2, wireType(vt));
    readV =
      f.mapKind === "enum"
        ? `${readExpr(r, vt, false, strict(f))} as ${r.t(f.enum)}`
        : readExpr(r, vt, false, strict(f));
    zeroV =
      f.mapKind === "enum"
        ? `${f.enum.values[0]?.number ?? 0} as ${r.t(f.enum)}`
        : vt === ScalarType.BYTES
          ? r.w("$EMPTY")
          : vt === ScalarType.STRING
            ? '""'
            : vt === ScalarType.BOOL
              ? "false"
              : [3, 4, 6, 16, 18].includes(vt)
                ? "0n"
                : "0";
  }
  const kZero =
    kt === ScalarType.STRING
      ? '""'
      : kt === ScalarType.BOOL
        ? "false"
        : [3, 4, 6, 16, 18].includes(kt)
          ? "0n"
          : "0";
  const set =
    kt === ScalarType.STRING
      ? `${r.w("$setOwn")}(m.${f.localName}, k, v ?? ${zeroV});`
      : `m.${f.localName}[${keyString(kt)}] = v ?? ${zeroV};`;
  cases.push(
    `case ${tagValue(f.number, WT.LEN)}: {`,
    `  const e = ${r.w("$len")}(r);`,
    `  const e0 = r.e;`,
    `  r.e = e;`,
    `  let k = ${kZero};`,
    `  let v: ${elementType(r, f)} | undefined;`,
    `  while (r.p < e) {`,
    `    const t = ${r.w("$tag")}(r);`,
    `    if (t === ${kTag}) k = ${readExpr(r, kt, false, strict(f))};`,
    `    else if (t === ${vTag}) v = ${readV};`,
    `    else if (t >>> 3 === 1 || t >>> 3 === 2) ${r.w("$wire")}(${lit(`${f.parent.typeName}.${f.name}`)}, t);`,
    `    else ${r.w("$skip")}(r, t, r.d);`,
    "  }",
    "  r.e = e0;",
    `  ${set}`,
    "  continue;",
    "}",
  );
}

/** A new message with every field at its default, as an object literal (in `Foo$read`). */
function newMessage(r: Refs, msg: DescMessage): string {
  const props: string[] = [];
  for (const member of msg.members) {
    if (member.kind === "oneof") {
      props.push(`${prop(member.localName)}: { case: undefined }`);
      continue;
    }
    const init = initialValue(r, member);
    if (init !== undefined) props.push(`${prop(member.localName)}: ${init}`);
  }
  return `{ ${props.join(", ")} }`;
}

/** The `Foo$read` function of a message. */
export function decodeFunction(r: Refs, msg: DescMessage): string {
  const cases: string[] = [];
  const numbers: number[] = [];
  for (const f of sortedFields(msg)) {
    numbers.push(f.number);
    if (f.fieldKind === "list") listCases(r, f, cases);
    else if (f.fieldKind === "map") mapCases(r, f, cases);
    else singularCases(r, f, cases);
  }
  const T = r.t(msg);
  const body: string[] = [];
  if (cases.length > 0) body.push("    switch (t) {", ...cases.map((l) => `      ${l}`), "    }");
  body.push(
    `    if (${r.w("$other")}(r, m, s, t, group, ${lit(msg.typeName)}, [${numbers.join(", ")}])) break;`,
  );
  return [
    `export function ${T}$read(r: ${r.w("$R")}, end: number, group: number, into: ${T} | undefined): ${T} {`,
    `  ${r.w("$deeper")}(r, ${lit(msg.typeName)});`,
    `  const m: ${T} = into ?? ${newMessage(r, msg)};`,
    "  const e0 = r.e;",
    "  if (group === 0) r.e = end;",
    "  for (;;) {",
    "    if (r.p >= r.e) {",
    "      if (group === 0) break;",
    `      ${r.w("$eof")}(r);`,
    "    }",
    "    const s = r.p;",
    `    const t = ${r.w("$tag")}(r);`,
    ...body,
    "  }",
    "  r.e = e0;",
    "  r.d--;",
    "  return m;",
    "}",
  ].join("\n");
}
