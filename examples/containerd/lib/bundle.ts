// OCI bundles for the examples: `runc spec` writes runc's own default config.json, which is then
// adjusted (no terminal, our command, an absolute rootfs, a cgroup path per namespace/id).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./util.js";

export interface BundleOptions {
  /** The bundle directory (created). */
  dir: string;
  /** Absolute path of the root filesystem (for example the busybox rootfs of containerd-setup.sh). */
  rootfs: string;
  /** The container's command. */
  args: readonly string[];
  /** cgroupsPath in the spec, `/<namespace>/<id>` as containerd sets it. */
  cgroupsPath?: string;
  hostname?: string;
  runc?: string;
}

/** Writes `<dir>/config.json` and returns the spec. */
export async function createBundle(options: BundleOptions): Promise<Record<string, unknown>> {
  await mkdir(options.dir, { recursive: true });
  await run(options.runc ?? "runc", ["spec", "--bundle", options.dir]);
  const path = join(options.dir, "config.json");
  const spec = JSON.parse(await readFile(path, "utf8")) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
    hostname?: string;
    linux: { cgroupsPath?: string };
  };
  spec.process.terminal = false;
  spec.process.args = [...options.args];
  spec.root = { path: options.rootfs, readonly: true };
  spec.hostname = options.hostname ?? "ttrpc-ts";
  if (options.cgroupsPath) spec.linux.cgroupsPath = options.cgroupsPath;
  await writeFile(path, `${JSON.stringify(spec, null, 2)}\n`);
  return spec as unknown as Record<string, unknown>;
}

/** Where containerd-setup.sh put things, overridable through the environment. */
export function cachePaths(): { cache: string; rootfs: string; containerd17Bin: string } {
  const cache = process.env.TTRPC_CACHE ?? join(process.env.HOME ?? "/root", ".cache/ttrpc-ts");
  return {
    cache,
    rootfs: process.env.TTRPC_ROOTFS ?? join(cache, "rootfs"),
    containerd17Bin: process.env.TTRPC_CONTAINERD17_BIN ?? join(cache, "containerd17/usr/bin"),
  };
}
