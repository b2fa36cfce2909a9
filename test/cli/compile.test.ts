// Schemas: `list` and `describe` print the same thing whether the schema comes from a protoset,
// from .proto files compiled by protoc (the npm `protoc` package), by the pure-JS compiler
// (protobufjs), or by buf when it is on PATH; and the pure-JS compiler's descriptors equal protoc's
// on the test protos and on containerd's and NRI's own .proto files (scripts/cli-setup.sh).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { clone, toJson } from "@bufbuild/protobuf";
import { type FileDescriptorSet, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import {
  type Compiler,
  compileProtos,
  findExecutable,
} from "../../packages/cli/src/schema/compile.js";
import { PATH_WITH_PROTOC, PATH_WITHOUT_COMPILERS, PROTO_DIR, REPO, ttrpc } from "./helpers.js";

const T = { timeout: 120_000 };
const CLI_PROTOS = join(REPO, "test/cli/proto");
const PROTOC = join(REPO, "node_modules/.bin/protoc");
const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
const CONTAINERD_SRC = join(cache, "containerd-dev17/usr/share/gocode/src");
const NRI_SRC = join(cache, "nri-dev/usr/share/gocode/src");

/** A set as comparable JSON: no source info, no empty options, no google/ files, nested types by name. */
function comparable(set: FileDescriptorSet): unknown {
  const c = clone(FileDescriptorSetSchema, set);
  c.file = c.file.filter((f) => !f.name.startsWith("google/"));
  for (const f of c.file) f.sourceCodeInfo = undefined;
  const json = toJson(FileDescriptorSetSchema, c) as { file: unknown[] };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === "options" && (k === "options" ? Object.keys(x as object).length === 0 : false))
        continue;
      out[k] = walk(x);
    }
    if (Array.isArray(out.nestedType)) {
      (out.nestedType as { name: string }[]).sort((a, b) => a.name.localeCompare(b.name));
    }
    return out;
  };
  return walk(json);
}

async function compile(files: string[], includes: string[], compiler: Compiler): Promise<unknown> {
  const saved = process.env.PATH;
  process.env.PATH = PATH_WITH_PROTOC;
  try {
    return comparable((await compileProtos(files, includes, compiler)).set);
  } finally {
    process.env.PATH = saved;
  }
}

