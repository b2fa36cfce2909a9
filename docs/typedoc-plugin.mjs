// Names each entry point's module after its npm package ("ttrpc", "@ttrpc/containerd") instead of
// TypeDoc's path-derived "ttrpc/src", so the reference reads the way users import it.
import { readFileSync } from "node:fs";
import { Converter, ReflectionKind } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const match = /^([\w-]+)\/src$/.exec(mod.name);
      if (!match) continue;
      const pkg = new URL(`../packages/${match[1]}/package.json`, import.meta.url);
      mod.name = JSON.parse(readFileSync(pkg, "utf8")).name;
    }
  });
}
