// The background refresher: a thousand grants due at once are all refreshed, once each, while Lark's
// token endpoint (the emulator, enforcing the documented 50/s) never answers with a rate limit.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGrantRefresher } from "../../src/domain/grants/refresh.js";
import { createGrantRefresherJob } from "../../src/jobs/grant-refresher.js";
import { createRateLimiter } from "../../src/jobs/rate-limiter.js";
import { createInProcessNotifier } from "../../src/store/grant-notifier.js";
import { createGrantStore } from "../../src/store/grant-store.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { seedApp } from "../support/factories.js";
import { authorizedUser, insertGrant, type LarkWorld, startLarkWorld, tokenCalls } from "./grant-fixtures.js";

const GRANTS = 1000;

describe("background refresher", () => {
  let world: LarkWorld;
  let t: TestDatabase;

  beforeAll(async () => {
    world = await startLarkWorld();
    t = await createTestDatabase();
    await seedApp(t.db, { appId: world.app.app_id, domain: world.emulator.url });
    const pending = Array.from({ length: GRANTS }, (_, i) => i);
    const workers = Array.from({ length: 16 }, async () => {
      while (pending.pop() !== undefined) {
        const who = await authorizedUser(world);
        await insertGrant(t.db, world, who, { ageSeconds: 7000, leftSeconds: 200 });
      }
    });
    await Promise.all(workers);
    // From here on, Lark's documented per-second limit applies (the per-minute one is left high so
    // the test runs in about twenty seconds instead of a minute and a half).
    world.emulator.configure({ rate_limit_per_second: 50, rate_limit_per_minute: 1_000_000 });
    // Let the seeding's own calls leave the emulator's one-second window first.
    await new Promise((r) => setTimeout(r, 1500));
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await world?.emulator.close();
  });

  it("refreshes a thousand grants due together once each, below the limit, with no rate-limit answer", async () => {
    const changes = createInProcessNotifier();
    const store = createGrantStore(t.db, world.sealer, changes.publish);
    const refresher = createGrantRefresher({
      store,
      lark: world.gateway,
      changes,
      clock: { now: () => new Date() },
      instanceId: randomBytes(4).toString("hex"),
    });
    const job = createGrantRefresherJob({
      store,
      refresher,
      // 0.8 of the default headroom 0.9 of Lark's 50/s, as app.ts budgets the refresher.
      limiter: createRateLimiter({ windows: [{ limit: 36, windowMs: 1000 }] }),
      policy: { threshold: 0.8 },
      logger: { error() {}, warn() {}, info() {}, debug() {} },
      instanceId: "job",
      leaseMs: 60_000,
    });
    const before = tokenCalls(world);
    const started = Date.now();
    const stop = new AbortController();
    for (let tick = 0; tick < 20; tick++) {
      await job.run(stop.signal);
      const [left] = await t.db
        .em()
        .execute<{ n: string }[]>("select count(*) as n from user_grant where last_refresh_time is null");
      if (Number(left?.n) === 0) break;
    }
    const seconds = (Date.now() - started) / 1000;
    const calls = tokenCalls(world) - before;
    const [stats] = await t.db.em().execute<{ refreshed: string; failed: string; active: string }[]>(
      `select count(*) filter (where last_refresh_time is not null) as refreshed,
         count(*) filter (where consecutive_refresh_failures > 0) as failed,
         count(*) filter (where status = 'ACTIVE') as active from user_grant`,
    );
    console.info(
      `refresh storm: ${GRANTS} grants in ${seconds.toFixed(1)} s = ${(calls / seconds).toFixed(1)}/s (limit 50/s)`,
    );
    // Exactly one call per grant: a rate-limit answer would have cost a retry, hence an extra call.
    expect(calls).toBe(GRANTS);
    expect(Number(stats?.refreshed)).toBe(GRANTS);
    // A 429 (or any failure) would have been recorded on the grant as a failed attempt.
    expect(Number(stats?.failed)).toBe(0);
    expect(Number(stats?.active)).toBe(GRANTS);
    // A second pass finds nothing due.
    await job.run(stop.signal);
    expect(tokenCalls(world) - before).toBe(GRANTS);
  }, 180_000);
});
