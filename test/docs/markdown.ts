/**
 * Code blocks of the project's Markdown, for test/docs/: which documents there are (found at run
 * time, so sections other people add are picked up), and each fenced block with the HTML-comment
 * directives on the lines right before it:
 *
 *   <!-- not-compiled: reason -->   a fragment: not type-checked (keep these few)
 *   <!-- file: src/server.ts -->    write the block to this path of the scratch project
 *   <!-- run -->                    run the block (tsx); it must exit 0
 *   <!-- run: expect "text" -->     ... and print a line containing text
 *   <!-- run: background -->        start it and keep it running (a server) for the later blocks
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const root = fileURLToPath(new URL("../..", import.meta.url));

/** One fenced code block. */
export interface Block {
  /** The document, relative to the root. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's language tag (`ts`, `bash`, ...). */
  lang: string;
  code: string;
  notCompiled?: string;
  file?: string;
  run?: { background: boolean; expect?: string };
}

/** README.md, packages/*\/README.md and docs/*.md, as they are now. */
export function documents(): string[] {
  const docs = ["README.md"];
  for (const pkg of readdirSync(join(root, "packages")).sort()) {
    if (existsSync(join(root, "packages", pkg, "README.md")))
      docs.push(`packages/${pkg}/README.md`);
  }
  for (const name of readdirSync(join(root, "docs")).sort()) {
    if (name.endsWith(".md")) docs.push(`docs/${name}`);
  }
  return docs;
}

/** Every fenced block of a document, with its directives. */
export function blocks(doc: string): Block[] {
  const lines = readFileSync(join(root, doc), "utf8").split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([\w-]*)/.exec(lines[i] as string);
    if (!open) continue;
    const [, indent = "", fence = "```", lang = ""] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] as string).trimStart().startsWith(fence); i++) {
      body.push((lines[i] as string).slice(indent.length));
    }
    const block: Block = { doc, line: start + 1, lang, code: `${body.join("\n")}\n` };
    // Directives: the HTML comments directly above the fence (blank lines not allowed between).
    for (let j = start - 1; j >= 0; j--) {
      const d = /^\s*<!--\s*([\w-]+)(?::\s*(.*?))?\s*-->\s*$/.exec(lines[j] as string);
      if (!d) break;
      const [, key, value = ""] = d;
      if (key === "not-compiled") block.notCompiled = value || "(no reason given)";
      else if (key === "file") block.file = value;
      else if (key === "run") {
        const expect = /^expect\s+"(.*)"$/.exec(value)?.[1];
        block.run = { background: value === "background", expect };
      }
    }
    out.push(block);
  }
  return out;
}

/** TypeScript blocks (`ts`, `typescript`, `mts`, `tsx` fences). */
export function isTypeScript(block: Block): boolean {
  return ["ts", "typescript", "mts"].includes(block.lang);
}
