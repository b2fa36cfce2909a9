/**
 * Names and imports: what a generated symbol is called and which output file holds it.
 * Code is generated as text with `⟨key⟩` markers; {@link Refs} turns each marker into a local
 * name or an imported symbol when the file is printed.
 * @module
 */
import type { DescEnum, DescFile, DescMessage, DescService } from "@bufbuild/protobuf";
import type { GeneratedFile, Printable } from "@bufbuild/protoplugin";
import { safeIdentifier } from "@bufbuild/protoplugin";

/** The suffix of every generated file: `foo/bar.proto` → `foo/bar_ttrpc.ts`. */
export const FILE_SUFFIX = "_ttrpc";
/** The shared wire helper module, at the root of the output. */
export const WIRE_MODULE = "ttrpc_wire";

/** The output path of a .proto file, without extension. */
export function outputBase(file: DescFile): string {
  return file.name + FILE_SUFFIX;
}

/** The TypeScript name of a message, enum or service: its name without the package, `_`-joined. */
export function localName(desc: DescMessage | DescEnum | DescService): string {
  const pkg = desc.file.proto.package;
  const name = desc.typeName.substring(pkg.length > 0 ? pkg.length + 1 : 0);
  return safeIdentifier(name.replace(/\./g, "_"));
}

/**
 * Collects the symbols a generated file refers to. Generators write `⟨key⟩` into their text;
 * {@link Refs.print} resolves every marker, importing what lives in another file.
 */
export class Refs {
  readonly #f: GeneratedFile;
  readonly #file: DescFile;
  readonly #inlineWire: boolean;
  readonly #symbols = new Map<string, Printable>();

  constructor(f: GeneratedFile, file: DescFile, inlineWire: boolean) {
    this.#f = f;
    this.#file = file;
    this.#inlineWire = inlineWire;
  }

  /** A wire helper such as `$u32`. */
  w(name: string): string {
    const key = `w:${name}`;
    if (!this.#symbols.has(key)) {
      this.#symbols.set(
        key,
        this.#inlineWire
          ? name
          : this.#f.import(name, `./${WIRE_MODULE}.js`, name === "$R" || name === "$Codec"),
      );
    }
    return `⟨${key}⟩`;
  }

  /** A generated symbol of a message or enum: `Foo`, or `Foo` + suffix such as `$size`. */
  t(desc: DescMessage | DescEnum, suffix = ""): string {
    const name = localName(desc) + suffix;
    const key = `t:${desc.file.name}:${name}`;
    if (!this.#symbols.has(key)) {
      this.#symbols.set(
        key,
        desc.file === this.#file ? name : this.#f.import(name, `./${outputBase(desc.file)}.js`),
      );
    }
    return `⟨${key}⟩`;
  }

  /** The wire helpers this file refers to. */
  wireNames(): string[] {
    return [...this.#symbols.keys()].filter((k) => k.startsWith("w:")).map((k) => k.slice(2));
  }

  /** Any named import, e.g. `defineService` from `ttrpc`. */
  imp(name: string, from: string, typeOnly = false): string {
    const key = `i:${from}:${name}`;
    if (!this.#symbols.has(key)) this.#symbols.set(key, this.#f.import(name, from, typeOnly));
    return `⟨${key}⟩`;
  }

  /** Prints text, one line per `print`, with every marker resolved. */
  print(text: string): void {
    for (const line of text.split("\n")) {
      const parts: Printable[] = [];
      let last = 0;
      for (const m of line.matchAll(/⟨([^⟩]+)⟩/g)) {
        parts.push(line.slice(last, m.index));
        const sym = this.#symbols.get(m[1] as string);
        if (sym === undefined) throw new Error(`protoc-gen-ttrpc: unresolved ${m[1]}`);
        parts.push(sym);
        last = m.index + m[0].length;
      }
      parts.push(line.slice(last));
      this.#f.print(...parts);
    }
  }
}

/** A JavaScript string literal. */
export function lit(s: string): string {
  return JSON.stringify(s);
}

/** A property key: bare when it is an identifier, quoted otherwise. */
export function prop(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : lit(name);
}
