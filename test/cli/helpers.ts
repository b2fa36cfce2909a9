/**
 * Running the `ttrpc` command as a child process, the way a user does, from its TypeScript sources
 * (packages/cli/src/cli.ts through tsx, the workspace packages through the ttrpc-source condition).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(REPO, "packages/cli/src/cli.ts");
/** tsx's loader by absolute URL, so the CLI also starts from another working directory. */
export const TSX = import.meta.resolve("tsx");
/** The node arguments that run the CLI from its sources. */
export const NODE_ARGS = ["--conditions=ttrpc-source", "--import", TSX, CLI];
export const PROTO_DIR = join(REPO, "test/interop/proto");
/** The interop schema as --proto flags. */
export const INTEROP = ["--proto", "interop.proto", "-I", PROTO_DIR];
/** PATH with node_modules/.bin first: `protoc` is then the npm package's (a devDependency). */
export const PATH_WITH_PROTOC = `${join(REPO, "node_modules/.bin")}:${process.env.PATH ?? ""}`;
/**
 * A PATH with no protoc or buf, so --compiler auto falls back to protobufjs (the CLI runs
 * process.execPath and needs nothing else from PATH).
 */
export const PATH_WITHOUT_COMPILERS = "/nonexistent-ttrpc-cli-path";

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) if (c.exitCode === null) c.kill("SIGKILL");
});

/** What a finished run printed and returned. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link ttrpc}. */
export interface RunOptions {
  /** Written to stdin, which is then closed; stdin is /dev/null without it. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (and the promise rejects) after this long; default 30 s. */
  timeoutMs?: number;
}

/** Spawns the CLI with argv, leaving stdio to the caller. */
export function spawnCli(argv: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(
    process.execPath,
    ["--conditions=ttrpc-source", "--import", "tsx", CLI, ...argv],
    {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Runs the CLI to the end. */
export function ttrpc(argv: string[], options: RunOptions = {}): Promise<Run> {
  const child = spawnCli(argv, options.env);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdin?.on("error", () => {});
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`ttrpc ${argv.join(" ")} did not finish; stdout: ${stdout} stderr: ${stderr}`),
      );
    }, options.timeoutMs ?? 30_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running CLI (tap): its output lines as they come, and a way to stop it. */
export interface Running {
  child: ChildProcess;
  lines: string[];
  stderr(): string;
  /** Resolves with the first line (stdout or stderr) that matches. */
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/** Starts a long-running verb. */
export function start(argv: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawnCli(argv, env);
  child.stdin?.end();
  const lines: string[] = [];
  let err = "";
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  const push = (line: string) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.pred(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  if (child.stdout) createInterface({ input: child.stdout }).on("line", push);
  if (child.stderr) {
    createInterface({ input: child.stderr }).on("line", (l) => {
      err += `${l}\n`;
      push(l);
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (code) => resolve(code)),
  );
  return {
    child,
    lines,
    stderr: () => err,
    waitFor(pred, timeoutMs = 20_000) {
      const seen = lines.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching line; got:\n${lines.join("\n")}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** The JSON error line a failed call printed on stderr. */
export function statusOf(run: Run): {
  code: number;
  name: string;
  message: string;
  details?: unknown[];
  hint?: string;
} {
  const line = run.stderr.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`stderr is not a status line: ${run.stderr}`);
  }
}

/** Fails unless a run printed exactly one line on stderr and no stack trace. */
export function oneLine(run: Run): string {
  const lines = run.stderr.trim().split("\n");
  if (lines.length !== 1 || /\n\s+at /.test(run.stderr)) {
    throw new Error(`expected one stderr line, got:\n${run.stderr}`);
  }
  return lines[0] as string;
}
