import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

const LOCK_FILE = "lark-auth.lock";

/** Data dirs this process holds: a pid check alone cannot tell them from a lock left by a restarted container's pid 1. */
const heldHere = new Set<string>();

/**
 * Claims `dir` for this process until the returned release runs. PGlite itself lets two processes
 * open the same files (measured), and two writers would corrupt them, so a second service on the
 * same LARK_AUTH_DATA_DIR fails at start-up instead. A lock left by a process that died is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  if (heldHere.has(path)) throw inUse(dir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, "wx");
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      heldHere.add(path);
      return async () => {
        heldHere.delete(path);
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (owner > 0 && owner !== process.pid && isAlive(owner)) throw inUse(dir, owner);
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not lock the data dir ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function inUse(dir: string, pid: number): Error {
  return new Error(
    `the data dir ${dir} is in use by process ${pid}; two services cannot share embedded files`,
  );
}
