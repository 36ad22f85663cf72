// TokenService end to end: the real service (buildApp) on a test database (PGlite, or PostgreSQL with
// TEST_DATABASE_URL), the real gateway and the Lark emulator. Grants are written the way the
// authorization flow writes them (grant-fixtures.ts).
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { RefreshClaim } from "../../src/domain/grants/grant.js";
import { LarkError } from "../../src/domain/lark-error.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import {
  authorizedUser,
  byOpenId,
  eventsOf,
  eventually,
  grantRow,
  insertGrant,
  type LarkWorld,
  type PbRef,
  type ServiceUnderTest,
  startLarkWorld,
  startService,
  TOKEN_PATH,
  tokenCalls,
} from "./grant-fixtures.js";

let world: LarkWorld;
let t: TestDatabase;
let svc: ServiceUnderTest;
/** Set by a test to make the next refresh "crash" between Lark's answer and the commit. */
let crashAfterAnswer: ((claim: RefreshClaim) => void) | undefined;

beforeAll(async () => {
  world = await startLarkWorld();
  t = await createTestDatabase();
  svc = await startService(world, t.db, {
    refreshTimings: { leaseMs: 1500, upstreamTimeoutMs: 1000 },
    afterRefreshAnswer: (claim) => crashAfterAnswer?.(claim),
  });
}, 60_000);
afterEach(() => {
  world.emulator.clearFaults();
  crashAfterAnswer = undefined;
});
afterAll(async () => {
  await svc?.close();
  // No token, refresh token or secret the tests saw may be in any log line.
  const logs = svc?.logs.join("\n") ?? "";
  for (const secret of world.secrets.filter(Boolean)) expect(logs).not.toContain(secret);
  await t?.close();
  await world?.emulator.close();
});

async function failure(
  p: Promise<unknown>,
): Promise<{ err: ConnectError; reason?: string; retryMs?: number }> {
  const err = await p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );
  const reason = err.findDetails(ErrorInfoSchema)[0]?.reason;
  const retry = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
  const retryMs = retry ? Number(retry.seconds) * 1000 + retry.nanos / 1e6 : undefined;
  for (const secret of world.secrets.filter(Boolean)) expect(err.message).not.toContain(secret);
  return { err, reason, retryMs };
}

/** A grant past its refresh threshold (issued 7000 s ago, 200 s left). */
const DUE = { ageSeconds: 7000, leftSeconds: 200 };

async function grantFor(timing = {}) {
  const who = await authorizedUser(world);
  const id = await insertGrant(t.db, world, who, timing);
  return { ...who, id, ref: byOpenId(who.user.open_id) };
}

const get = (user: PbRef, extra: { requiredScopes?: string[]; minValidSeconds?: number } = {}) =>
  svc.client.getUserAccessToken({ appId: world.app.app_id, user, ...extra });