describe("schemas from protosets and .proto files", () => {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-cli-schema-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const protoset = (name: string, include: string, files: string[]) => {
    const out = join(dir, `${name}.binpb`);
    execFileSync(PROTOC, [
      `-I${include}`,
      "--include_imports",
      "--include_source_info",
      `--descriptor_set_out=${out}`,
      ...files,
    ]);
    return out;
  };

  for (const c of [
    {
      name: "interop",
      include: PROTO_DIR,
      files: ["interop.proto"],
      symbols: [
        "ttrpc.interop.v1.EchoPayload",
        "ttrpc.interop.v1.FailRequest",
        "ttrpc.interop.v1.Interop.Fail",
      ],
    },
    {
      name: "kitchen",
      include: CLI_PROTOS,
      files: ["kitchen.proto"],
      symbols: [
        "ttrpc.cli.test.v1.OrderRequest",
        "ttrpc.cli.test.v1.OrderReply",
        "ttrpc.cli.test.v1.Size",
        "common.v1.Chunk",
        "ttrpc.cli.test.v1.Kitchen.Chat",
      ],
    },
  ]) {
    test(
      `${c.name}: list and describe are the same from a protoset, protoc, protobufjs${findExecutable("buf") ? ", buf" : ""}`,
      T,
      async () => {
        const set = protoset(c.name, c.include, c.files);
        const protoFlags = c.files.flatMap((f) => ["--proto", f]).concat("-I", c.include);
        const modes: { label: string; flags: string[]; env: NodeJS.ProcessEnv }[] = [
          { label: "protoset", flags: ["--protoset", set], env: {} },
          {
            label: "protoc",
            flags: [...protoFlags, "--compiler", "protoc"],
            env: { PATH: PATH_WITH_PROTOC },
          },
          { label: "protobufjs", flags: [...protoFlags, "--compiler", "protobufjs"], env: {} },
          // No compiler on PATH: auto falls back to protobufjs.
          { label: "auto", flags: protoFlags, env: { PATH: PATH_WITHOUT_COMPILERS } },
        ];
        if (findExecutable("buf"))
          modes.push({ label: "buf", flags: [...protoFlags, "--compiler", "buf"], env: {} });
        const outputs = await Promise.all(
          modes.map(async (m) => {
            const run = async (argv: string[]) => {
              const r = await ttrpc([...argv, "--no-builtin", ...m.flags], { env: m.env });
              assert.equal(r.code, 0, `${m.label} ${argv.join(" ")}: ${r.stderr}`);
              return r.stdout;
            };
            return {
              label: m.label,
              list: await run(["list"]),
              describe: await run(["describe"]),
              symbols: await run(["describe", ...c.symbols]),
              template: await run(["describe", "--template", c.symbols[0] as string]),
            };
          }),
        );
        const [ref, ...rest] = outputs as [(typeof outputs)[0], ...typeof outputs];
        assert.ok(ref.list.length > 0 && ref.describe.includes("is a service:"), ref.describe);
        for (const o of rest) {
          for (const k of ["list", "describe", "symbols", "template"] as const) {
            assert.equal(o[k], ref[k], `${k}: ${o.label} differs from ${ref.label}`);
          }
        }
        const origin = await ttrpc(["list", "--origin", ...protoFlags], {
          env: { PATH: PATH_WITHOUT_COMPILERS },
        });
        assert.match(origin.stdout, /\t--proto \(protobufjs\)\n/);
        assert.match(origin.stdout, /containerd\.task\.v2\.Task\tbuilt-in containerd\n/);
      },
    );
  }

  test(
    "kitchen.proto: the pure-JS compiler's descriptors equal protoc's (proto3 optional, maps, oneofs, WKTs, json_name, aliases)",
    T,
    async () => {
      const a = await compile(["kitchen.proto"], [CLI_PROTOS], "protoc");
      const b = await compile(["kitchen.proto"], [CLI_PROTOS], "protobufjs");
      assert.deepEqual(b, a);
    },
  );

  const haveSources = existsSync(CONTAINERD_SRC) && existsSync(NRI_SRC);
  const skip =
    !haveSources && process.env.CI !== "true"
      ? "containerd/NRI .proto sources missing: run scripts/cli-setup.sh"
      : false;
  if (skip)
    process.stderr.write(
      `\n!!! CLI COMPILER TESTS ON CONTAINERD/NRI PROTOS SKIPPED: ${skip} !!!\n\n`,
    );

  test("containerd's .proto files: the pure-JS compiler's descriptors equal protoc's", {
    ...T,
    skip,
  }, async () => {
    assert.ok(existsSync(CONTAINERD_SRC), `${CONTAINERD_SRC} missing: run scripts/cli-setup.sh`);
    const c = "github.com/containerd/containerd";
    const files = [
      `${c}/api/runtime/task/v2/shim.proto`,
      `${c}/api/runtime/task/v3/shim.proto`,
      `${c}/api/runtime/sandbox/v1/sandbox.proto`,
      `${c}/api/services/ttrpc/events/v1/events.proto`,
      `${c}/api/events/task.proto`,
      `${c}/api/events/container.proto`,
      `${c}/api/types/fieldpath.proto`,
      `${c}/runtime/v2/runc/options/oci.proto`,
    ];
    assert.deepEqual(
      await compile(files, [CONTAINERD_SRC], "protobufjs"),
      await compile(files, [CONTAINERD_SRC], "protoc"),
    );
  });

  test("NRI's api.proto: the pure-JS compiler's descriptors equal protoc's", {
    ...T,
    skip,
  }, async () => {
    assert.ok(existsSync(NRI_SRC), `${NRI_SRC} missing: run scripts/cli-setup.sh`);
    const files = ["github.com/containerd/nri/pkg/api/api.proto"];
    assert.deepEqual(
      await compile(files, [NRI_SRC], "protobufjs"),
      await compile(files, [NRI_SRC], "protoc"),
    );
  });

  test(
    "built-in schemas: containerd's and NRI's services with no flags; --no-builtin leaves them out",
    T,
    async () => {
      const list = await ttrpc(["list"]);
      assert.equal(
        list.stdout,
        [
          "containerd.runtime.sandbox.v1.Sandbox",
          "containerd.services.events.ttrpc.v1.Events",
          "containerd.task.v2.Task",
          "containerd.task.v3.Task",
          "nri.pkg.api.v1alpha1.Plugin",
          "nri.pkg.api.v1alpha1.Runtime",
          "",
        ].join("\n"),
      );
      const methods = await ttrpc(["list", "containerd.task.v2.Task"]);
      for (const m of [
        "Connect",
        "Create",
        "Start",
        "State",
        "Kill",
        "Wait",
        "Delete",
        "Shutdown",
      ]) {
        assert.match(methods.stdout, new RegExp(`^containerd\\.task\\.v2\\.Task\\.${m}$`, "m"));
      }
      const d = await ttrpc([
        "describe",
        "containerd.task.v2.Task.Wait",
        "nri.pkg.api.v1alpha1.Plugin.Synchronize",
      ]);
      assert.ok(
        d.stdout.startsWith(
          "containerd.task.v2.Task.Wait is a method:\nrpc Wait ( .containerd.task.v2.WaitRequest ) returns ( .containerd.task.v2.WaitResponse );\n\nnri.pkg.api.v1alpha1.Plugin.Synchronize is a method:\n",
        ),
        d.stdout,
      );
      assert.match(
        d.stdout,
        /rpc Synchronize \( \.nri\.pkg\.api\.v1alpha1\.SynchronizeRequest \) returns \( \.nri\.pkg\.api\.v1alpha1\.SynchronizeResponse \);\n$/,
      );
      const tpl = await ttrpc(["describe", "--template", "containerd.task.v2.KillRequest"]);
      assert.deepEqual(JSON.parse(tpl.stdout), { id: "", execId: "", signal: 0, all: false });
      const none = await ttrpc([
        "list",
        "--no-builtin",
        "--proto",
        "interop.proto",
        "-I",
        PROTO_DIR,
      ]);
      assert.equal(none.stdout, "ttrpc.interop.v1.Interop\nttrpc.interop.v1.Streaming\n");
    },
  );
});
