/**
 * A scratch project for one document's code blocks: the blocks as files, the workspace's
 * node_modules linked in (so `ttrpc`, `@ttrpc/*` and `@bufbuild/protobuf` resolve as they do for
 * the examples), the demo's generated code as `gen/` (the README's `./gen/demo_pb.js`), a strict
 * tsconfig; then type-check it and run blocks with tsx.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Block, isTypeScript, root } from "./markdown.js";

/** Where a block went: its file in the project and its place in the document. */
export interface Placed {
  block: Block;
  file: string;
}

/** A strict configuration for blocks that bring none (the workspace's packages from source). */
const defaultTsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2023"],
    module: "nodenext",
    moduleResolution: "nodenext",
    types: ["node"],
    customConditions: ["ttrpc-source"],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  },
};

/** The scratch project of one document. */
export class DocProject {
  readonly dir = mkdtempSync(join(tmpdir(), "ttrpc-docs-"));
  readonly placed: Placed[] = [];
  /** True when a block supplied tsconfig.json (the guide's own settings, resolving dist/). */
  ownTsconfig = false;
  readonly #children = new Set<ChildProcess>();

  constructor(blocks: Block[]) {
    symlinkSync(join(root, "node_modules"), join(this.dir, "node_modules"));
    cpSync(join(root, "examples", "gen"), join(this.dir, "gen"), { recursive: true });
    this.write("package.json", `${JSON.stringify({ private: true, type: "module" })}\n`);
    const stem = (b: Block) => b.doc.replace(/[^\w]+/g, "-").replace(/-md$/, "");
    for (const block of blocks) {
      const compiled = isTypeScript(block) && block.notCompiled === undefined;
      if (!compiled && block.file === undefined) continue;
      const file = block.file ?? `${stem(block)}-L${block.line}.ts`;
      if (file === "tsconfig.json") this.ownTsconfig = true;
      this.write(file, block.code);
      this.placed.push({ block, file });
    }
    if (!this.ownTsconfig) {
      const include = this.placed.filter((p) => isTypeScript(p.block)).map((p) => p.file);
      this.write("tsconfig.json", JSON.stringify({ ...defaultTsconfig, files: include }, null, 2));
    }
  }

  write(file: string, text: string): void {
    mkdirSync(dirname(join(this.dir, file)), { recursive: true });
    writeFileSync(join(this.dir, file), text);
  }

  /** Type-checks; returns each error with the document line it comes from. */
  typecheck(): string[] {
    const tsc = join(root, "node_modules", ".bin", "tsc");
    let output = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", ".", "--noEmit", "--pretty", "false"], {
        cwd: this.dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 120_000,
      });
      return [];
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      output = `${err.stdout ?? ""}${err.stderr ?? ""}` || err.message;
    }
    return output
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(l);
        const placed = m && this.placed.find((p) => p.file === m[1]);
        if (!m || !placed) return l;
        const line = placed.block.line + Number(m[2]);
        return `${placed.block.doc}:${line}: ${m[4]}`;
      });
  }

  /**
   * Runs a TypeScript block with tsx. A background block resolves once it printed its first line
   * (it keeps running until dispose()); others resolve with their output when they exit 0.
   */
  run(p: Placed, timeoutMs = 30_000): Promise<string> {
    const args = ["--import", "tsx", p.file];
    if (!this.ownTsconfig) args.unshift("--conditions=ttrpc-source");
    const child = spawn(process.execPath, args, {
      cwd: this.dir,
      env: { ...process.env, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#children.add(child);
    let out = "";
    const where = `${p.block.doc}:${p.block.line}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${where}: timed out after ${timeoutMs} ms\n${out}`));
      }, timeoutMs);
      child.stdout?.on("data", (d) => {
        out += d;
        if (p.block.run?.background && out.includes("\n")) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.stderr?.on("data", (d) => {
        out += d;
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`${where}: exit ${code ?? signal}\n${out}`));
      });
    });
  }

  /** Runs a shell command line in the project (the guide's generation commands). */
  shell(command: string): string {
    return execFileSync("bash", ["-c", command], {
      cwd: this.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
  }

  /** Stops what is still running and removes the project. */
  async dispose(): Promise<void> {
    for (const child of this.#children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
