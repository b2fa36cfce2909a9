/**
 * The descriptor sets shipped in packages/cli/schemas/ (built by scripts/gen-schemas.sh from
 * Debian's containerd and NRI sources), so containerd's and NRI's APIs need no schema flags.
 * @module
 */
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { SchemaSource } from "./schema.js";

/** The built-in sets: name and what they hold (for help and `ttrpc list --verbose`). */
export const BUILTIN_SETS = [
  {
    name: "containerd",
    about:
      "containerd 1.7.24: task v2/v3, sandbox v1, ttrpc events, event payloads, types, runc options",
  },
  { name: "nri", about: "NRI (containerd/nri pkg/api): Runtime and Plugin services" },
] as const;

// src/schema/ and dist/schema/ are both two levels below the package root.
const dir = new URL("../../schemas/", import.meta.url);

/** Reads and decodes the built-in descriptor sets. */
export function builtinSources(): SchemaSource[] {
  return BUILTIN_SETS.map(({ name }) => ({
    origin: `built-in ${name}`,
    set: fromBinary(FileDescriptorSetSchema, readFileSync(new URL(`${name}.binpb`, dir))),
  }));
}
