// Help for the command and every verb, and the shell completion scripts (valid bash).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { ttrpc } from "./helpers.js";

const T = { timeout: 60_000 };
const VERBS = ["call", "list", "describe", "tap", "bench", "completion"];

test(
  "ttrpc --help lists every verb; each verb has its own help (--help, -h, help VERB)",
  T,
  async () => {
    const main = await ttrpc(["--help"]);
    assert.equal(main.code, 0);
    for (const v of VERBS) assert.match(main.stdout, new RegExp(`^  ${v}\\b`, "m"), v);
    const bare = await ttrpc([]);
    assert.equal(bare.code, 64, "no verb is a usage error");
    assert.equal(bare.stdout, main.stdout);
    await Promise.all(
      VERBS.map(async (v) => {
        const a = await ttrpc([v, "--help"]);
        const b = await ttrpc(["help", v]);
        assert.equal(a.code, 0, `${v}: ${a.stderr}`);
        assert.match(a.stdout, new RegExp(`^Usage: ttrpc ${v}\\b`), v);
        assert.equal(b.stdout, a.stdout);
      }),
    );
    const h = await ttrpc(["call", "-h"]);
    assert.match(h.stdout, /--emit-defaults/);
  },
);

test("ttrpc completion bash|zsh: scripts bash accepts", T, async () => {
  for (const shell of ["bash", "zsh"]) {
    const r = await ttrpc(["completion", shell]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /complete -o default -F _ttrpc ttrpc/);
    if (shell === "bash") execFileSync("bash", ["-n"], { input: r.stdout });
  }
  const bad = await ttrpc(["completion", "fish"]);
  assert.equal(bad.code, 64);
});
