// StartAuthorization on the real database: new (authorize URL = the redirector), reuse,
// supersede, already authorized, rate limit (also under concurrency), idempotency.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import {
  type StartAuthorizationInput,
  type StartDeps,
  startAuthorization,
} from "../../src/domain/sessions/start-authorization.js";
import type { AppView, RunningEmulator } from "../../src/emulator/index.js";
import { startTestEmulator } from "../conformance/emulator-support.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { openId, seedApp } from "../support/factories.js";
import { ALL_POWERFUL, type FlowParts, flowParts } from "../support/flow.js";

let t: TestDatabase;
let emulator: RunningEmulator;
let app: AppView;
let f: FlowParts;
let deps: StartDeps;
const REDIRECTOR = "https://auth.example.test/oauth/authorize";

beforeAll(async () => {
  [t, emulator] = await Promise.all([createTestDatabase(), startTestEmulator()]);
  app = emulator.registerApp({});
  await seedApp(t.db, { appId: app.app_id });
  f = flowParts(t.db);
  deps = {
    apps: { find: (id) => (id === app.app_id ? { appId: id, flow: "REDIRECT" } : undefined) },
    uow: f.uow,
    crypto: f.crypto,
    clock: f.clock,
    cards: f.cards,
    policy: { sessionTtlMs: 600_000, startsPerMinute: 5, authorizeUrl: (id) => `${REDIRECTOR}/${id}` },
  };
});
afterAll(async () => {
  await emulator?.close();
  await t?.close();
});

const start = (input: Partial<StartAuthorizationInput> & { user: StartAuthorizationInput["user"] }) =>
  startAuthorization(deps, ALL_POWERFUL, {
    appId: app.app_id,
    scopes: ["contact:user.base:readonly"],
    ...input,
  });
const someone = () => ({ kind: "open_id" as const, value: openId() });
const eventsOf = (sessionId: string) =>
  t.db.em().execute("select type, reason from auth_event where session_id = ? order by id", [sessionId]);

