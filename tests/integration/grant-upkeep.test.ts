// The grants' upkeep jobs through the real service (buildApp) against the emulator: re-authorization
// nudges (a fresh authorization card through StartAuthorization and the card dispatcher, at most once
// a day per user, the event emitted) and the scheduled user-info sync. PGlite, or PostgreSQL with
// TEST_DATABASE_URL; the claims are also raced directly, as replicas would race them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdentitySyncStore } from "../../src/store/identity-sync-store.js";
import { createNudgeStore } from "../../src/store/nudge-store.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import {
  authorizedUser,
  byOpenId,
  eventsOf,
  eventually,
  grantRow,
  insertGrant,
  type LarkWorld,
  type ServiceUnderTest,
  startLarkWorld,
  startService,
} from "./grant-fixtures.js";

/** The sync's clock runs 400 days ahead: the yearly schedule's latest occurrence is after every grant here. */
const AHEAD_MS = 400 * 86_400_000;

let world: LarkWorld;
let t: TestDatabase;
let svc: ServiceUnderTest;

beforeAll(async () => {
  world = await startLarkWorld();
  t = await createTestDatabase();
  svc = await startService(
    world,
    t.db,
    { upkeep: { nudgeIntervalMs: 150, syncIntervalMs: 150, syncNow: () => new Date(Date.now() + AHEAD_MS) } },
    (c) => ({
      ...c,
      apps: c.apps.map((a) => ({ ...a, reauthorizationNudge: true })),
      options: { ...c.options, userInfoSyncCron: "0 0 1 1 *" },
    }),
  );
}, 60_000);
afterAll(async () => {
  await svc?.close();
  const logs = svc?.logs.join("\n") ?? "";
  for (const secret of world.secrets.filter(Boolean)) expect(logs).not.toContain(secret);
  await t?.close();
  await world?.emulator.close();
});

async function grantFor() {
  const who = await authorizedUser(world);
  const id = await insertGrant(t.db, world, who);
  return { ...who, id, ref: byOpenId(who.user.open_id) };
}

const sessionsOf = (openId: string) =>
  t.db
    .em()
    .execute<{ state: string }[]>(
      "select state from auth_session where app_id = ? and requested_user_value = ?",
      [world.app.app_id, openId],
    );

