/**
 * `target=js` / `target=dts`: turns the generated TypeScript into JavaScript and declarations with
 * the TypeScript that `@bufbuild/protoplugin` pins (loaded only for these targets). Unlike
 * protoplugin's default (no lib at all), the program sees the ES2022 lib and a two-line stand-in
 * for Node's `Buffer` and `node:buffer`, which the generated signatures name.
 * @module
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { FileInfo } from "@bufbuild/protoplugin";

const SHIM = "/ttrpc-node-shim.d.ts";
const SHIM_TEXT = `declare class Buffer extends Uint8Array {}
declare module "node:buffer" { export function isUtf8(input: Uint8Array): boolean; }
`;

interface Ts {
  ModuleKind: { ES2020: number; CommonJS: number };
  ModuleResolutionKind: { Node10: number };
  ScriptTarget: { ES2022: number };
  NewLineKind: { LineFeed: number };
  createProgram(init: { rootNames: string[]; options: object; host: unknown }): {
    emit(
      target: undefined,
      write: (
        name: string,
        data: string,
        bom: boolean,
        onError: unknown,
        sources?: readonly { fileName: string }[],
      ) => void,
    ): {
      emitSkipped: boolean;
      diagnostics: readonly { messageText: unknown; file?: { fileName: string } }[];
    };
  };
}
interface Vfs {
  createDefaultMapFromNodeModules(options: object, ts: Ts, libDir: string): Map<string, string>;
  createSystem(files: Map<string, string>): unknown;
  createVirtualCompilerHost(sys: unknown, options: object, ts: Ts): { compilerHost: unknown };
}

/** protoplugin's transpile hook. */
export function transpile(
  files: FileInfo[],
  transpileJs: boolean,
  transpileDts: boolean,
  jsImportStyle: "module" | "legacy_commonjs",
): FileInfo[] {
  // typescript and @typescript/vfs are protoplugin's own dependencies: resolve them from there.
  const req = createRequire(createRequire(import.meta.url).resolve("@bufbuild/protoplugin"));
  const ts = req("typescript") as Ts;
  const vfs = req("@typescript/vfs") as Vfs;
  const options = {
    strict: false,
    module: jsImportStyle === "legacy_commonjs" ? ts.ModuleKind.CommonJS : ts.ModuleKind.ES2020,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    noResolve: true,
    newLine: ts.NewLineKind.LineFeed,
    lib: ["lib.es2022.d.ts"],
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    declaration: transpileDts,
    emitDeclarationOnly: transpileDts && !transpileJs,
  };
  // The lib files of that TypeScript (vfs would look next to itself, maybe at another version).
  const libDir = dirname(req.resolve("typescript"));
  const map = vfs.createDefaultMapFromNodeModules({ target: ts.ScriptTarget.ES2022 }, ts, libDir);
  for (const f of files) map.set(`/${f.name}`, f.content);
  map.set(SHIM, SHIM_TEXT);
  const host = vfs.createVirtualCompilerHost(vfs.createSystem(map), options, ts);
  const program = ts.createProgram({
    rootNames: [SHIM, ...files.map((f) => `/${f.name}`)],
    options,
    host: host.compilerHost,
  });
  const out: FileInfo[] = [];
  const result = program.emit(undefined, (name, data, _bom, _onError, sources) => {
    const source = sources?.[0]?.fileName;
    const file = files.find((f) => `/${f.name}` === source);
    if (file === undefined) throw new Error(`protoc-gen-ttrpc: cannot map ${name} to a source`);
    out.push({ name: name.replace(/^\//, ""), content: data, preamble: file.preamble });
  });
  if (result.emitSkipped) {
    const first = result.diagnostics
      .slice(0, 3)
      .map(
        (d) =>
          `${d.file?.fileName ?? ""}: ${typeof d.messageText === "string" ? d.messageText : JSON.stringify(d.messageText)}`,
      );
    throw new Error(`protoc-gen-ttrpc: transpiling failed:\n${first.join("\n")}`);
  }
  return out;
}
