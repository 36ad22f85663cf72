import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_FILE, lockDataDir, STALE_AFTER_MS } from "../../src/store/data-dir-lock.js";
import { currentOwner, formatOwner, type LockOwner } from "../../src/store/lock-owner.js";
import { PROJECT_NODE, REPO_ROOT } from "../support/service-process.js";

/** pid 2^22 + 1 is above Linux's pid_max, so no live process owns it. */
const DEAD_PID = 4_194_305;
const RACERS = 6;
const ROUNDS = 4;

/** Writes a lock as `owner` would have, as if that process had been killed -9. */
async function leaveLock(dir: string, owner: Partial<LockOwner>): Promise<string> {
  const path = join(dir, LOCK_FILE);
  await writeFile(path, formatOwner({ ...currentOwner(), ...owner }));
  return path;
}

/** Starts `n` racer processes, lets them all load, then fires them at once; returns each outcome. */
async function race(dir: string, n: number): Promise<string[]> {
  const children = Array.from({ length: n }, () =>
    spawn(PROJECT_NODE, ["--import", "tsx", "tests/support/lock-racer.ts", dir], {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const outputs = children.map((c) => {
    let out = "";
    c.stdout.on("data", (d) => {
      out += d;
    });
    return () => out;
  });
  try {
    await Promise.all(children.map((c) => once(c.stdout, "data")));
    for (const c of children) c.stdin.write("go\n");
    await waitFor(() => outputs.every((o) => /won|lost/.test(o())));
    return outputs.map((o) => o().replace("ready\n", "").trim());
  } finally {
    for (const c of children) c.stdin.end();
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, "exit") : undefined)));
  }
}

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("racers did not finish in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("data-dir lock", () => {
  let root: string;
  let n = 0;
  const freshDir = async () => mkdtemp(join(root, `d${n++}-`));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "lark-auth-lock-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("lets exactly one of many processes take over a stale lock, round after round", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = await freshDir();
      await leaveLock(dir, { pid: DEAD_PID, start: "1" });
      const outcomes = await race(dir, RACERS);
      expect(
        outcomes.filter((o) => o === "won"),
        outcomes.join("\n"),
      ).toHaveLength(1);
      for (const o of outcomes.filter((x) => x !== "won")) expect(o).toMatch(/^lost .*in use by process/);
    }
  }, 120_000);

  it("never takes over a lock written on another host, and says how to remove it", async () => {
    const dir = await freshDir();
    const path = await leaveLock(dir, { host: "other-host", pid: DEAD_PID });
    await expect(lockDataDir(dir)).rejects.toThrow(`rm ${path}`);
    const other = await leaveLock(dir, { boot: "another-boot", pid: DEAD_PID });
    await expect(lockDataDir(dir)).rejects.toThrow(/another host or boot/);
    expect(await readFile(other, "utf8")).toContain("another-boot");
  });

  it("takes over a lock holding its own pid from another start (a restarted container's pid 1)", async () => {
    const dir = await freshDir();
    await leaveLock(dir, { start: "1" });
    const release = await lockDataDir(dir);
    try {
      expect(JSON.parse(await readFile(join(dir, LOCK_FILE), "utf8"))).toEqual(currentOwner());
      // The same process opening it twice is still refused: its own pid is alive and is the holder.
      await expect(lockDataDir(dir)).rejects.toThrow(/in use by process/);
    } finally {
      await release();
    }
  });

  it("judges a lock from another pid namespace on this machine by its heartbeat", async () => {
    const dir = await freshDir();
    // Pid 1 of another container on this host with the same hostname: its pid is not checkable here.
    const path = await leaveLock(dir, { pidNs: "pid:[1]", pid: 1, start: "1" });
    await expect(lockDataDir(dir)).rejects.toThrow(/in use by process 1/);
    const old = new Date(Date.now() - STALE_AFTER_MS - 5_000);
    await utimes(path, old, old);
    const release = await lockDataDir(dir);
    await release();
  });

  it("refuses a live holder and releases only its own lock", async () => {
    const dir = await freshDir();
    const release = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(/in use/);
    await release();
    await release();
    const again = await lockDataDir(dir);
    await again();
  });
});
