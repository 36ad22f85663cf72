// The other ways a session ends, on the real database: decline from the card, cancel by the caller,
// the expiry sweep, and the device poller's non-token answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelSession } from "../../src/domain/sessions/cancel.js";
import { completeDevice } from "../../src/domain/sessions/complete-device.js";
import { declineSession } from "../../src/domain/sessions/decline.js";
import { expireDueSessions } from "../../src/domain/sessions/expire.js";
import type { FinishDeps } from "../../src/domain/sessions/finish-with-tokens.js";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { buildSession, openId, seedApp } from "../support/factories.js";
import { ALL_POWERFUL, type FlowParts, flowParts } from "../support/flow.js";

let t: TestDatabase;
let f: FlowParts;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedApp(t.db);
  f = flowParts(t.db);
});
afterAll(async () => t?.close());

async function insert(overrides: Partial<AuthSession> = {}): Promise<AuthSession> {
  const session = buildSession({ createTime: f.clock.now(), ...overrides });
  await f.uow.run((tx) => tx.insertSession(session, { descriptionStyle: "CONCISE" }, {}));
  return session;
}
const row = async (id: string) =>
  (
    await t.db
      .em()
      .execute("select state, failure_reason, card_synced_state from auth_session where id = ?", [id])
  )[0];
const events = async (id: string) =>
  (await t.db.em().execute("select type from auth_event where session_id = ? order by id", [id])).map(
    (e) => e.type,
  );

describe("decline", () => {
  it("lets only the addressed user decline; the card is answered inline", async () => {
    const user = openId();
    const session = await insert({ user: { kind: "open_id", value: user } });
    const stranger = await declineSession(f, {
      appId: session.appId,
      sessionId: session.id,
      operatorOpenId: openId(),
    });
    expect(stranger.outcome).toBe("not_addressed");
    expect((await row(session.id))?.state).toBe("PENDING");
    const declined = await declineSession(f, {
      appId: session.appId,
      sessionId: session.id,
      operatorOpenId: user,
    });
    expect(declined).toMatchObject({ outcome: "declined", session: { state: "DECLINED" } });
    expect(await row(session.id)).toEqual({
      state: "DECLINED",
      failure_reason: null,
      card_synced_state: "DECLINED",
    });
    expect(await events(session.id)).toEqual(["DECLINED"]);
  });

  it("answers a finished session's click with its state and changes nothing", async () => {
    const user = openId();
    const session = await insert({ user: { kind: "open_id", value: user } });
    await declineSession(f, { appId: session.appId, sessionId: session.id, operatorOpenId: user });
    const again = await declineSession(f, {
      appId: session.appId,
      sessionId: session.id,
      operatorOpenId: user,
    });
    expect(again).toMatchObject({ outcome: "not_pending", session: { state: "DECLINED" } });
    expect(await events(session.id)).toEqual(["DECLINED"]);
  });

  it("recognises a user asked by email through the card's chat", async () => {
    const session = await insert({ user: { kind: "email", value: "dana@example.com" } });
    await t.db.em().execute("update auth_session set card_chat_id = 'oc_1' where id = ?", [session.id]);
    const elsewhere = await declineSession(f, {
      appId: session.appId,
      sessionId: session.id,
      operatorOpenId: openId(),
      chatId: "oc_2",
    });
    expect(elsewhere.outcome).toBe("not_addressed");
    const there = await declineSession(f, {
      appId: session.appId,
      sessionId: session.id,
      operatorOpenId: openId(),
      chatId: "oc_1",
    });
    expect(there.outcome).toBe("declined");
  });

  it("treats a click on another app's connection as naming no session of its own", async () => {
    const user = openId();
    const session = await insert({ user: { kind: "open_id", value: user } });
    await expect(
      declineSession(f, { appId: "cli_ffffffffffffffff", sessionId: session.id, operatorOpenId: user }),
    ).rejects.toMatchObject({ code: "SESSION_NOT_FOUND" });
    expect((await row(session.id))?.state).toBe("PENDING");
    expect(await events(session.id)).toEqual([]);
  });
});

