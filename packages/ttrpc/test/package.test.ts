// The published package: what `npm run build` emits is what users import.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tempSocket } from "./helpers.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, "utf8"));

describe("package", () => {
  it("has zero runtime dependencies and an optional protobuf-es peer", () => {
    assert.equal(pkg.dependencies, undefined);
    assert.equal(pkg.peerDependenciesMeta["@bufbuild/protobuf"].optional, true);
    assert.equal(pkg.type, "module");
    assert.equal(pkg.sideEffects, false);
    // "ttrpc-source" points the workspace's own tests and examples at src/; users get dist/.
    assert.deepEqual(pkg.exports["."], {
      "ttrpc-source": "./src/index.ts",
      types: "./dist/index.d.ts",
      default: "./dist/index.js",
    });
  });

  it("the built bundle works on its own", {
    skip: !existsSync(`${root}/dist/index.js`) && "run npm run build",
  }, async () => {
    const lib = await import(`${root}/dist/index.js`);
    const codec = { encode: (m: Uint8Array) => m, decode: (b: Uint8Array) => new Uint8Array(b) };
    const Svc = lib.defineService({
      typeName: "pkg.v1.S",
      methods: { echo: { name: "Echo", kind: "unary", input: codec, output: codec } },
    });
    const server = lib.createServer().register(Svc, { echo: (b: Uint8Array) => b.reverse() });
    const path = tempSocket();
    await server.listen(path);
    const conn = await lib.connect(path);
    assert.deepEqual(
      [...(await lib.createClient(Svc, conn).echo(new Uint8Array([1, 2, 3])))],
      [3, 2, 1],
    );
    await conn.close();
    await server.close();
    assert.ok(existsSync(`${root}/dist/index.d.ts`));
  });

  it("packs small: the install footprint, without the source map, stays under 200 kB", {
    skip: !existsSync(`${root}/dist/index.js`) && "run npm run build",
  }, () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json"], {
      cwd: root,
      encoding: "utf8",
    });
    const [info] = JSON.parse(out) as { files: { path: string; size: number }[] }[];
    assert.ok(info);
    // dist/index.js.map (about 150 kB, sources included) is read only with --enable-source-maps.
    const code = info.files.filter((f) => !f.path.endsWith(".map"));
    const size = code.reduce((n, f) => n + f.size, 0);
    assert.ok(size < 200_000, `unpacked ${size} bytes without the source map`);
    assert.ok(info.files.some((f) => f.path === "dist/index.js"));
    assert.ok(!info.files.some((f) => f.path.includes(".test.")));
  });
});
