// TypeDoc options for `npm run docs` (writes docs/api/, gitignored). Runs offline: TypeDoc reads the
// TSDoc of the packages' sources with the TypeScript 6 compiler API installed in this workspace.
import { OptionDefaults } from "typedoc";

/** @type {Partial<import("typedoc").TypeDocOptions>} */
export default {
  name: "ttrpc for TypeScript",
  entryPoints: ["../packages/ttrpc/src/index.ts", "../packages/containerd/src/index.ts"],
  tsconfig: "tsconfig.api.json",
  plugin: ["./typedoc-plugin.mjs"],
  out: "api",
  readme: "none",
  excludePrivate: true,
  excludeInternal: true,
  disableGit: true,
  sourceLinkTemplate: "https://github.com/ttrpc-ts/ttrpc-ts/blob/main/{path}#L{line}",
  // protoc-gen-es marks generated declarations with @generated.
  blockTags: [...OptionDefaults.blockTags, "@generated"],
  // Warnings (a {@link} to something not exported, ...) are printed, and listed by
  // test/docs/api-reference.test.ts, but do not stop the reference from being written.
  treatWarningsAsErrors: false,
  validation: { notExported: true, invalidLink: true, notDocumented: false },
};
