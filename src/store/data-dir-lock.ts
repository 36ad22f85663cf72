import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, rename, rm, rmdir, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  currentOwner,
  formatOwner,
  isDeadHere,
  type LockOwner,
  parseOwner,
  sameMachine,
} from "./lock-owner.js";

export const LOCK_FILE = "lark-auth.lock";

/** The holder touches its lock this often, so a lock from another pid namespace can be judged by age. */
export const HEARTBEAT_MS = 5_000;
/** A lock from another container on this machine is stale once its heartbeat is this old. */
export const STALE_AFTER_MS = 30_000;
/** A takeover takes milliseconds; a takeover marker older than this was left by a crash. */
const TAKEOVER_STALE_MS = 10_000;
const MAX_ATTEMPTS = 200;

/** Data dirs this process holds: a second open here must fail even though the lock names a live pid. */
const heldHere = new Set<string>();

/**
 * Claims `dir` for this process until the returned release runs. PGlite lets two processes open
 * the same files, and two writers corrupt them, so a second service on one LARK_AUTH_DATA_DIR must
 * fail at start-up. The lock file is created atomically with its full content (link of a private
 * temp file: never seen half-written) and records host, boot, pid namespace, pid and start time.
 * A lock is taken over only when provably stale: same machine and boot, and either its process is
 * gone (same pid namespace) or its heartbeat stopped (another container on this machine). A lock
 * from another host or boot is never taken over: the error says how to remove it by hand.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const me = currentOwner();
  if (heldHere.has(path)) throw inUse(dir, me);
  const mine = formatOwner(me);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await createExclusive(path, mine)) {
      // Verify: a takeover racing with us must not have removed what we just created.
      if ((await readOrEmpty(path)) !== mine) throw new Error(`lost the lock on ${dir} while taking it`);
      heldHere.add(path);
      return holdUntilReleased(path, mine);
    }
    const text = await readOrEmpty(path);
    if (text === "") continue; // removed between our attempt and the read: try again
    await assertStale(path, text, me, dir);
    await takeOver(path, text);
  }
  throw new Error(`could not lock the data dir ${dir}: the lock keeps changing hands`);
}

/** True when `text` was created at `path` by us; false when a lock is already there. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** Returns only when the lock `text` may be taken over; throws when it is live or cannot be judged from here. */
async function assertStale(path: string, text: string, me: LockOwner, dir: string): Promise<void> {
  const owner = parseOwner(text);
  if (owner === undefined || !sameMachine(owner, me)) throw foreign(dir, path, text);
  if (owner.pidNs === me.pidNs || owner.pidNs === "" || me.pidNs === "") {
    if (isDeadHere(owner)) return;
    throw inUse(dir, owner);
  }
  const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
  if (age <= STALE_AFTER_MS) throw inUse(dir, owner);
}

/**
 * Removes the stale lock `text` so the caller can retry the exclusive create. Only one racer at a
 * time gets the takeover marker (mkdir is atomic), and it removes the lock only if it still holds
 * exactly `text`: removal by path alone could delete the fresh lock of a faster racer.
 */
async function takeOver(path: string, text: string): Promise<void> {
  const marker = `${path}.takeover`;
  try {
    await mkdir(marker);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const age = Date.now() - (await stat(marker).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > TAKEOVER_STALE_MS) await rm(marker, { recursive: true, force: true });
    else await delay(5);
    return;
  }
  try {
    if ((await readOrEmpty(path)) !== text) return;
    const aside = `${path}.${randomUUID()}.stale`;
    await rename(path, aside);
    await unlink(aside);
  } finally {
    await rmdir(marker).catch(() => {});
  }
}

/** Keeps the heartbeat going; the release removes the lock only while it is still ours. */
function holdUntilReleased(path: string, mine: string): () => Promise<void> {
  const beat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(beat);
    heldHere.delete(path);
    if ((await readOrEmpty(path)) === mine) await rm(path, { force: true });
  };
}

async function readOrEmpty(path: string): Promise<string> {
  return readFile(path, "utf8").catch(() => "");
}

function inUse(dir: string, owner: LockOwner): Error {
  return new Error(
    `the data dir ${dir} is in use by process ${owner.pid} on ${owner.host}; two services cannot share embedded files`,
  );
}

function foreign(dir: string, path: string, text: string): Error {
  const owner = parseOwner(text);
  const who =
    owner === undefined ? "an unknown owner" : `process ${owner.pid} on ${owner.host} (another host or boot)`;
  return new Error(
    `the data dir ${dir} is locked by ${who}, which this machine cannot check. ` +
      `If no service uses ${dir} any more, remove the lock by hand: rm ${path}`,
  );
}
