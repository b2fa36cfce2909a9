/**
 * The pure-JS `.proto` compiler: protobufjs parses each file (it is loaded only here, and only when
 * neither buf nor protoc is on PATH), and this module turns what it parsed into the
 * FileDescriptorProtos protoc would write: one per file, in dependency order, with fully-qualified
 * type names resolved by protoc's scoping rules, map entries, proto3 `optional` (synthetic oneofs),
 * json names and leading comments. The well-known types come from protobuf-es's own descriptors.
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { FileDescriptorProto, FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import * as wkt from "@bufbuild/protobuf/wkt";
import type * as PB from "protobufjs";
import { CliError } from "../cli-error.js";
import {
  convertEnum,
  convertExtension,
  convertMessage,
  convertService,
  type Scope,
} from "./pbjs-convert.js";

type Protobufjs = typeof PB;

async function loadProtobufjs(): Promise<Protobufjs> {
  try {
    const mod = (await import("protobufjs")) as unknown as { default?: Protobufjs } & Protobufjs;
    return mod.default ?? mod;
  } catch {
    throw new CliError(
      "--proto needs buf or protoc on PATH, or the optional dependency protobufjs (npm install protobufjs)",
    );
  }
}

/** The well-known types' descriptors by file name, as protobuf-es embeds them (identical to protoc's). */
function wellKnownFiles(): Map<string, FileDescriptorProto> {
  const map = new Map<string, FileDescriptorProto>();
  for (const value of Object.values(wkt)) {
    const v = value as { kind?: string; proto?: FileDescriptorProto };
    if (v && v.kind === "file" && v.proto) map.set(v.proto.name, v.proto);
  }
  return map;
}

/** Full names of the messages and enums a descriptor declares (for name resolution). */
function declaredTypes(file: FileDescriptorProto, into: Set<string>, enums: Set<string>): void {
  const prefix = file.package ? `${file.package}.` : "";
  const walk = (p: string, msgs: FileDescriptorProto["messageType"]) => {
    for (const m of msgs) {
      into.add(p + m.name);
      for (const e of m.enumType) {
        into.add(`${p}${m.name}.${e.name}`);
        enums.add(`${p}${m.name}.${e.name}`);
      }
      walk(`${p}${m.name}.`, m.nestedType);
    }
  };
  walk(prefix, file.messageType);
  for (const e of file.enumType) {
    into.add(prefix + e.name);
    enums.add(prefix + e.name);
  }
}

interface Parsed {
  name: string;
  source: string;
  result: PB.IParserResult;
}

/** Compiles files (names relative to the import paths) into a FileDescriptorSet. */
export async function compileWithProtobufjs(
  files: string[],
  includes: string[],
): Promise<FileDescriptorSet> {
  const pb = await loadProtobufjs();
  const known = wellKnownFiles();
  const ordered: (Parsed | FileDescriptorProto)[] = [];
  const state = new Map<string, "visiting" | "done">();

  const visit = (name: string, from: string | undefined) => {
    const s = state.get(name);
    if (s === "done") return;
    if (s === "visiting") throw new CliError(`import cycle through ${name}`);
    state.set(name, "visiting");
    const dir = includes.find((d) => {
      try {
        readFileSync(join(d, name));
        return true;
      } catch {
        return false;
      }
    });
    if (dir === undefined) {
      const wk = known.get(name);
      if (!wk) {
        const by = from ? ` (imported by ${from})` : "";
        throw new CliError(`${name}: not found in the import paths ${includes.join(", ")}${by}`);
      }
      for (const dep of wk.dependency) visit(dep, name);
      ordered.push(wk);
      state.set(name, "done");
      return;
    }
    const source = readFileSync(join(dir, name), "utf8");
    let result: PB.IParserResult;
    try {
      result = pb.parse(source, new pb.Root(), { keepCase: true, alternateCommentMode: true });
    } catch (err) {
      throw new CliError(`${name}: ${(err as Error).message}`);
    }
    for (const dep of [...(result.imports ?? []), ...(result.weakImports ?? [])]) visit(dep, name);
    ordered.push({ name, source, result });
    state.set(name, "done");
  };
  for (const f of files) visit(f, undefined);

  // Every type name first, so references resolve whatever the file order.
  const types = new Set<string>();
  const enums = new Set<string>();
  const packages = new Set<string>();
  const addPackage = (pkg: string) => {
    const parts = pkg.split(".");
    for (let i = 1; i <= parts.length; i++) packages.add(parts.slice(0, i).join("."));
  };
  for (const f of ordered) {
    if ("source" in f) {
      if (f.result.package) addPackage(f.result.package);
      collect(f.result.root, types, enums);
    } else {
      if (f.package) addPackage(f.package);
      declaredTypes(f, types, enums);
    }
  }
  const out = ordered.map((f) => ("source" in f ? toFile(f, types, enums, packages) : f));
  return create(wkt.FileDescriptorSetSchema, { file: out });
}

