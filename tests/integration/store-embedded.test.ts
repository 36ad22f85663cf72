import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../src/store/data-dir-lock.js";
import { openDatabase } from "../../src/store/database.js";
import { AuthSessionSchema } from "../../src/store/entities/index.js";
import { currentOwner, formatOwner } from "../../src/store/lock-owner.js";
import { sessionToRow } from "../../src/store/session-mapper.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { connectRaw } from "../support/db.js";
import { buildSession, seedApp } from "../support/factories.js";
import { bind, execute, parse, rawWire, sync } from "../support/pg-wire.js";

/** The embedded default: PGlite files in a data dir, served to the same driver, surviving restarts. */
describe("embedded database", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lark-auth-embedded-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps its data across close and reopen of the same data dir", async () => {
    const dataDir = join(dir, "nested", "data");
    const session = buildSession({ state: "AUTHORIZED", context: "survives" });
    const first = await openDatabase({ dataDir });
    expect(first.mode).toBe("embedded");
    await seedApp(first);
    await createSessionStore(first).insert(session);
    await first.close();

    const second = await openDatabase({ dataDir });
    try {
      expect(await second.migrationsPending()).toBe(0);
      expect(await createSessionStore(second).get(session.id)).toEqual(session);
    } finally {
      await second.close();
    }
  });

  it("refuses a data dir another open database holds, and takes over a dead process's lock", async () => {
    const dataDir = join(dir, "locked");
    const first = await openDatabase({ dataDir, migrate: false });
    try {
      await expect(openDatabase({ dataDir, migrate: false })).rejects.toThrow(/in use by process/);
    } finally {
      await first.close();
    }
    // pid 2^22 + 1 is above Linux's pid_max, so no live process owns it.
    await writeFile(join(dataDir, LOCK_FILE), formatOwner({ ...currentOwner(), pid: 4_194_305 }));
    const again = await openDatabase({ dataDir, migrate: false });
    await again.close();
  });

  it("serves concurrent units of work through a small pool without deadlock", async () => {
    const db = await openDatabase({ dataDir: join(dir, "concurrent"), poolSize: 2 });
    try {
      await seedApp(db);
      const store = createSessionStore(db);
      // Transactions on one connection queue the others' statements; all must still finish.
      // (Each writes through its own `em`: waiting inside it for another connection would deadlock.)
      const writes = Array.from({ length: 20 }, () =>
        db.em().transactional(async (em) => {
          await em.getConnection().execute("select pg_sleep(0.005)", [], "all", em.getTransactionContext());
          await em.insert(AuthSessionSchema, sessionToRow(buildSession()));
        }),
      );
      await Promise.all(writes);
      expect((await store.list({ appId: "cli_f000000000000001" }, 100)).sessions).toHaveLength(20);
      expect(await db.ping()).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("answers ping with false, not never, while a transaction holds the embedded database", async () => {
    const db = await openDatabase({ migrate: false });
    try {
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let began = () => {};
      const inside = new Promise<void>((resolve) => {
        began = resolve;
      });
      const tx = db.em().transactional(async (em) => {
        await em.execute("select 1");
        began();
        await held;
      });
      await inside;
      expect(await db.ping(300)).toBe(false);
      release();
      await tx;
      expect(await db.ping()).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("fails to open, rather than hang, when the server is unreachable", async () => {
    await expect(openDatabase({ url: "postgres://postgres@127.0.0.1:1/none" })).rejects.toThrow();
  });
});

/** Who can reach the embedded server: only this user, through a Unix socket in a 0700 directory. */
describe("embedded database socket", () => {
  /** Inodes of the TCP sockets this process listens on. */
  async function listeningTcpInodes(): Promise<Set<string>> {
    const inodes = new Set<string>();
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      const lines = (await readFile(table, "utf8").catch(() => "")).split("\n").slice(1);
      for (const line of lines) {
        const cols = line.trim().split(/\s+/);
        if (cols[3] === "0A") inodes.add(cols[9] as string); // 0A: LISTEN
      }
    }
    const mine = new Set<string>();
    for (const fd of await readdir("/proc/self/fd")) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) mine.add(inode);
    }
    return mine;
  }

  it.skipIf(process.platform !== "linux")(
    "listens on no TCP port, only on a socket in a 0700 directory",
    async () => {
      const before = await listeningTcpInodes();
      const db = await openDatabase({ migrate: false });
      try {
        expect(await listeningTcpInodes()).toEqual(before);
        const dir = new URL(db.url).searchParams.get("host") as string;
        expect((await stat(dir)).mode & 0o777).toBe(0o700);
        expect((await stat(join(dir, ".s.PGSQL.5432"))).isSocket()).toBe(true);
        expect(await db.em().execute("select 1 as one")).toEqual([{ one: 1 }]);
      } finally {
        await db.close();
      }
    },
  );

  it("keeps one connection's extended-query group whole while another connection queries", async () => {
    const db = await openDatabase({ migrate: false });
    const other = await connectRaw(db.url);
    const wire = await rawWire(new URL(db.url).searchParams.get("host") as string);
    try {
      // Parse now, Bind/Execute/Sync later: the other connection's statement must not slip in
      // between and replace the unnamed statement this Bind refers to.
      wire.send(parse("select 41 + 1 as v"));
      await new Promise((r) => setTimeout(r, 100));
      const theirs = other.query("select $1::int as v", [7]);
      await new Promise((r) => setTimeout(r, 100));
      wire.send(Buffer.concat([bind(), execute(), sync()]));
      expect(await wire.untilReady()).toContain("42");
      expect((await theirs).rows[0]?.v).toBe(7);
    } finally {
      wire.close();
      await other.end();
      await db.close();
    }
  });
});
