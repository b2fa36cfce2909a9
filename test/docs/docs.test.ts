// Docs cannot rot (issue 10): every TypeScript block of README.md, packages/*/README.md and
// docs/*.md is type-checked strictly, and the blocks marked <!-- run … --> are run (see
// markdown.ts for the directives). Documents are found at run time, so sections added later are
// covered without touching this file. A document whose blocks include buf.gen.yaml has its code
// generated first with `buf generate`, as the guide says.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { blocks, documents, isTypeScript } from "./markdown.js";
import { DocProject } from "./project.js";

describe("docs: code blocks compile and run", () => {
  for (const doc of documents()) {
    const all = blocks(doc);
    const ts = all.filter(isTypeScript);
    if (ts.length === 0) continue;
    test(`${doc}: ${ts.length} TypeScript blocks`, { timeout: 180_000 }, async (t) => {
      const project = new DocProject(all);
      t.after(() => project.dispose());
      if (project.placed.some((p) => p.file === "buf.gen.yaml")) {
        project.shell("npx buf generate");
      }
      const errors = project.typecheck();
      if (errors.length > 0) assert.fail(`type errors:\n${errors.join("\n")}`);
      for (const p of project.placed.filter((x) => x.block.run)) {
        const out = await project.run(p);
        const expect = p.block.run?.expect;
        if (expect !== undefined) {
          assert.ok(
            out.includes(expect),
            `${doc}:${p.block.line} printed:\n${out}\nnot "${expect}"`,
          );
        }
      }
      const skipped = ts.filter((b) => b.notCompiled !== undefined);
      for (const b of skipped) t.diagnostic(`not compiled: ${doc}:${b.line}: ${b.notCompiled}`);
    });
  }
});