describe("GetUserAccessToken", () => {
  it("serves a fresh grant without calling Lark, by open_id, user_id and union_id, and audits each read", async () => {
    const g = await grantFor();
    const before = tokenCalls(world);
    const byOpen = await get(g.ref);
    const byUser = await get({ id: { case: "userId", value: g.user.user_id } });
    const byUnion = await get({ id: { case: "unionId", value: g.user.union_id } });
    for (const r of [byOpen, byUser, byUnion]) {
      expect(r.token?.accessToken).toBe(g.tokens.accessToken);
      expect(r.token?.identity?.openId).toBe(g.user.open_id);
    }
    expect(tokenCalls(world)).toBe(before);
    await eventually(async () => {
      const rows = await t.db
        .em()
        .execute<{ caller: string; rpc: string }[]>(
          "select caller, rpc from token_access_audit where open_id = ?",
          [g.user.open_id],
        );
      return rows.length === 3 && rows.every((r) => r.caller === "tokens" && r.rpc === "GetUserAccessToken");
    });
  });

  it("answers AUTHORIZATION_REQUIRED without a grant and INSUFFICIENT_SCOPE for a scope not granted", async () => {
    const none = await failure(get(byOpenId("ou_0000000000000000000000000000abcd")));
    expect([none.err.code, none.reason]).toEqual([Code.FailedPrecondition, "AUTHORIZATION_REQUIRED"]);
    const g = await grantFor();
    const scope = await failure(get(g.ref, { requiredScopes: ["calendar:calendar:readonly"] }));
    expect([scope.err.code, scope.reason]).toEqual([Code.FailedPrecondition, "INSUFFICIENT_SCOPE"]);
  });

  it("refreshes a token past its threshold once, commits the rotated pair, and Lark rejects the old refresh token", async () => {
    const g = await grantFor(DUE);
    const before = tokenCalls(world);
    const first = await get(g.ref);
    expect(first.token?.accessToken).not.toBe(g.tokens.accessToken);
    world.secrets.push(first.token?.accessToken ?? "");
    expect(tokenCalls(world)).toBe(before + 1);
    // Now fresh: served as is.
    expect((await get(g.ref)).token?.accessToken).toBe(first.token?.accessToken);
    expect(tokenCalls(world)).toBe(before + 1);
    const old = await world.gateway
      .refreshToken(world.app.app_id, g.tokens.refreshToken ?? "")
      .catch((e) => e);
    expect(old).toBeInstanceOf(LarkError);
    expect([20064, 20073]).toContain((old as LarkError).code);
    expect((await grantRow(t.db, g.id))?.status).toBe("ACTIVE");
    expect((await eventsOf(t.db, g.user.open_id)).map((e) => e.type)).toEqual(["TOKEN_REFRESHED"]);
  });

  it("honours min_valid_seconds: a token with less life left is refreshed first", async () => {
    const g = await grantFor({ ageSeconds: 3600 });
    expect((await get(g.ref)).token?.accessToken).toBe(g.tokens.accessToken);
    const refreshed = await get(g.ref, { minValidSeconds: 5000 });
    expect(refreshed.token?.accessToken).not.toBe(g.tokens.accessToken);
  });

  it("serves 100 users concurrently without cross-talk", async () => {
    const grants = await Promise.all(Array.from({ length: 100 }, (_, i) => grantFor(i % 2 ? DUE : {})));
    const answers = await Promise.all(grants.map((g) => get(g.ref)));
    answers.forEach((a, i) => {
      const g = grants[i];
      expect(a.token?.identity?.openId).toBe(g?.user.open_id);
      if (i % 2 === 0) expect(a.token?.accessToken).toBe(g?.tokens.accessToken);
    });
    expect(new Set(answers.map((a) => a.token?.accessToken)).size).toBe(100);
  });
});