describe("re-authorization nudges", () => {
  it("a grant Lark ended gets one fresh authorization card, and the re-authorization event", async () => {
    const g = await grantFor();
    world.emulator.revokeGrant(g.user.open_id, world.app.app_id);
    await svc.client.refreshUserAccessToken({ appId: world.app.app_id, user: g.ref }).catch(() => {});
    expect((await grantRow(t.db, g.id))?.status).toBe("REAUTH_REQUIRED");
    await eventually(() => world.emulator.messagesOf(g.user.open_id).length > 0, 15_000);
    expect(await sessionsOf(g.user.open_id)).toEqual([{ state: "PENDING" }]);
    // The transition's event, once: the nudge adds the session's own SESSION_CREATED, not another.
    expect((await eventsOf(t.db, g.user.open_id)).map((e) => e.type)).toEqual(["REAUTHORIZATION_REQUIRED"]);
    // The day's nudge is taken: no replica can claim this user again.
    expect(
      await createNudgeStore(t.db).claimDue([world.app.app_id], { marginMs: 0, quietMs: 86_400_000 }, 100),
    ).toEqual([]);
    expect(world.emulator.messagesOf(g.user.open_id)).toHaveLength(1);
  });

  it("a refresh token near its expiry: event REFRESH_TOKEN_EXPIRING and a card, the grant still serves", async () => {
    const g = await grantFor();
    await t.db
      .em()
      .execute("update user_grant set refresh_expire_time = now() + interval '1 hour' where id = ?", [g.id]);
    await eventually(() => world.emulator.messagesOf(g.user.open_id).length > 0, 15_000);
    expect(await eventsOf(t.db, g.user.open_id)).toContainEqual({
      type: "REAUTHORIZATION_REQUIRED",
      reason: "REFRESH_TOKEN_EXPIRING",
    });
    const served = await svc.client.getUserAccessToken({ appId: world.app.app_id, user: g.ref });
    expect(served.token?.accessToken).toBe(g.tokens.accessToken);
    expect((await grantRow(t.db, g.id))?.status).toBe("ACTIVE");
  });

  it("replicas racing for the same users each claim a user at most once a day", async () => {
    const store = createNudgeStore(t.db);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await grantFor()).id);
    // Expiring, and already nudged more than a day ago: due again, but only to one claimer.
    await t.db.em().execute(
      `update user_grant set refresh_expire_time = now() + interval '1 hour',
         reauth_nudge_time = now() - interval '25 hours' where id = any(?::uuid[])`,
      [`{${ids.join(",")}}`],
    );
    const due = { marginMs: 12 * 3_600_000, quietMs: 86_400_000 };
    const batches = await Promise.all(Array.from({ length: 4 }, () => store.claimDue([], due, 100)));
    const claimed = batches.flat().filter((c) => ids.includes(c.grantId));
    // The service's own job may have taken some first; together, each grant exactly once.
    const byJob = await t.db
      .em()
      .execute<{ n: string }[]>(
        "select count(*) as n from user_grant where id = any(?::uuid[]) and reauth_nudge_time > now() - interval '1 hour'",
        [`{${ids.join(",")}}`],
      );
    expect(new Set(claimed.map((c) => c.grantId)).size).toBe(claimed.length);
    expect(Number(byJob[0]?.n)).toBe(ids.length);
    // A claim given back (its card failed) is due again; the fence keeps a stale give-back harmless.
    const [first] = claimed;
    if (first) {
      const [clock] = await t.db.em().execute<{ now: string }[]>("select now()::text as now");
      expect(clock?.now).toMatch(/^\d{4}-/);
      await store.unclaim(first);
      const again = await store.claimDue([], due, 100);
      // Claimed again: by this claimer, or by the service's own job that ran in between.
      const [row] = await t.db
        .em()
        .execute<{ fresh: boolean }[]>(
          "select reauth_nudge_time >= ? as fresh from user_grant where id = ?",
          [clock?.now, first.grantId],
        );
      expect(again.some((c) => c.grantId === first.grantId) || row?.fresh === true).toBe(true);
      await store.unclaim(first); // stale now: the newer claim stands
      const later = await store.claimDue([], due, 100);
      expect(later.map((c) => c.grantId)).not.toContain(first.grantId);
    }
  });
});

describe("scheduled user-info sync", () => {
  it("re-fetches every grant's identity from Lark once per occurrence, and stores it", async () => {
    const g = await grantFor();
    await t.db.em().execute("update user_grant set name = 'stale', email = null where id = ?", [g.id]);
    await eventually(async () => {
      const rows = await t.db
        .em()
        .execute<{ name: string }[]>("select name from user_grant where id = ?", [g.id]);
      return rows[0]?.name === g.user.name;
    }, 15_000);
    const info = await svc.client.getUserInfo({ appId: world.app.app_id, user: g.ref });
    expect(info.identity).toMatchObject({ name: g.user.name, email: g.user.email });
    // Claimed for this occurrence: another replica's sync finds nothing left to do.
    const occurrence = new Date(Date.UTC(new Date(Date.now() + AHEAD_MS).getUTCFullYear(), 0, 1));
    expect(await createIdentitySyncStore(t.db).claimUnsynced(occurrence, 1000)).toEqual([]);
  });

  it("replicas racing for one occurrence take disjoint grants, each once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await grantFor()).id);
    const later = new Date(Date.now() + 2 * AHEAD_MS); // an occurrence the service's own job never reaches
    const stores = Array.from({ length: 4 }, () => createIdentitySyncStore(t.db));
    const batches = await Promise.all(stores.map((s) => s.claimUnsynced(later, 3)));
    const again = await stores[0]?.claimUnsynced(later, 1000);
    const mine = [...batches.flat(), ...(again ?? [])].map((c) => c.grantId).filter((id) => ids.includes(id));
    expect(mine.sort()).toEqual([...ids].sort());
    expect(await stores[1]?.claimUnsynced(later, 1000)).toEqual([]);
  });
});