describe("cancel", () => {
  it("cancels a pending session once, then answers SESSION_NOT_PENDING", async () => {
    const session = await insert();
    const cancelled = await cancelSession(f, ALL_POWERFUL, session.id);
    expect(cancelled).toMatchObject({ state: "CANCELLED", failureReason: "CANCELLED_BY_CALLER" });
    expect(f.cards.notified.at(-1)?.sessionId).toBe(session.id);
    await expect(cancelSession(f, ALL_POWERFUL, session.id)).rejects.toMatchObject({
      code: "SESSION_NOT_PENDING",
    });
    expect(await events(session.id)).toEqual(["CANCELLED"]);
  });

  it("answers unknown ids NOT_FOUND and callers without auth:start PERMISSION_DENIED", async () => {
    await expect(cancelSession(f, ALL_POWERFUL, buildSession().id)).rejects.toMatchObject({
      code: "SESSION_NOT_FOUND",
    });
    await expect(cancelSession(f, ALL_POWERFUL, "not-a-uuid")).rejects.toMatchObject({
      code: "SESSION_NOT_FOUND",
    });
    const session = await insert();
    const reader = { name: "reader", can: (p: string) => p === "auth:read" };
    await expect(cancelSession(f, reader, session.id)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    expect((await row(session.id))?.state).toBe("PENDING");
  });
});

describe("expiry sweep", () => {
  it("expires pending sessions past their deadline in batches, each with an event and a card wake-up", async () => {
    const due = [await insert(), await insert(), await insert()];
    f.clock.advance(600_000);
    const fresh = await insert();
    const first = await expireDueSessions(f, 2);
    const second = await expireDueSessions(f, 10);
    expect(first).toHaveLength(2);
    // Earlier tests' pending sessions are due too; this file's database is shared by its tests.
    const swept = [...first, ...second].map((s) => s.id);
    expect(swept).toEqual(expect.arrayContaining(due.map((s) => s.id)));
    expect(swept).not.toContain(fresh.id);
    for (const s of due) {
      expect((await row(s.id))?.state).toBe("EXPIRED");
      expect(await events(s.id)).toEqual(["EXPIRED"]);
    }
    expect((await row(fresh.id))?.state).toBe("PENDING");
    expect(await expireDueSessions(f, 10)).toHaveLength(0);
  });
});

describe("concurrent sweeps", () => {
  it("expire each due session once when three sweepers run at the same time (SKIP LOCKED)", async () => {
    const due = await Promise.all(Array.from({ length: 6 }, () => insert()));
    f.clock.advance(600_000);
    await Promise.all([expireDueSessions(f, 2), expireDueSessions(f, 2), expireDueSessions(f, 2)]);
    await expireDueSessions(f, 10);
    for (const s of due) expect(await events(s.id)).toEqual(["EXPIRED"]);
  });
});

describe("device poll results", () => {
  const deviceDeps = (): FinishDeps => ({
    ...f,
    lark: { getUserInfo: () => Promise.reject(new Error("not called")) },
  });

  it("leaves pending on pending/slow_down, declines on denial, fails on an expired device code", async () => {
    const waiting = await insert({ flow: "DEVICE" });
    expect((await completeDevice(deviceDeps(), waiting.id, { status: "pending" })).state).toBe("PENDING");
    expect((await completeDevice(deviceDeps(), waiting.id, { status: "slow_down" })).state).toBe("PENDING");
    const denied = await completeDevice(deviceDeps(), waiting.id, { status: "denied" });
    expect(denied).toMatchObject({ state: "DECLINED", failureReason: "CONSENT_DENIED" });
    const late = await insert({ flow: "DEVICE" });
    expect(await completeDevice(deviceDeps(), late.id, { status: "expired" })).toMatchObject({
      state: "FAILED",
      failureReason: "DEVICE_CODE_EXPIRED",
    });
  });

  it("fails OFFLINE_ACCESS_MISSING and reports it when tokens come without a refresh token", async () => {
    const session = await insert({ flow: "DEVICE" });
    const done = await completeDevice(deviceDeps(), session.id, {
      status: "authorized",
      tokens: { accessToken: "eyJsecret-access", expiresIn: 7200, scopes: ["offline_access"] },
    });
    expect(done).toMatchObject({ state: "FAILED", failureReason: "OFFLINE_ACCESS_MISSING" });
    expect(f.log.lines.at(-1)?.fields).toEqual({ app_id: session.appId, session_id: session.id });
    expect(JSON.stringify(f.log.lines)).not.toContain("eyJsecret-access");
  });
});