describe("refresh failures", () => {
  it("a terminal answer (grant revoked at Lark) ends in REAUTH_REQUIRED and a re-authorization event", async () => {
    const g = await grantFor(DUE);
    world.emulator.revokeGrant(g.user.open_id, world.app.app_id);
    const r = await failure(svc.client.refreshUserAccessToken({ appId: world.app.app_id, user: g.ref }));
    expect([r.err.code, r.reason]).toEqual([Code.FailedPrecondition, "AUTHORIZATION_REQUIRED"]);
    expect(await grantRow(t.db, g.id)).toMatchObject({
      status: "REAUTH_REQUIRED",
      status_reason: "REFRESH_TOKEN_REVOKED",
    });
    expect(await eventsOf(t.db, g.user.open_id)).toEqual([
      { type: "REAUTHORIZATION_REQUIRED", reason: "REFRESH_TOKEN_REVOKED" },
    ]);
    // Never retried: the next call answers from the row.
    const before = tokenCalls(world);
    expect((await failure(get(g.ref))).reason).toBe("AUTHORIZATION_REQUIRED");
    expect(tokenCalls(world)).toBe(before);
  });

  it.each([
    ["5xx", { status: 500, code: 20050 }],
    ["429", { status: 429, code: 99991400 }],
  ])(
    "%s leaves the grant intact: the unexpired token is served, an unmeetable min_valid is UNAVAILABLE",
    async (_, fault) => {
      const g = await grantFor(DUE);
      world.emulator.addFault({ path: TOKEN_PATH, ...fault, count: 1 });
      // Default request: Lark is down, the stored token is still valid for 200 s and is served (I10).
      expect((await get(g.ref)).token?.accessToken).toBe(g.tokens.accessToken);
      const row = await grantRow(t.db, g.id);
      expect(row?.status).not.toBe("REAUTH_REQUIRED");
      const strict = await failure(get(g.ref, { minValidSeconds: 1000 }));
      expect(strict.err.code).toBe(Code.Unavailable);
      expect(strict.retryMs).toBeGreaterThan(0);
      // Once Lark is back and the backoff (or the timed-out lease) has passed, the grant refreshes normally.
      await eventually(async () => {
        const r = await get(g.ref, { minValidSeconds: 1000 }).catch(() => undefined);
        return r !== undefined && r.token?.accessToken !== g.tokens.accessToken;
      }, 15_000);
      expect((await grantRow(t.db, g.id))?.status).toBe("ACTIVE");
    },
  );

  it("a time-out serves the stored token; after the lease, one confirmation finds the token unused and refreshes", async () => {
    const g = await grantFor(DUE);
    world.emulator.addFault({ path: TOKEN_PATH, timeout: true, count: 1 });
    const before = tokenCalls(world);
    expect((await get(g.ref)).token?.accessToken).toBe(g.tokens.accessToken);
    // Waits out the lease of the unanswered attempt (never a second call while it may be in flight).
    const fresh = await get(g.ref, { minValidSeconds: 1000 });
    expect(fresh.token?.accessToken).not.toBe(g.tokens.accessToken);
    expect(tokenCalls(world)).toBe(before + 2);
    expect(await grantRow(t.db, g.id)).toMatchObject({ status: "ACTIVE", refresh_attempt_time: null });
  });

  it("an answer lost after Lark rotated (reset_after_commit) → one confirmation → REAUTH_REQUIRED, no loop", async () => {
    const g = await grantFor(DUE);
    world.emulator.addFault({ path: TOKEN_PATH, reset_after_commit: true, count: 1 });
    const before = tokenCalls(world);
    const r = await failure(get(g.ref, { minValidSeconds: 1000 }));
    expect(r.reason).toBe("AUTHORIZATION_REQUIRED");
    expect(tokenCalls(world)).toBe(before + 2);
    expect(await grantRow(t.db, g.id)).toMatchObject({
      status: "REAUTH_REQUIRED",
      status_reason: "REFRESH_TOKEN_ALREADY_USED",
    });
    expect((await eventsOf(t.db, g.user.open_id)).map((e) => e.type)).toEqual(["REAUTHORIZATION_REQUIRED"]);
    await failure(get(g.ref, { minValidSeconds: 1000 }));
    expect(tokenCalls(world)).toBe(before + 2);
  });

  it("a crash between Lark's answer and the commit is detected after the lease: one confirmation, then REAUTH_REQUIRED", async () => {
    const g = await grantFor(DUE);
    crashAfterAnswer = () => {
      crashAfterAnswer = undefined;
      throw new Error("simulated crash after Lark answered");
    };
    const before = tokenCalls(world);
    await failure(get(g.ref, { minValidSeconds: 1000 }));
    expect((await grantRow(t.db, g.id))?.refresh_attempt_time).not.toBeNull();
    expect(tokenCalls(world)).toBe(before + 1);
    // While the dead holder's lease lasts, nobody calls Lark; after it, one confirmation decides.
    await eventually(async () => {
      const r = await failure(get(g.ref, { minValidSeconds: 1000 }));
      return r.reason === "AUTHORIZATION_REQUIRED";
    }, 10_000);
    expect(tokenCalls(world)).toBe(before + 2);
    expect(await grantRow(t.db, g.id)).toMatchObject({ status: "REAUTH_REQUIRED" });
  });

  it("a refresh slower than the callers' patience still makes one call, and its pair is committed", async () => {
    const g = await grantFor(DUE);
    world.emulator.addFault({ path: TOKEN_PATH, latency_ms: 800, count: 1 });
    const before = tokenCalls(world);
    // Twenty callers that give up after 200 ms, long before Lark answers: contention, never "invalid".
    const impatient = await Promise.all(
      Array.from({ length: 20 }, () =>
        failure(
          svc.client.getUserAccessToken(
            { appId: world.app.app_id, user: g.ref, minValidSeconds: 1000 },
            { timeoutMs: 200 },
          ),
        ),
      ),
    );
    for (const r of impatient) expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(r.err.code);
    await eventually(async () => {
      const r = await get(g.ref, { minValidSeconds: 1000 }).catch(() => undefined);
      return r !== undefined && r.token?.accessToken !== g.tokens.accessToken;
    });
    expect(tokenCalls(world)).toBe(before + 1);
  });
});

