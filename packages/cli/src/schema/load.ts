/**
 * Loads the schemas a command line asks for: --protoset files, --proto files (compiled by buf,
 * protoc or the pure-JS parser) and, unless --no-builtin, the built-in containerd and NRI sets.
 * @module
 */
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { CliError } from "../cli-error.js";
import { builtinSources } from "./builtin.js";
import { type Compiler, compileProtos } from "./compile.js";
import { Schema, type SchemaSource } from "./schema.js";

/** The schema flags of every verb. */
export interface SchemaOptions {
  protoset: string[];
  proto: string[];
  importPath: string[];
  builtin: boolean;
  compiler: Compiler;
}

/** Reads a binary FileDescriptorSet file. */
export function readProtoset(path: string): SchemaSource {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CliError(
      `cannot read --protoset ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    const set = fromBinary(FileDescriptorSetSchema, bytes);
    if (set.file.length === 0) throw new Error("it holds no files");
    return { origin: `--protoset ${path}`, set };
  } catch (err) {
    throw new CliError(
      `--protoset ${path} is not a binary FileDescriptorSet (${(err as Error).message}); build one with protoc --descriptor_set_out=F --include_imports, or buf build -o F.binpb`,
    );
  }
}

/** Loads every schema the options name, user schemas first. */
export async function loadSchema(options: SchemaOptions): Promise<Schema> {
  const sources: SchemaSource[] = options.protoset.map(readProtoset);
  if (options.proto.length > 0) {
    const compiled = await compileProtos(options.proto, options.importPath, options.compiler);
    sources.push({ origin: `--proto (${compiled.compiler})`, set: compiled.set });
  }
  if (options.builtin) sources.push(...builtinSources());
  return new Schema(sources);
}
