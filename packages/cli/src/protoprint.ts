/**
 * Descriptors printed back as .proto text, in grpcurl's `describe` style: fully-qualified type names
 * with a leading dot, `( .pkg.Req ) returns ( stream .pkg.Res )`, nested types inside their parent,
 * oneofs, maps, proto3 `optional`, the options that change meaning, and leading comments.
 * @module
 */
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  ScalarType,
} from "@bufbuild/protobuf";

type Commented =
  | DescService
  | DescMethod
  | DescMessage
  | DescEnum
  | DescField
  | DescEnum["values"][number];

/** The source path of a descriptor inside its file (descriptor.proto field numbers). */
function sourcePath(d: Commented): number[] {
  switch (d.kind) {
    case "service":
      return [6, d.file.proto.service.indexOf(d.proto)];
    case "rpc":
      return [...sourcePath(d.parent), 2, d.parent.proto.method.indexOf(d.proto)];
    case "message":
      return d.parent
        ? [...sourcePath(d.parent), 3, d.parent.proto.nestedType.indexOf(d.proto)]
        : [4, d.file.proto.messageType.indexOf(d.proto)];
    case "enum":
      return d.parent
        ? [...sourcePath(d.parent), 4, d.parent.proto.enumType.indexOf(d.proto)]
        : [5, d.file.proto.enumType.indexOf(d.proto)];
    case "field":
      return [...sourcePath(d.parent), 2, d.parent.proto.field.indexOf(d.proto)];
    case "enum_value":
      return [...sourcePath(d.parent), 2, d.parent.proto.value.indexOf(d.proto)];
  }
}

function fileOf(d: Commented) {
  switch (d.kind) {
    case "rpc":
    case "field":
    case "enum_value":
      return fileOf(d.parent);
    default:
      return d.file;
  }
}

/** The leading comment of a descriptor as `// ` lines (each trimmed, so compilers agree), or "". */
export function leadingComment(d: Commented, indent: string): string {
  const path = sourcePath(d).join(",");
  const loc = fileOf(d).proto.sourceCodeInfo?.location.find((l) => l.path.join(",") === path);
  const text = loc?.leadingComments?.replace(/\n$/, "");
  if (!text) return "";
  return text
    .split("\n")
    .map((l) => `${indent}//${l.trim() === "" ? "" : ` ${l.trim().replace(/^\* ?/, "")}`}`)
    .join("\n")
    .concat("\n");
}

function scalarName(t: ScalarType): string {
  return ScalarType[t].toLowerCase();
}

function typeOf(f: DescField): string {
  switch (f.fieldKind) {
    case "scalar":
      return scalarName(f.scalar);
    case "enum":
      return `.${f.enum.typeName}`;
    case "message":
      return `.${f.message.typeName}`;
    case "list":
      return f.listKind === "scalar"
        ? scalarName(f.scalar)
        : `.${(f.listKind === "enum" ? f.enum : f.message).typeName}`;
    case "map": {
      const v =
        f.mapKind === "scalar"
          ? scalarName(f.scalar)
          : `.${(f.mapKind === "enum" ? f.enum : f.message).typeName}`;
      return `map<${scalarName(f.mapKey)}, ${v}>`;
    }
  }
}

function fieldLine(f: DescField, indent: string): string {
  const label =
    f.fieldKind === "list"
      ? "repeated "
      : f.proto.proto3Optional
        ? "optional "
        : f.proto.label === 2
          ? "required "
          : isProto2(f) && f.fieldKind !== "map" && f.oneof === undefined
            ? "optional "
            : "";
  const opts: string[] = [];
  if (f.proto.jsonName && f.proto.jsonName !== protocJsonName(f.name))
    opts.push(`json_name = "${f.proto.jsonName}"`);
  if (f.proto.options?.deprecated) opts.push("deprecated = true");
  const packable = f.fieldKind === "list" && f.listKind !== "message";
  if (packable && f.scalar !== ScalarType.STRING && f.scalar !== ScalarType.BYTES) {
    // Only a packing that differs from the syntax's default was written in the .proto.
    if (f.packed === isProto2(f)) opts.push(`packed = ${f.packed}`);
  }
  if (f.proto.defaultValue) opts.push(`default = ${f.proto.defaultValue}`);
  const suffix = opts.length > 0 ? ` [${opts.join(", ")}]` : "";
  return `${leadingComment(f, indent)}${indent}${label}${typeOf(f)} ${f.name} = ${f.number}${suffix};\n`;
}

function isProto2(f: DescField): boolean {
  const syntax = f.parent.file.proto.syntax;
  return syntax === "" || syntax === "proto2";
}

function protocJsonName(name: string): string {
  return name.replace(/_+([a-z0-9]?)/gi, (_, c: string) => c.toUpperCase());
}

/** A message with its nested messages and enums, fields in declaration order, oneofs grouped. */
export function printMessage(m: DescMessage, indent: string): string {
  const inner = `${indent}  `;
  let body = "";
  const printedOneofs = new Set<string>();
  for (const f of m.fields) {
    const o = f.oneof;
    if (o && !f.proto.proto3Optional) {
      if (printedOneofs.has(o.name)) continue;
      printedOneofs.add(o.name);
      body += `${inner}oneof ${o.name} {\n${o.fields.map((x) => fieldLine(x, `${inner}  `)).join("")}${inner}}\n`;
      continue;
    }
    body += fieldLine(f, inner);
  }
  for (const n of m.nestedMessages) body += printMessage(n, inner);
  for (const e of m.nestedEnums) body += printEnum(e, inner);
  const reserved = m.proto.reservedRange.map((r) =>
    r.end - 1 === r.start ? `${r.start}` : `${r.start} to ${r.end - 1}`,
  );
  if (reserved.length > 0) body += `${inner}reserved ${reserved.join(", ")};\n`;
  if (m.proto.reservedName.length > 0)
    body += `${inner}reserved ${m.proto.reservedName.map((n) => `"${n}"`).join(", ")};\n`;
  return `${leadingComment(m, indent)}${indent}message ${m.name} {\n${body}${indent}}\n`;
}

/** An enum and its values. */
export function printEnum(e: DescEnum, indent: string): string {
  const inner = `${indent}  `;
  let body = e.proto.options?.allowAlias ? `${inner}option allow_alias = true;\n` : "";
  for (const v of e.values) body += `${leadingComment(v, inner)}${inner}${v.name} = ${v.number};\n`;
  return `${leadingComment(e, indent)}${indent}enum ${e.name} {\n${body}${indent}}\n`;
}

/** One rpc line. */
export function printMethod(m: DescMethod, indent: string): string {
  const cs =
    m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming" ? "stream " : "";
  const ss =
    m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming" ? "stream " : "";
  return `${leadingComment(m, indent)}${indent}rpc ${m.name} ( ${cs}.${m.input.typeName} ) returns ( ${ss}.${m.output.typeName} );\n`;
}

/** A service and its methods. */
export function printService(s: DescService): string {
  return `${leadingComment(s, "")}service ${s.name} {\n${s.methods.map((m) => printMethod(m, "  ")).join("")}}\n`;
}