function collect(ns: PB.NamespaceBase, into: Set<string>, enums: Set<string>): void {
  for (const obj of ns.nestedArray) {
    const kind = obj.constructor.name;
    if (kind === "Type" || kind === "Enum") into.add(obj.fullName.slice(1));
    if (kind === "Enum") enums.add(obj.fullName.slice(1));
    if ("nestedArray" in obj) collect(obj as PB.NamespaceBase, into, enums);
  }
}

/**
 * The standard file options (go_package, java_package, ...) of one file: each file is parsed into
 * its own root, so its package namespace holds exactly its options. Custom options are left out.
 */
function fileOptions(raw: Record<string, unknown> | undefined): wkt.FileOptions | undefined {
  if (!raw) return undefined;
  const init: Record<string, unknown> = {};
  for (const f of wkt.FileOptionsSchema.fields) {
    const v = raw[f.name];
    if (v === undefined) continue;
    if (f.fieldKind === "scalar") init[f.localName] = v;
    else if (f.fieldKind === "enum") {
      const value = typeof v === "number" ? v : f.enum.values.find((x) => x.name === v)?.number;
      if (value !== undefined) init[f.localName] = value;
    }
  }
  return Object.keys(init).length > 0 ? create(wkt.FileOptionsSchema, init) : undefined;
}

function syntaxOf(source: string): string {
  const m = /^\s*syntax\s*=\s*["'](proto[23])["']/m.exec(
    source.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ""),
  );
  if (/^\s*edition\s*=/m.test(source)) {
    throw new CliError(
      "protobuf editions are not supported by the pure-JS parser: put protoc or buf on PATH",
    );
  }
  return m?.[1] ?? "proto2";
}

function toFile(
  f: Parsed,
  types: Set<string>,
  enums: Set<string>,
  packages: Set<string>,
): FileDescriptorProto {
  const syntax = syntaxOf(f.source);
  const pkg = f.result.package ?? "";
  const file = create(wkt.FileDescriptorProtoSchema, {
    name: f.name,
    package: pkg,
    dependency: [...(f.result.imports ?? []), ...(f.result.weakImports ?? [])],
    syntax: syntax === "proto3" ? "proto3" : "",
  });
  const scope: Scope = { types, enums, packages, syntax, locations: [] };
  // The package's namespace holds this file's top-level declarations.
  let ns: PB.NamespaceBase = f.result.root;
  if (pkg) {
    const found = f.result.root.lookup(pkg);
    if (!found) return file;
    ns = found as PB.NamespaceBase;
  }
  for (const obj of ns.nestedArray) {
    const kind = obj.constructor.name;
    if (kind === "Type") {
      const path = [4, file.messageType.length];
      file.messageType.push(convertMessage(obj as PB.Type, pkg, scope, path));
    } else if (kind === "Enum") {
      file.enumType.push(convertEnum(obj as PB.Enum, scope, [5, file.enumType.length]));
    } else if (kind === "Service") {
      file.service.push(convertService(obj as PB.Service, pkg, scope, [6, file.service.length]));
    } else if (kind === "Field" && (obj as PB.Field).extend) {
      file.extension.push(convertExtension(obj as PB.Field, pkg, scope));
    }
  }
  const options = fileOptions((ns as { options?: Record<string, unknown> }).options);
  if (options) file.options = options;
  if (scope.locations.length > 0) {
    file.sourceCodeInfo = create(wkt.SourceCodeInfoSchema, { location: scope.locations });
  }
  return file;
}
