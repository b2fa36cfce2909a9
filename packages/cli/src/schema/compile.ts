/**
 * Compiles --proto files into a FileDescriptorSet with the best compiler at hand: `buf` or
 * `protoc` when on PATH (their output is the reference), else protobufjs's parser, loaded only then.
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorSet, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { CliError } from "../cli-error.js";

/** Which compiler --proto uses; `auto` prefers buf, then protoc, then protobufjs. */
export type Compiler = "auto" | "buf" | "protoc" | "protobufjs";

/** The compilers --compiler accepts. */
export const COMPILERS: readonly Compiler[] = ["auto", "buf", "protoc", "protobufjs"];

/** A compiled set and the compiler that built it. */
export interface Compiled {
  set: FileDescriptorSet;
  compiler: "buf" | "protoc" | "protobufjs";
}

/** An executable on PATH (or the PROTOC / BUF environment variable), else undefined. */
export function findExecutable(name: "buf" | "protoc"): string | undefined {
  const fromEnv = process.env[name.toUpperCase()];
  if (fromEnv) return fromEnv;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function run(file: string, args: string[], what: string): void {
  const r = spawnSync(file, args, { encoding: "utf8", maxBuffer: 16 << 20 });
  if (r.error) throw new CliError(`${what}: ${r.error.message}`);
  if (r.status !== 0) {
    const msg = (r.stderr || r.stdout).trim().split("\n").slice(0, 3).join("; ");
    throw new CliError(`${what} failed: ${msg}`);
  }
}

function withTempFile<T>(body: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-cli-"));
  try {
    return body(join(dir, "set.binpb"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function decodeSet(bytes: Uint8Array): FileDescriptorSet {
  return fromBinary(FileDescriptorSetSchema, bytes);
}

function compileProtoc(protoc: string, files: string[], includes: string[]): FileDescriptorSet {
  return withTempFile((out) => {
    const args = [
      ...includes.map((i) => `-I${i}`),
      "--include_imports",
      "--include_source_info",
      `--descriptor_set_out=${out}`,
      ...files,
    ];
    run(protoc, args, "protoc");
    return decodeSet(readFileSync(out));
  });
}

function compileBuf(buf: string, files: string[], includes: string[]): FileDescriptorSet {
  // buf builds a module root; with one import path that is exactly protoc's -I.
  const root = includes[0] ?? ".";
  return withTempFile((out) => {
    const args = ["build", root, "--as-file-descriptor-set", "-o", out];
    for (const f of files) args.push("--path", join(root, f));
    run(buf, args, "buf build");
    return decodeSet(readFileSync(out));
  });
}

/**
 * File names as protoc wants them: relative to an import path. A file given by a path inside an
 * import path is renamed relative to it; with no import path, "." is the import path.
 */
export function normalizeFiles(
  files: string[],
  includes: string[],
): { files: string[]; includes: string[] } {
  const inc = includes.length > 0 ? includes : ["."];
  const out = files.map((f) => {
    for (const dir of inc) {
      const prefix = dir === "." ? "" : `${dir.replace(/\/+$/, "")}/`;
      if (prefix && f.startsWith(prefix)) return f.slice(prefix.length);
    }
    return f.replace(/^\.\//, "");
  });
  for (const f of out) {
    if (!inc.some((dir) => existsSync(join(dir, f)))) {
      throw new CliError(
        `--proto ${f}: not found in the import paths (${inc.join(", ")}); add -I DIR`,
      );
    }
  }
  return { files: out, includes: inc };
}

/** Compiles the files with the chosen (or best available) compiler. */
export async function compileProtos(
  files: string[],
  includes: string[],
  compiler: Compiler,
): Promise<Compiled> {
  const n = normalizeFiles(files, includes);
  if (compiler === "auto" || compiler === "buf") {
    const buf = findExecutable("buf");
    if (buf && n.includes.length === 1)
      return { set: compileBuf(buf, n.files, n.includes), compiler: "buf" };
    if (compiler === "buf")
      throw new CliError("--compiler buf: buf is not on PATH, or more than one -I was given");
  }
  if (compiler === "auto" || compiler === "protoc") {
    const protoc = findExecutable("protoc");
    if (protoc) return { set: compileProtoc(protoc, n.files, n.includes), compiler: "protoc" };
    if (compiler === "protoc") throw new CliError("--compiler protoc: protoc is not on PATH");
  }
  const { compileWithProtobufjs } = await import("./protobufjs.js");
  return { set: await compileWithProtobufjs(n.files, n.includes), compiler: "protobufjs" };
}