describe("StartAuthorization", () => {
  it("creates a pending session with offline_access, the redirector as authorize URL, an event and a card", async () => {
    const { session, alreadyAuthorized } = await start({ user: someone(), context: "job-7" });
    expect(alreadyAuthorized).toBe(false);
    expect(session).toMatchObject({ state: "PENDING", flow: "REDIRECT", context: "job-7" });
    expect(session?.requestedScopes).toEqual(["contact:user.base:readonly", "offline_access"]);
    expect(session?.expireTime.getTime()).toBe(f.clock.now().getTime() + 600_000);
    // No state exists before the click: nothing about the consent is at rest in clear.
    expect(session?.authorizeUrl).toBe(`${REDIRECTOR}/${session?.id}`);
    const [row] = await t.db
      .em()
      .execute("select oauth_state_hash, pkce_verifier_sealed from auth_session where id = ?", [session?.id]);
    expect(row).toEqual({ oauth_state_hash: null, pkce_verifier_sealed: null });
    expect(await eventsOf(session?.id ?? "")).toEqual([{ type: "SESSION_CREATED", reason: null }]);
    expect(f.cards.notified.at(-1)).toEqual({ appId: app.app_id, sessionId: session?.id });
  });

  it("returns the pending session that covers the scopes instead of sending another card", async () => {
    const user = someone();
    const first = await start({ user, scopes: ["a:read", "b:read"] });
    const cardsBefore = f.cards.notified.length;
    const again = await start({ user, scopes: ["b:read"] });
    expect(again.session?.id).toBe(first.session?.id);
    expect(f.cards.notified.length).toBe(cardsBefore);
  });

  it("supersedes a pending session that does not cover the scopes with one asking for the union", async () => {
    const user = someone();
    const first = await start({ user, scopes: ["a:read"] });
    const second = await start({ user, scopes: ["b:read"] });
    expect(second.session?.requestedScopes).toEqual(["a:read", "offline_access", "b:read"]);
    const [old] = await t.db
      .em()
      .execute("select state, failure_reason from auth_session where id = ?", [first.session?.id]);
    expect(old).toEqual({ state: "CANCELLED", failure_reason: "SUPERSEDED" });
    expect(await eventsOf(first.session?.id ?? "")).toContainEqual({
      type: "CANCELLED",
      reason: "SUPERSEDED",
    });
    expect(f.cards.notified.slice(-2).map((n) => n.sessionId)).toEqual([
      first.session?.id,
      second.session?.id,
    ]);
  });

  it("answers already_authorized without a card when a grant covers the scopes, unless forced", async () => {
    const user = someone();
    await f.uow.run((tx) =>
      tx.upsertGrant({
        appId: app.app_id,
        identity: { openId: user.value },
        scopes: ["contact:user.base:readonly", "offline_access"],
        accessToken: "eyJa",
        accessExpireTime: new Date(Date.now() + 7_200_000),
        refreshToken: "eyJr",
      }),
    );
    const cardsBefore = f.cards.notified.length;
    expect(await start({ user })).toEqual({ alreadyAuthorized: true });
    expect(f.cards.notified.length).toBe(cardsBefore);
    expect((await start({ user, scopes: ["calendar:read"] })).session?.state).toBe("PENDING");
    expect((await start({ user, force: true })).session?.state).toBe("PENDING");
  });

  it("limits starts per user and says when to retry", async () => {
    const user = someone();
    for (let i = 0; i < 5; i++) await start({ user, scopes: [`s${i}:read`] });
    f.clock.advance(10_000);
    const limited = await start({ user, scopes: ["s5:read"] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(DomainError);
    expect(limited).toMatchObject({ code: "RATE_LIMITED", details: { retryAfterMs: 50_000 } });
    f.clock.advance(50_000);
    expect((await start({ user, scopes: ["s5:read"] })).session?.state).toBe("PENDING");
  });

  it("counts starts in the database under the user lock: 10 concurrent starts, limit 5, exactly 5 sessions", async () => {
    const user = someone();
    const answers = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => start({ user, scopes: [`c${i}:read`] })),
    );
    expect(answers.filter((a) => a.status === "fulfilled")).toHaveLength(5);
    for (const a of answers.filter((x) => x.status === "rejected")) {
      expect((a as PromiseRejectedResult).reason).toMatchObject({ code: "RATE_LIMITED" });
    }
    const rows = await t.db
      .em()
      .execute("select state from auth_session where requested_user_value = ?", [user.value]);
    expect(rows).toHaveLength(5);
    expect(rows.filter((r) => r.state === "PENDING")).toHaveLength(1);
  });

  it("returns the same session for the same idempotency key, even concurrently", async () => {
    const key = `idem-${openId()}`;
    const user = someone();
    const [a, b] = await Promise.all([
      start({ user, idempotencyKey: key }),
      start({ user, idempotencyKey: key }),
    ]);
    expect(a.session?.id).toBeDefined();
    expect(b.session?.id).toBe(a.session?.id);
    expect((await start({ user, idempotencyKey: key })).session?.id).toBe(a.session?.id);
  });

  it("never answers one user's session to a request for another user with the same idempotency key", async () => {
    const key = `idem-${openId()}`;
    const [alice, bob] = [someone(), someone()];
    // Concurrently: two user locks, so the key's own lock decides; exactly one of them gets a session.
    const answers = await Promise.allSettled([
      start({ user: alice, idempotencyKey: key, context: "alice's job" }),
      start({ user: bob, idempotencyKey: key, context: "bob's job" }),
    ]);
    const won = answers.filter((a) => a.status === "fulfilled");
    expect(won).toHaveLength(1);
    const lost = answers.find((a) => a.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      details: { field: "idempotency_key" },
    });
    const session = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof start>>>).value.session;
    const owner = session?.user.value === alice.value ? alice : bob;
    const other = owner === alice ? bob : alice;
    // Sequentially too, and the key still belongs to its first user.
    await expect(start({ user: other, idempotencyKey: key })).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
    });
    expect((await start({ user: owner, idempotencyKey: key })).session?.id).toBe(session?.id);
    const rows = await t.db
      .em()
      .execute("select requested_user_value from auth_session where idempotency_key = ?", [key]);
    expect(rows).toEqual([{ requested_user_value: owner.value }]);
    // An email key folds case, as the user lock and the matching do.
    const emailKey = `idem-${openId()}`;
    const ann = { kind: "email" as const, value: `ann-${openId()}@example.com` };
    const first = await start({ user: ann, idempotencyKey: emailKey });
    const again = await start({ user: { ...ann, value: ann.value.toUpperCase() }, idempotencyKey: emailKey });
    expect(again.session?.id).toBe(first.session?.id);
  });

  it("refuses unknown apps and callers without auth:start", async () => {
    await expect(
      startAuthorization(deps, ALL_POWERFUL, { appId: "cli_0000000000000000", user: someone(), scopes: [] }),
    ).rejects.toMatchObject({
      code: "APP_NOT_FOUND",
    });
    const reader = { name: "reader", can: () => false };
    await expect(
      startAuthorization(deps, reader, { appId: app.app_id, user: someone(), scopes: [] }),
    ).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
    });
  });
});
