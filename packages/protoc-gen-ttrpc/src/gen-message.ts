/**
 * Generates a message's interface and its codec constant, and enums
 * as const objects.
 * @module
 */
import type { DescEnum, DescMessage } from "@bufbuild/protobuf";
import { decodeFunction } from "./gen-decode.js";
import { encodeFunctions } from "./gen-encode.js";
import { elementType, fieldType, hasPresence, las } from "./model.js";
import { lit, prop, type Refs } from "./names.js";
import { literal } from "./scalars.js";

/** A TSDoc block from a descriptor's comments (protoplugin's text), indented. */
export type DocFn = (
  desc: DescMessage | DescEnum | DescMessage["fields"][number],
  indent: string,
) => string;

/** The interface of a message. */
function messageInterface(r: Refs, msg: DescMessage, doc: DocFn): string {
  const T = r.t(msg);
  const lines = [doc(msg, ""), `export interface ${T} {`];
  for (const member of msg.members) {
    if (member.kind === "field") {
      lines.push(doc(member, "  "));
      const opt = hasPresence(member) ? "?" : "";
      lines.push(`  ${prop(member.localName)}${opt}: ${fieldType(r, member)};`);
      continue;
    }
    const cases = member.fields.map(
      (f) => `    | { case: ${lit(f.localName)}; value: ${elementType(r, f)} }`,
    );
    lines.push(
      `  /** @generated from oneof ${msg.typeName}.${member.name} */`,
      `  ${prop(member.localName)}:`,
      ...cases,
      "    | { case: undefined; value?: undefined };",
    );
  }
  lines.push(
    "  /** Fields this schema does not know, as received (tag and value), written back on encode. */",
    "  $unknown?: Uint8Array[];",
    "}",
  );
  return lines.filter((l) => l !== "").join("\n");
}

/** `, { field: default, … }` for fields with a `[default = …]`, or nothing. */
function defaultsOf(r: Refs, msg: DescMessage): string {
  const props: string[] = [];
  for (const f of msg.fields) {
    if (f.oneof !== undefined) continue;
    if (f.fieldKind === "scalar") {
      const d = f.getDefaultValue();
      if (d !== undefined) props.push(`${prop(f.localName)}: ${literal(f.scalar, las(f), d)}`);
    } else if (f.fieldKind === "enum") {
      const d = f.getDefaultValue();
      if (d !== undefined) props.push(`${prop(f.localName)}: ${d} as ${r.t(f.enum)}`);
    }
  }
  return props.length === 0 ? "" : `, { ${props.join(", ")} }`;
}

/** The codec constant `Foo`: typeName, create, encode, decode, toBinary. */
function messageConst(r: Refs, msg: DescMessage, doc: DocFn): string {
  const T = r.t(msg);
  return [
    doc(msg, ""),
    `export const ${T}: ${r.w("$Codec")}<${T}> = ${r.w("$codec")}(${lit(msg.typeName)}, ${T}$enc, ${T}$read${defaultsOf(r, msg)});`,
  ]
    .filter((l) => l !== "")
    .join("\n");
}

/** Everything generated for one message (not its nested types). */
export function messageCode(r: Refs, msg: DescMessage, doc: DocFn): string {
  return [
    messageInterface(r, msg, doc),
    messageConst(r, msg, doc),
    encodeFunctions(r, msg),
    decodeFunction(r, msg),
  ].join("\n\n");
}

/** An enum as a const object and a type of its values. */
export function enumCode(r: Refs, e: DescEnum, doc: DocFn): string {
  const T = r.t(e);
  const lines = [doc(e, ""), `export const ${T} = {`];
  for (const v of e.values) {
    lines.push(`  ${prop(v.localName)}: ${v.number},`);
  }
  lines.push(
    "} as const;",
    "",
    `/** A value of ${e.typeName}${e.open ? " (open: other numbers may arrive too)" : ""}. */`,
    `export type ${T} = (typeof ${T})[keyof typeof ${T}];`,
  );
  return lines.filter((l, i) => l !== "" || i > 1).join("\n");
}
