// Shutdown of the whole token service while another client holds the database: the audit trail's
// last flush waits on a lock that is never released, and close() must still finish in bounded time.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRaw, createTestDatabase, type TestDatabase } from "../support/db.js";
import {
  authorizedUser,
  byOpenId,
  insertGrant,
  type LarkWorld,
  startLarkWorld,
  startService,
} from "./grant-fixtures.js";

/** startService's LARK_AUTH_SHUTDOWN_GRACE_MS. */
const GRACE_MS = 1_000;
/** What closing may take once the ports have drained (app.ts CLOSE_LIMIT_MS), plus the drain's own flush. */
const CLOSE_BUDGET_MS = 5_000 + 1_000;
/** Scheduling slack on a loaded machine; a hang is what this catches, not milliseconds. */
const SLACK_MS = 2_000;

let world: LarkWorld;
let t: TestDatabase;

beforeAll(async () => {
  world = await startLarkWorld();
  t = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await t?.close();
  await world?.emulator.close();
});

describe("closing the app while the database is held by someone else", () => {
  it("finishes within the grace period plus the close budget with token reads still to audit", async () => {
    const svc = await startService(world, t.db);
    const who = await authorizedUser(world);
    await insertGrant(t.db, world, who);
    const user = byOpenId(who.user.open_id);
    // The first read caches the grant; the audit row it buffers is written within one interval.
    await svc.client.getUserAccessToken({ appId: world.app.app_id, user });
    await new Promise((r) => setTimeout(r, 1_000));
    const other = await connectRaw(t.url);
    try {
      // Someone holds the audit table (PostgreSQL) or the whole session (embedded) and never lets go.
      await other.query("begin");
      await other.query("lock table token_access_audit in access exclusive mode");
      // Served from the cache; its audit row now waits for a flush that cannot happen.
      await svc.client.getUserAccessToken({ appId: world.app.app_id, user });
      await new Promise((r) => setTimeout(r, 1_000));
      const started = Date.now();
      const closed = await Promise.race([
        svc.close().then(() => "closed"),
        new Promise((r) => setTimeout(() => r("still closing"), GRACE_MS + CLOSE_BUDGET_MS + SLACK_MS)),
      ]);
      expect(closed).toBe("closed");
      expect(Date.now() - started).toBeLessThan(GRACE_MS + CLOSE_BUDGET_MS + SLACK_MS);
    } finally {
      await other.query("rollback").catch(() => {});
      await other.end().catch(() => {});
    }
  }, 60_000);
});
