/**
 * `wire=inline`: copies into a generated file only the wire helpers it uses (and what those use),
 * as private declarations, so the file compiles under `noUnusedLocals`.
 * @module
 */

interface Block {
  names: string[];
  text: string;
}

const DECL = /^(?:export )?(?:function|const|let|class|interface|type|import)\b/;
const COMMENT = /^(?:\/\*\*|\/\/| \*)/;

/** Splits the helper module into top-level declarations, each with its leading comment. */
function blocks(source: string): Block[] {
  const out: Block[] = [];
  let pending: string[] = [];
  let current: Block | undefined;
  for (const line of source.split("\n")) {
    if (DECL.test(line)) {
      const m = /^(?:export )?(?:function|const|let|class|interface|type)\s+([$\w]+)/.exec(line);
      const names =
        m?.[1] !== undefined
          ? [m[1]]
          : [...line.matchAll(/[$\w]+(?=[,\s}]*\bfrom\b|,)/g)].map((x) => x[0]);
      current = { names, text: [...pending, line].join("\n") };
      pending = [];
      out.push(current);
    } else if (COMMENT.test(line) || line === "") {
      pending.push(line);
    } else if (current !== undefined) {
      current.text += `\n${[...pending, line].join("\n")}`;
      pending = [];
    }
  }
  return out;
}

/** The helpers named in `used` and everything they reference, without `export`. */
export function inlineWire(source: string, used: Iterable<string>): string {
  const all = blocks(source);
  const byName = new Map<string, Block>();
  for (const b of all) for (const n of b.names) byName.set(n, b);
  const keep = new Set<Block>();
  const visit = (name: string): void => {
    const b = byName.get(name);
    if (b === undefined || keep.has(b)) return;
    keep.add(b);
    for (const m of b.text.matchAll(/\$[A-Za-z0-9_]+|\bisUtf8\b/g)) visit(m[0]);
  };
  for (const n of used) visit(n);
  return all
    .filter((b) => keep.has(b))
    .map((b) => b.text.replace(/^export (?!interface \$Codec)/m, ""))
    .join("\n\n");
}
