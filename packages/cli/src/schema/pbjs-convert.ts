/**
 * protobufjs reflection objects (as parsed from one file, names unresolved) to descriptor protos,
 * the way protoc fills them: labels, types, fully-qualified type names, json names, map entries,
 * oneofs with proto3 `optional`'s synthetic oneofs last, reserved ranges (end exclusive), options
 * that change meaning (deprecated, packed, map_entry, allow_alias), and leading comments.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  DescriptorProto_ExtensionRangeSchema,
  DescriptorProto_ReservedRangeSchema,
  DescriptorProtoSchema,
  type EnumDescriptorProto,
  EnumDescriptorProtoSchema,
  EnumOptionsSchema,
  EnumValueDescriptorProtoSchema,
  EnumValueOptionsSchema,
  type FieldDescriptorProto,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema,
  FieldDescriptorProto_Label as Label,
  MessageOptionsSchema,
  MethodDescriptorProtoSchema,
  MethodOptionsSchema,
  type ServiceDescriptorProto,
  ServiceDescriptorProtoSchema,
  type SourceCodeInfo_Location,
  SourceCodeInfo_LocationSchema,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";
import type * as PB from "protobufjs";
import { CliError } from "../cli-error.js";

/** What conversion needs besides the object: every known type and package, and comment sink. */
export interface Scope {
  /** Full names (no leading dot) of every message and enum. */
  types: Set<string>;
  /** The enums among them. */
  enums: Set<string>;
  packages: Set<string>;
  syntax: string;
  locations: SourceCodeInfo_Location[];
}

const SCALARS: Record<string, Type> = {
  double: Type.DOUBLE,
  float: Type.FLOAT,
  int64: Type.INT64,
  uint64: Type.UINT64,
  int32: Type.INT32,
  fixed64: Type.FIXED64,
  fixed32: Type.FIXED32,
  bool: Type.BOOL,
  string: Type.STRING,
  bytes: Type.BYTES,
  uint32: Type.UINT32,
  sfixed32: Type.SFIXED32,
  sfixed64: Type.SFIXED64,
  sint32: Type.SINT32,
  sint64: Type.SINT64,
};

/** protoc's json_name: underscores removed, the letter after one upper-cased. */
export function jsonName(name: string): string {
  return name.replace(/_+([a-z0-9]?)/gi, (_, c: string) => c.toUpperCase());
}

/** protoc's map entry name: `labels` → `LabelsEntry`, `by_id` → `ById Entry` without the space. */
function mapEntryName(field: string): string {
  const camel = field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/_/g, "");
  return `${camel.charAt(0).toUpperCase()}${camel.slice(1)}Entry`;
}

/**
 * Resolves a type reference written in `scope` (a full name without leading dot) as protoc does:
 * the innermost enclosing scope that declares the first component wins.
 */
function resolve(ref: string, scope: string, s: Scope): string {
  if (ref.startsWith(".")) {
    if (s.types.has(ref.slice(1))) return ref;
    throw new CliError(`unknown type ${ref}`);
  }
  const first = ref.split(".")[0] as string;
  let at = scope;
  for (;;) {
    const prefix = at ? `${at}.` : "";
    if (s.types.has(prefix + first) || s.packages.has(prefix + first)) {
      if (s.types.has(prefix + ref)) return `.${prefix}${ref}`;
    }
    if (!at) break;
    const dot = at.lastIndexOf(".");
    at = dot < 0 ? "" : at.slice(0, dot);
  }
  throw new CliError(`unknown type ${ref} (in ${scope || "the root scope"})`);
}

function comment(obj: { comment: string | null }, path: number[], s: Scope): void {
  if (!obj.comment) return;
  const text = obj.comment
    .split("\n")
    .map((l) => ` ${l}`.replace(/\s+$/, ""))
    .join("\n");
  s.locations.push(
    create(SourceCodeInfo_LocationSchema, { path, span: [0, 0, 0], leadingComments: `${text}\n` }),
  );
}

function field(f: PB.Field, scopeName: string, s: Scope, extendee?: string): FieldDescriptorProto {
  const opts = (f.options ?? {}) as Record<string, unknown>;
  const out = create(FieldDescriptorProtoSchema, {
    name: f.name,
    number: f.id,
    label: f.repeated ? Label.REPEATED : f.required ? Label.REQUIRED : Label.OPTIONAL,
    jsonName: typeof opts.json_name === "string" ? opts.json_name : jsonName(f.name),
  });
  if (extendee !== undefined) out.extendee = extendee;
  const scalar = SCALARS[f.type];
  if (scalar !== undefined) out.type = scalar;
  else {
    out.typeName = resolve(f.type, scopeName, s);
    out.type = s.enums.has(out.typeName.slice(1)) ? Type.ENUM : Type.MESSAGE;
  }
  if (opts.proto3_optional === true && s.syntax === "proto3") out.proto3Optional = true;
  if (opts.default !== undefined && s.syntax === "proto2") out.defaultValue = String(opts.default);
  const fo: Record<string, unknown> = {};
  if (opts.deprecated === true) fo.deprecated = true;
  if (typeof opts.packed === "boolean") fo.packed = opts.packed;
  if (Object.keys(fo).length > 0) out.options = create(FieldOptionsSchema, fo);
  return out;
}

/** A top-level or nested `extend` field. */
export function convertExtension(f: PB.Field, scopeName: string, s: Scope): FieldDescriptorProto {
  return field(f, scopeName, s, resolve(f.extend as string, scopeName, s));
}

const ranges = (list: (number[] | string)[] | undefined) =>
  (list ?? []).filter((r): r is number[] => Array.isArray(r));

