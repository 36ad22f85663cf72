import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../support/net.js";

const run = promisify(execFile);

/** A PostgreSQL server a test starts itself, so it can stop and restart it mid-stream. */
export interface OwnPostgres {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function binDir(): string | undefined {
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort();
    const latest = versions.at(-1);
    return latest ? `/usr/lib/postgresql/${latest}/bin` : undefined;
  } catch {
    return undefined;
  }
}

/** True when the Debian PostgreSQL binaries are installed (CI installs them). */
export function canRunOwnPostgres(): boolean {
  return binDir() !== undefined;
}

/** PostgreSQL refuses to run as root: as root, its tools run as the `postgres` user. */
function asServerUser(bin: string, args: string[]) {
  const root = process.getuid?.() === 0;
  return root ? run("runuser", ["-u", "postgres", "--", bin, ...args]) : run(bin, args);
}

/** initdb into a fresh temp dir (trust auth, loopback only) and start it on a free port. */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = binDir() as string;
  const dir = mkdtempSync(join(tmpdir(), "lark-auth-pg-"));
  if (process.getuid?.() === 0)
    chownSync(
      dir,
      Number((await run("id", ["-u", "postgres"])).stdout),
      Number((await run("id", ["-g", "postgres"])).stdout),
    );
  const data = join(dir, "data");
  await asServerUser(`${bin}/initdb`, ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => {
    await asServerUser(`${bin}/pg_ctl`, ["-D", data, "-o", opts, "-w", "-l", join(dir, "log"), "start"]);
  };
  const stop = async () => {
    await asServerUser(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
