import { describe, expect, it } from "vitest";
import { connectRaw, createTestDatabase } from "../support/db.js";

const LIMIT_MS = 2_000;
/** Scheduling slack on a loaded machine; a hang is what this catches, not milliseconds. */
const SLACK_MS = 1_500;

describe("closing the database", () => {
  it("resolves within its limit while a transaction is held open and a statement waits behind it", async () => {
    const t = await createTestDatabase();
    const other = await connectRaw(t.url);
    try {
      // Another connection holds a lock (PostgreSQL) or the session (embedded) for good...
      await other.query("begin");
      await other.query("lock table lark_app in access exclusive mode");
      // ...our pool has a statement waiting behind it, and a transaction of ours never ends.
      const waiting = t.db
        .em()
        .getConnection()
        .execute("select count(*) from lark_app")
        .catch((e) => e);
      const held = t.db
        .em()
        .transactional(async (em) => {
          await em.execute("select 1");
          await new Promise(() => {});
        })
        .catch((e) => e);
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await t.db.close(LIMIT_MS);
      expect(Date.now() - started).toBeLessThan(LIMIT_MS + SLACK_MS);
      expect(await t.db.ping(200)).toBe(false);
      void waiting;
      void held;
    } finally {
      await other.end().catch(() => {});
      await t.close();
    }
  });
});
