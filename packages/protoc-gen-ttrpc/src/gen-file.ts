/**
 * Generates one output file for one .proto file: enums, messages (interface, codec constant,
 * size/write/read functions) and ttrpc service definitions.
 * @module
 */
import type { AnyDesc, DescFile, DescService } from "@bufbuild/protobuf";
import type { GeneratedFile, Schema } from "@bufbuild/protoplugin";
import { getComments } from "@bufbuild/protoplugin";
import { enumCode, messageCode } from "./gen-message.js";
import { inlineWire } from "./inline.js";
import { lit, localName, outputBase, prop, Refs } from "./names.js";

/** The plugin's own options (besides protoplugin's standard ones). */
export interface Options {
  /** `module` (default): one `ttrpc_wire` helper module per output; `inline`: helpers in every file. */
  wire: "module" | "inline";
  /** Represent every 64-bit integer as a string instead of a bigint. */
  longAsString: boolean;
  /** Where `defineService` is imported from (default `ttrpc`). */
  ttrpcImport: string;
}

/** A TSDoc block from the comments in the .proto source, or nothing. */
export function docOf(desc: Exclude<AnyDesc, DescFile>, indent: string): string {
  const c = getComments(desc);
  const lines = (c.leading ?? "")
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => l.replace(/^ /, "").replace(/\*\//g, "*\\/"));
  const deprecated =
    "proto" in desc &&
    (desc.proto as { options?: { deprecated?: boolean } }).options?.deprecated === true;
  if (deprecated) lines.push("@deprecated");
  const text = lines.filter((l, i) => l !== "" || i > 0);
  if (text.length === 0 || (text.length === 1 && text[0] === "")) return "";
  if (text.length === 1) return `${indent}/** ${text[0]} */`;
  return [
    `${indent}/**`,
    ...text.map((l) => `${indent} *${l ? ` ${l}` : ""}`),
    `${indent} */`,
  ].join("\n");
}

function serviceCode(r: Refs, svc: DescService, opts: Options): string {
  const def = r.imp("defineService", opts.ttrpcImport);
  const methods = svc.methods.map(
    (m) =>
      `    ${prop(m.localName)}: { name: ${lit(m.name)}, kind: ${lit(m.methodKind)}, input: ${r.t(m.input)}, output: ${r.t(m.output)} },`,
  );
  const doc = docOf(svc, "");
  return [
    ...(doc ? [doc] : []),
    `export const ${localName(svc)} = ${def}({`,
    `  typeName: ${lit(svc.typeName)},`,
    "  methods: {",
    ...methods,
    "  },",
    "});",
  ].join("\n");
}

/** Writes the generated code of `file` into `f`. */
export function generateFile(
  schema: Schema<Options>,
  f: GeneratedFile,
  file: DescFile,
  wireText: string,
): void {
  const opts = schema.options;
  const r = new Refs(f, file, opts.wire === "inline");
  f.preamble(file);
  const blocks: string[] = [];
  for (const desc of schema.typesInFile(file)) {
    if (desc.kind === "enum") blocks.push(enumCode(r, desc, docOf));
    else if (desc.kind === "message") {
      if (desc.proto.options?.mapEntry === true) continue;
      blocks.push(messageCode(r, desc, docOf));
    } else if (desc.kind === "service") blocks.push(serviceCode(r, desc, opts));
  }
  // Inlined helpers come first: the codec constants call them while the module initialises.
  if (opts.wire === "inline") {
    f.print(inlineWire(wireText, r.wireNames()));
    f.print("");
  }
  r.print(blocks.join("\n\n"));
}

/** The output path of a file, for `schema.generateFile`. */
export function outputName(file: DescFile): string {
  return `${outputBase(file)}.ts`;
}