describe("the other RPCs", () => {
  it("RefreshUserAccessToken forces a refresh of a fresh grant", async () => {
    const g = await grantFor();
    const r = await svc.client.refreshUserAccessToken({ appId: world.app.app_id, user: g.ref });
    world.secrets.push(r.token?.accessToken ?? "");
    expect(r.token?.accessToken).not.toBe(g.tokens.accessToken);
    expect((await get(g.ref)).token?.accessToken).toBe(r.token?.accessToken);
  });

  it("RevokeUserAuthorization deletes the grant, emits the event, and the token is never served again", async () => {
    const g = await grantFor();
    await get(g.ref); // cached
    const r = await svc.client.revokeUserAuthorization({ appId: world.app.app_id, user: g.ref });
    expect(r.revoked).toBe(true);
    expect((await failure(get(g.ref))).reason).toBe("AUTHORIZATION_REQUIRED");
    expect((await eventsOf(t.db, g.user.open_id)).map((e) => e.type)).toEqual(["AUTHORIZATION_REVOKED"]);
    expect((await svc.client.revokeUserAuthorization({ appId: world.app.app_id, user: g.ref })).revoked).toBe(
      false,
    );
  });

  it("a revoke during a refresh in flight: the refresh stores nothing and the refresh token is never used again", async () => {
    const g = await grantFor(DUE);
    world.emulator.addFault({ path: TOKEN_PATH, latency_ms: 600, count: 1 });
    const before = tokenCalls(world);
    const refreshing = failure(svc.client.refreshUserAccessToken({ appId: world.app.app_id, user: g.ref }));
    await eventually(async () => (await grantRow(t.db, g.id))?.refresh_attempt_time !== null, 5_000);
    expect((await svc.client.revokeUserAuthorization({ appId: world.app.app_id, user: g.ref })).revoked).toBe(
      true,
    );
    expect((await refreshing).reason).toBe("AUTHORIZATION_REQUIRED");
    expect(await grantRow(t.db, g.id)).toBeUndefined();
    expect((await failure(get(g.ref, { minValidSeconds: 1000 }))).reason).toBe("AUTHORIZATION_REQUIRED");
    expect(tokenCalls(world)).toBe(before + 1);
    expect((await eventsOf(t.db, g.user.open_id)).map((e) => e.type)).toEqual(["AUTHORIZATION_REVOKED"]);
  });

  it("GetUserInfo answers the stored identity, and with refresh re-fetches it from Lark", async () => {
    const g = await grantFor();
    const stored = await svc.client.getUserInfo({ appId: world.app.app_id, user: g.ref });
    expect(stored.identity).toMatchObject({ openId: g.user.open_id, name: g.user.name });
    await t.db.em().execute("update user_grant set name = 'stale' where id = ?", [g.id]);
    const fetched = await svc.client.getUserInfo({ appId: world.app.app_id, user: g.ref, refresh: true });
    expect(fetched.identity).toMatchObject({
      openId: g.user.open_id,
      name: g.user.name,
      email: g.user.email,
    });
    const rows = await t.db
      .em()
      .execute<{ name: string }[]>("select name from user_grant where id = ?", [g.id]);
    expect(rows[0]?.name).toBe(g.user.name);
  });

  it("GetTenantAccessToken serves one cached token per app", async () => {
    const a = await svc.client.getTenantAccessToken({ appId: world.app.app_id });
    const b = await svc.client.getTenantAccessToken({ appId: world.app.app_id });
    expect(a.tenantAccessToken).toMatch(/^t-/);
    expect(b.tenantAccessToken).toBe(a.tenantAccessToken);
    world.secrets.push(a.tenantAccessToken);
  });
});
