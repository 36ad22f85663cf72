// Several service instances (buildApp) sharing one PostgreSQL database, as replicas do: one refresh per
// grant across all of them, everybody gets the committed pair, and a revoke on one is seen by all.
// PostgreSQL only: the embedded database belongs to one process.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/store/database.js";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase, testServerUrl } from "../support/db.js";
import {
  authorizedUser,
  byOpenId,
  insertGrant,
  type LarkWorld,
  type ServiceUnderTest,
  startLarkWorld,
  startService,
  tokenCalls,
} from "./grant-fixtures.js";

const server = testServerUrl();

describe.skipIf(skipWithoutPostgres("grant-multi-instance"))("three instances on one PostgreSQL", () => {
  let world: LarkWorld;
  let t: TestDatabase;
  const dbs: Database[] = [];
  const services: ServiceUnderTest[] = [];

  beforeAll(async () => {
    world = await startLarkWorld();
    t = await createTestDatabase();
    for (let i = 0; i < 3; i++) {
      const db = i === 0 ? t.db : await openDatabase({ url: t.url, poolSize: 4, migrate: false });
      if (i > 0) dbs.push(db);
      services.push(await startService(world, db, {}));
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of services) await s.close();
    for (const db of dbs) await db.close();
    await t?.close();
    await world?.emulator.close();
  });

  it("50 concurrent calls for one expiring grant make exactly one refresh, and all get the same new token (rounds)", async () => {
    for (let round = 0; round < 8; round++) {
      const who = await authorizedUser(world);
      await insertGrant(t.db, world, who, { ageSeconds: 7000, leftSeconds: 200 });
      const before = tokenCalls(world);
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          services[i % 3]?.client.getUserAccessToken({
            appId: world.app.app_id,
            user: byOpenId(who.user.open_id),
            minValidSeconds: 1000,
          }),
        ),
      );
      const tokens = new Set(answers.map((a) => a?.token?.accessToken));
      expect(tokens.size, `round ${round}`).toBe(1);
      expect([...tokens][0]).not.toBe(who.tokens.accessToken);
      expect(tokenCalls(world) - before, `round ${round}`).toBe(1);
      world.secrets.push(...([...tokens] as string[]));
    }
  }, 120_000);

  it("a revoke on one instance: no instance serves the old token afterwards", async () => {
    const who = await authorizedUser(world);
    await insertGrant(t.db, world, who);
    const user = byOpenId(who.user.open_id);
    // Every instance has the grant in its cache.
    for (const s of services) await s.client.getUserAccessToken({ appId: world.app.app_id, user });
    const revoked = await services[0]?.client.revokeUserAuthorization({ appId: world.app.app_id, user });
    expect(revoked?.revoked).toBe(true);
    for (const s of services) {
      const err = await s.client.getUserAccessToken({ appId: world.app.app_id, user }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.FailedPrecondition);
    }
  });

  it("a refresh on one instance replaces the cached token on the others", async () => {
    const who = await authorizedUser(world);
    await insertGrant(t.db, world, who);
    const user = byOpenId(who.user.open_id);
    for (const s of services) await s.client.getUserAccessToken({ appId: world.app.app_id, user });
    const fresh = await services[1]?.client.refreshUserAccessToken({ appId: world.app.app_id, user });
    world.secrets.push(fresh?.token?.accessToken ?? "");
    // NOTIFY arrives asynchronously on the other replicas: allow it a moment.
    for (const s of services) {
      let served: string | undefined;
      for (let i = 0; i < 40 && served !== fresh?.token?.accessToken; i++) {
        served = (await s.client.getUserAccessToken({ appId: world.app.app_id, user })).token?.accessToken;
        if (served !== fresh?.token?.accessToken) await new Promise((r) => setTimeout(r, 25));
      }
      expect(served).toBe(fresh?.token?.accessToken);
    }
  });
});