/** A message, its fields, nested types, map entries, oneofs and comments. */
export function convertMessage(
  t: PB.Type,
  scopeName: string,
  s: Scope,
  path: number[],
): DescriptorProto {
  const full = scopeName ? `${scopeName}.${t.name}` : t.name;
  const msg = create(DescriptorProtoSchema, { name: t.name });
  comment(t, path, s);
  const real = t.oneofsArray.filter((o) => !isSynthetic(o));
  const synthetic = t.oneofsArray.filter(isSynthetic);
  for (const o of [...real, ...synthetic])
    msg.oneofDecl.push({ $typeName: "google.protobuf.OneofDescriptorProto", name: o.name });
  const nestedTypes = t.nestedArray.filter((o) => o.constructor.name === "Type") as PB.Type[];
  for (const n of nestedTypes) {
    msg.nestedType.push(convertMessage(n, full, s, [...path, 3, msg.nestedType.length]));
  }
  for (const f of t.fieldsArray) {
    const fieldPath = [...path, 2, msg.field.length];
    comment(f, fieldPath, s);
    if (f.map) {
      const mf = f as unknown as PB.MapField;
      const entry = create(DescriptorProtoSchema, {
        name: mapEntryName(f.name),
        options: create(MessageOptionsSchema, { mapEntry: true }),
      });
      const key = create(FieldDescriptorProtoSchema, {
        name: "key",
        number: 1,
        label: Label.OPTIONAL,
        type: SCALARS[mf.keyType],
        jsonName: "key",
      });
      const value = field(
        Object.assign(Object.create(Object.getPrototypeOf(f)), f, {
          name: "value",
          id: 2,
          options: undefined,
          rule: undefined,
        }) as PB.Field,
        full,
        s,
      );
      value.jsonName = "value";
      entry.field.push(key, value);
      msg.nestedType.push(entry);
      msg.field.push(
        create(FieldDescriptorProtoSchema, {
          name: f.name,
          number: f.id,
          label: Label.REPEATED,
          type: Type.MESSAGE,
          typeName: `.${full}.${entry.name}`,
          jsonName: jsonName(f.name),
        }),
      );
      continue;
    }
    const fd = field(f, full, s);
    if (f.partOf) fd.oneofIndex = msg.oneofDecl.findIndex((o) => o.name === f.partOf?.name);
    msg.field.push(fd);
  }
  for (const e of t.nestedArray.filter((o) => o.constructor.name === "Enum") as PB.Enum[]) {
    msg.enumType.push(convertEnum(e, s, [...path, 4, msg.enumType.length]));
  }
  for (const x of t.nestedArray.filter((o) => o.constructor.name === "Field") as PB.Field[]) {
    if (x.extend) msg.extension.push(convertExtension(x, full, s));
  }
  for (const r of ranges(t.reserved as (number[] | string)[])) {
    msg.reservedRange.push(
      create(DescriptorProto_ReservedRangeSchema, { start: r[0], end: (r[1] as number) + 1 }),
    );
  }
  for (const n of (t.reserved ?? []).filter((r): r is string => typeof r === "string"))
    msg.reservedName.push(n);
  for (const r of ranges(t.extensions as number[][] | undefined)) {
    msg.extensionRange.push(
      create(DescriptorProto_ExtensionRangeSchema, { start: r[0], end: (r[1] as number) + 1 }),
    );
  }
  if ((t.options as Record<string, unknown> | undefined)?.deprecated === true) {
    msg.options = create(MessageOptionsSchema, { deprecated: true });
  }
  return msg;
}

function isSynthetic(o: PB.OneOf): boolean {
  if (o.oneof.length !== 1 || !o.name.startsWith("_")) return false;
  const f = o.fieldsArray[0];
  return (f?.options as Record<string, unknown> | undefined)?.proto3_optional === true;
}

/** An enum, its values in declaration order, allow_alias and comments. */
export function convertEnum(e: PB.Enum, s: Scope, path: number[]): EnumDescriptorProto {
  comment(e, path, s);
  const out = create(EnumDescriptorProtoSchema, { name: e.name });
  for (const [name, number] of Object.entries(e.values)) {
    const value = create(EnumValueDescriptorProtoSchema, { name, number });
    const vo = e.valuesOptions?.[name] as Record<string, unknown> | undefined;
    if (vo?.deprecated === true)
      value.options = create(EnumValueOptionsSchema, { deprecated: true });
    const c = e.comments?.[name];
    if (c) comment({ comment: c }, [...path, 2, out.value.length], s);
    out.value.push(value);
  }
  const eo = (e.options ?? {}) as Record<string, unknown>;
  if (eo.allow_alias === true) out.options = create(EnumOptionsSchema, { allowAlias: true });
  return out;
}

/** A service: methods with resolved input and output types and streaming flags. */
export function convertService(
  svc: PB.Service,
  scopeName: string,
  s: Scope,
  path: number[],
): ServiceDescriptorProto {
  comment(svc, path, s);
  const out = create(ServiceDescriptorProtoSchema, { name: svc.name });
  for (const m of svc.methodsArray) {
    comment(m, [...path, 2, out.method.length], s);
    const md = create(MethodDescriptorProtoSchema, {
      name: m.name,
      inputType: resolve(m.requestType, scopeName, s),
      outputType: resolve(m.responseType, scopeName, s),
    });
    if (m.requestStream) md.clientStreaming = true;
    if (m.responseStream) md.serverStreaming = true;
    if ((m.options as Record<string, unknown> | undefined)?.deprecated === true) {
      md.options = create(MethodOptionsSchema, { deprecated: true });
    }
    out.method.push(md);
  }
  return out;
}
