import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { scan } from "../setup/scan-state.js";

/** The repository root, so the child runs exactly as `npm start` does there. */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The project's own Node (24, from the `node` devDependency), never whatever is on the PATH. */
export const PROJECT_NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The service running as a real OS process, with everything it printed so far. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  /** The stdout lines that are JSON log records, parsed. */
  logRecords(): Record<string, unknown>[];
  /** Resolves with the first match of `pattern` in stdout; rejects on timeout or early exit. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and waits for the exit, failing after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** Last-resort cleanup: SIGKILL if it is still running. */
  kill(): void;
}

/** How to run: another Node binary (an old one, to test the guard), extra Node flags, another entry. */
export interface SpawnOptions {
  readonly node?: string;
  readonly nodeArgs?: readonly string[];
  /** Relative to the repository root; default `src/main.ts`. */
  readonly entry?: string;
}

/**
 * Spawns `node --import tsx src/main.ts` with only `env` (plus PATH and HOME): no LARK_* or
 * DATABASE_URL leaks in from the test runner's environment.
 */
export function spawnService(env: Record<string, string>, opts: SpawnOptions = {}): ServiceProcess {
  const args = [...(opts.nodeArgs ?? []), "--import", "tsx", opts.entry ?? "src/main.ts"];
  const child = spawn(opts.node ?? PROJECT_NODE, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const scanned = scanChildLogs(env);
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    scanned(chunk);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  // stdio may still hold the last lines when "exit" fires; "close" comes after both ends drain.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let done = false;
  void exited.then(() => {
    done = true;
  });

  const waitForOutput = async (pattern: RegExp, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(out);
      if (match) return match;
      if (done) throw new Error(`exited before printing ${pattern}:\n${out}\n${err}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${out}\n${err}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const stop = async (signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000) => {
    if (!done) child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
    });
    try {
      const exit = await Promise.race([exited, timeout]);
      await closed;
      return exit;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    child,
    exited: exited.then(async (exit) => {
      await closed;
      return exit;
    }),
    stdout: () => out,
    stderr: () => err,
    logRecords: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    waitForOutput,
    stop,
    kill: () => {
      if (!done) child.kill("SIGKILL");
    },
  };
}

/** Environment variables holding secrets: their values (and encryption keys' material) are canaries. */
const SECRET_ENV = /SECRET|_KEY$|_KEYS$|TOKEN|PASSWORD/;

/**
 * Hands the child's JSON log lines to the suite's secret scan (tests/setup/suite-scan.ts), with the
 * secrets it was given as canaries. Other lines are left out: the sandbox banner prints the dev
 * caller key on purpose.
 */
function scanChildLogs(env: Record<string, string>): (chunk: string) => void {
  for (const [name, value] of Object.entries(env)) {
    if (!SECRET_ENV.test(name) || name === "LARK_AUTH_CALLER_KEYS") continue; // Those are hashes.
    for (const part of value.split(",")) scan.ledger.secret(part.slice(part.indexOf("=") + 1), name);
  }
  let pending = "";
  return (chunk) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line.startsWith("{")) scan.ledger.output("log", line);
  };
}
