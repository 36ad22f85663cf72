import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../src/store/data-dir-lock.js";
import { openDatabase } from "../../src/store/database.js";
import { AuthSessionSchema } from "../../src/store/entities/index.js";
import { currentOwner, formatOwner } from "../../src/store/lock-owner.js";
import { sessionToRow } from "../../src/store/session-mapper.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { buildSession, seedApp } from "../support/factories.js";

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
