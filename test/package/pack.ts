/**
 * Packs the workspace's packages the way a user gets them (`npm pack`, which runs `prepack`) and
 * installs the tarballs into scratch projects, for test/package/*.test.ts.
 *
 * Each package is packed from a copy of the workspace (its package folder, the root tsconfig and a
 * link to the root node_modules), so `prepack`'s rebuild never deletes the dist/ that other test
 * files of the same run are importing.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const root = fileURLToPath(new URL("../..", import.meta.url));

/** The root's TypeScript compiler (the scratch projects have none of their own). */
export const tsc = join(root, "node_modules", ".bin", "tsc");

/** A publishable workspace package. */
export interface WorkspacePackage {
  /** Folder under packages/. */
  dir: string;
  /** npm name. */
  name: string;
  /** package.json as parsed. */
  manifest: Record<string, unknown> & { scripts?: Record<string, string> };
}

/** Every packages/* folder whose package.json is not private, found at run time. */
export function workspacePackages(): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const dir of readdirSync(join(root, "packages")).sort()) {
    const file = join(root, "packages", dir, "package.json");
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, "utf8"));
    if (manifest.private !== true) out.push({ dir, name: manifest.name, manifest });
  }
  return out;
}

/** Runs a command, returning its exit status and combined output instead of throwing. */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): { status: number; output: string } {
  try {
    const output = execFileSync(cmd, args, {
      cwd,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    return { status: 0, output };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string; message: string };
    return {
      status: err.status ?? 1,
      output: `${err.stdout ?? ""}${err.stderr ?? ""}` || err.message,
    };
  }
}

/**
 * Packs each package from a copy under `work` (with scripts, so `prepack` builds it) into `dest`.
 * Returns npm name → tarball path.
 */
export function packAll(pkgs: WorkspacePackage[], work: string, dest: string): Map<string, string> {
  for (const file of ["package.json", "tsconfig.json"]) cpSync(join(root, file), join(work, file));
  symlinkSync(join(root, "node_modules"), join(work, "node_modules"));
  mkdirSync(dest, { recursive: true });
  const tarballs = new Map<string, string>();
  for (const pkg of pkgs) {
    const from = join(root, "packages", pkg.dir);
    const to = join(work, "packages", pkg.dir);
    cpSync(from, to, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|dist)$/.test(src),
    });
    // A package's own nested dependencies (ones npm could not hoist) stay reachable.
    if (existsSync(join(from, "node_modules"))) {
      symlinkSync(join(from, "node_modules"), join(to, "node_modules"));
    }
    const packed = run("npm", ["pack", "--json", "--pack-destination", dest], to);
    if (packed.status !== 0) throw new Error(`npm pack ${pkg.name} failed:\n${packed.output}`);
    const json = packed.output.slice(packed.output.indexOf("["));
    const [info] = JSON.parse(json) as { filename: string }[];
    if (!info) throw new Error(`npm pack ${pkg.name} printed no file name`);
    tarballs.set(pkg.name, join(dest, info.filename));
  }
  return tarballs;
}

/** The @types/node version the workspace uses, so the scratch install hits npm's cache. */
export function typesNodeVersion(): string {
  const file = join(root, "node_modules", "@types", "node", "package.json");
  return JSON.parse(readFileSync(file, "utf8")).version;
}

/**
 * The tsconfig a careful user has: strict, library declarations checked, nodenext resolution.
 * Sources in src/, JavaScript emitted to out/ (next to node_modules, so "ttrpc" resolves).
 */
export const strictTsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2023"],
    module: "nodenext",
    moduleResolution: "nodenext",
    types: ["node"],
    strict: true,
    skipLibCheck: false,
    rootDir: "src",
    outDir: "out",
  },
  include: ["src"],
};
