import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionStore } from "../../src/domain/ports.js";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { buildSession, FACTORY_APP_ID, openId, seedApp } from "../support/factories.js";

const OTHER_APP = "cli_f000000000000002";
const BASE = Date.parse("2026-01-01T00:00:00Z");

describe("session store", () => {
  let t: TestDatabase;
  let store: SessionStore;
  const alice = openId();
  const aliceSessions: AuthSession[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedApp(t.db);
    await seedApp(t.db, { appId: OTHER_APP, flow: "device" });
    store = createSessionStore(t.db);
    // 25 sessions for alice; pairs share a create time so the id tie-breaker is exercised.
    for (let i = 0; i < 25; i++) {
      const createTime = new Date(BASE + Math.floor(i / 2) * 1000);
      const state = i % 5 === 0 ? "AUTHORIZED" : "PENDING";
      const s = buildSession({ user: { kind: "open_id", value: alice }, createTime, state });
      await store.insert(s);
      aliceSessions.push(s);
    }
    await store.insert(buildSession({ createTime: new Date(BASE) }));
    await store.insert(buildSession({ appId: OTHER_APP, user: { kind: "open_id", value: alice } }));
  });
  afterAll(async () => t?.close());

  it("round-trips every field of a session", async () => {
    const full = buildSession({
      state: "AUTHORIZED",
      user: { kind: "email", value: "Carol@Example.com" },
      identity: {
        openId: openId(),
        userId: "u_1",
        unionId: "on_1",
        tenantKey: "t_1",
        name: "Carol",
        enName: "Carol E",
        email: "carol@example.com",
        mobile: "+8613800000000",
        avatarUrl: "https://example.com/a.png",
      },
      cardMessageId: "om_1",
      authorizeUrl: "https://accounts.feishu.cn/open-apis/authen/v1/authorize?x=1",
      context: "résumé-42",
      idempotencyKey: "idem-1",
      flow: "DEVICE",
    });
    await store.insert(full);
    expect(await store.get(full.id)).toEqual(full);
  });

  it("answers undefined for an unknown or malformed id", async () => {
    expect(await store.get(randomUUID())).toBeUndefined();
    expect(await store.get("not-a-uuid")).toBeUndefined();
  });

  it("pages newest first through more rows than a page, without repeats or gaps", async () => {
    const seen: string[] = [];
    let after: Awaited<ReturnType<SessionStore["list"]>>["next"];
    let pages = 0;
    do {
      const page = await store.list(
        { appId: FACTORY_APP_ID, user: { kind: "open_id", value: alice } },
        7,
        after,
      );
      seen.push(...page.sessions.map((s) => s.id));
      after = page.next;
      pages++;
    } while (after);
    const expected = [...aliceSessions]
      .sort((a, b) => b.createTime.getTime() - a.createTime.getTime() || (a.id < b.id ? 1 : -1))
      .map((s) => s.id);
    expect(seen).toEqual(expected);
    expect(pages).toBe(4);
  });

  it("stays stable when rows are inserted between pages", async () => {
    const first = await store.list({ appId: FACTORY_APP_ID, user: { kind: "open_id", value: alice } }, 5);
    await store.insert(buildSession({ user: { kind: "open_id", value: alice } }));
    const second = await store.list(
      { appId: FACTORY_APP_ID, user: { kind: "open_id", value: alice } },
      5,
      first.next,
    );
    const firstIds = new Set(first.sessions.map((s) => s.id));
    expect(second.sessions.some((s) => firstIds.has(s.id))).toBe(false);
    const lastOfFirst = first.sessions.at(-1)?.createTime.getTime() ?? 0;
    expect(second.sessions[0]?.createTime.getTime()).toBeLessThanOrEqual(lastOfFirst);
  });

  it("filters by state and keeps apps apart", async () => {
    const page = await store.list({ appId: FACTORY_APP_ID, states: ["AUTHORIZED"] }, 100);
    expect(page.sessions.length).toBeGreaterThanOrEqual(5);
    expect(page.sessions.every((s) => s.state === "AUTHORIZED")).toBe(true);
    const other = await store.list({ appId: OTHER_APP }, 100);
    expect(other.sessions).toHaveLength(1);
    expect(other.next).toBeUndefined();
  });

  it("matches a user by the requested reference or by the resolved identity", async () => {
    const dave = openId();
    const byEmail = buildSession({
      user: { kind: "email", value: "Dave@Example.com" },
      state: "AUTHORIZED",
      identity: { openId: dave, userId: "u_dave", email: "dave@example.com" },
    });
    await store.insert(byEmail);
    for (const user of [
      { kind: "open_id", value: dave },
      { kind: "user_id", value: "u_dave" },
      { kind: "email", value: "DAVE@example.COM" },
    ] as const) {
      const page = await store.list({ appId: FACTORY_APP_ID, user }, 10);
      expect(page.sessions.map((s) => s.id)).toEqual([byEmail.id]);
    }
    const none = await store.list(
      { appId: FACTORY_APP_ID, user: { kind: "union_id", value: "on_nobody" } },
      10,
    );
    expect(none.sessions).toEqual([]);
  });

  it("never puts an out-of-range cursor or page size to SQL (callers are told earlier; here it is a bug)", async () => {
    await expect(store.list({ appId: FACTORY_APP_ID }, 0)).rejects.toBeInstanceOf(RangeError);
    for (const after of [
      { createTime: new Date(), id: "x" },
      { createTime: new Date(Date.UTC(10000, 0, 1)), id: "ffffffff-ffff-4fff-bfff-ffffffffffff" },
      { createTime: new Date(Number.NaN), id: "ffffffff-ffff-4fff-bfff-ffffffffffff" },
    ]) {
      await expect(store.list({ appId: FACTORY_APP_ID }, 5, after)).rejects.toBeInstanceOf(RangeError);
    }
  });
});
