// The card dispatcher against a real database and the real emulator: delivery, update, terminal and
// transient Lark failures, crash recovery by the sweep, device authorization, and a burst smoothed
// below the emulator's limit.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { type AppView, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { type CardDispatcherOptions, createCardDispatcher } from "../../src/jobs/card-dispatcher.js";
import type { LarkLimiters } from "../../src/jobs/limits.js";
import { createLarkLimiters } from "../../src/jobs/limits.js";
import { createRateLimiter } from "../../src/jobs/rate-limiter.js";
import { createCardWorkStore } from "../../src/store/card-work-store.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { emulatorGateway } from "../support/emulator-gateway.js";
import { buildSession, seedApp } from "../support/factories.js";

let t: TestDatabase;
let emulator: RunningEmulator;
const apps: AppView[] = [];
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
const sealer = { seal: (plain: string) => `v1.test.${Buffer.from(plain).toString("base64url")}` };
const warnings: unknown[] = [];
const logger = {
  error: (o: unknown) => warnings.push(o),
  warn: (o: unknown) => warnings.push(o),
  info() {},
  debug() {},
} as never;

beforeAll(async () => {
  t = await createTestDatabase();
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator?.close();
  await t?.close();
});

/** A fresh emulator app (its lark_app row too) with `users` users. */
async function appWithUsers(users: number, flow: "redirect" | "device" = "redirect") {
  const app = emulator.registerApp({});
  apps.push(app);
  await seedApp(t.db, { appId: app.app_id, flow });
  const openIds = Array.from(
    { length: users },
    (_, i) =>
      emulator.createUser({ name: `U${i}`, seed: randomBytes(6).toString("hex"), app_id: app.app_id })
        .open_id,
  );
  return { appId: app.app_id, openIds };
}

/**
 * One Lark attempt per send, so each injected fault is one failed dispatch: the dispatcher's durable
 * retries are under test here; the call policy's in-call retries (which would absorb a passing 503
 * before the dispatcher sees it) are proven in lark-gateway and auth-flow-faults.
 */
const ONE_ATTEMPT = { maxAttempts: 1 };

function dispatcher(options: CardDispatcherOptions = {}, limiters: LarkLimiters = createLarkLimiters()) {
  return createCardDispatcher({
    store: createCardWorkStore(t.db, sealer),
    gateway: emulatorGateway(emulator, apps, ONE_ATTEMPT),
    limiters,
    buildCard: (s, inputs) =>
      card(
        `Authorize ${s.id}`,
        s.authorizeUrl ?? "https://example.invalid",
        [inputs.descriptionStyle, inputs.userCode].filter(Boolean).join(" "),
      ),
    buildResultCard: (s) => card(`Result ${s.state}`, "https://example.invalid", "DETAILED"),
    clock,
    logger,
    options: { backoffBaseMs: 1000, ...options },
  });
}

function card(title: string, url: string, style: string) {
  return {
    schema: "2.0",
    config: { update_multi: true },
    header: { title: { tag: "plain_text", content: title }, template: "blue" },
    body: {
      elements: [
        { tag: "markdown", content: style },
        {
          tag: "button",
          text: { tag: "plain_text", content: "Authorize" },
          behaviors: [{ type: "open_url", default_url: url }],
        },
      ],
    },
  };
}

/** A pending session for `openId`, due for card work now. */
async function pendingSession(appId: string, openId: string, overrides: Partial<AuthSession> = {}) {
  const session = buildSession({ appId, user: { kind: "open_id", value: openId }, ...overrides });
  await createSessionStore(t.db).insert(session);
  await t.db
    .em()
    .execute("update auth_session set card_next_attempt_time = ? where id = ?", [clock.now(), session.id]);
  return session;
}

async function row(id: string) {
  const [r] = await t.db
    .em()
    .execute<Record<string, unknown>[]>("select * from auth_session where id = ?", [id]);
  return r as Record<string, unknown>;
}

async function waitFor<T>(probe: () => Promise<T> | T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("card dispatcher", () => {
  it("delivers a pending session's card once and records it", async () => {
    const { appId, openIds } = await appWithUsers(1);
    const user = openIds[0] as string;
    const s = await pendingSession(appId, user);
    const d = dispatcher();
    d.notify(appId, s.id);
    d.notify(appId, s.id);
    const r = await waitFor(async () =>
      (await row(s.id)).card_synced_state === "PENDING" ? row(s.id) : undefined,
    );
    const messages = emulator.messagesOf(user);
    expect(messages).toHaveLength(1);
    expect(r).toMatchObject({
      card_message_id: messages[0]?.message_id,
      card_attempts: 0,
      card_next_attempt_time: null,
    });
    expect(JSON.stringify(messages[0]?.card)).toContain(s.id);
    await d.close(1000);
  });

  it("updates the delivered card once the session is final", async () => {
    const { appId, openIds } = await appWithUsers(1);
    const user = openIds[0] as string;
    const s = await pendingSession(appId, user);
    const d = dispatcher();
    d.notify(appId, s.id);
    await waitFor(async () => (await row(s.id)).card_synced_state === "PENDING");
    await t.db
      .em()
      .execute(
        "update auth_session set state = 'DECLINED', complete_time = ?, card_next_attempt_time = ? where id = ?",
        [clock.now(), clock.now(), s.id],
      );
    d.notify(appId, s.id);
    await waitFor(async () => (await row(s.id)).card_synced_state === "DECLINED");
    const [message] = emulator.messagesOf(user);
    expect(message?.updated).toBe(true);
    expect(JSON.stringify(message?.card)).toContain("Result DECLINED");
    expect((await row(s.id)).card_next_attempt_time).toBeNull();
    await d.close(1000);
  });

  it("fails the session with CARD_DELIVERY_FAILED and an event when Lark refuses the card", async () => {
    const { appId } = await appWithUsers(0);
    const s = await pendingSession(appId, "ou_00000000000000000000000000000000");
    const d = dispatcher();
    d.notify(appId, s.id);
    const r = await waitFor(async () => {
      const r = await row(s.id);
      return r.state === "FAILED" ? r : undefined;
    });
    expect(r).toMatchObject({ failure_reason: "CARD_DELIVERY_FAILED", card_next_attempt_time: null });
    expect(r.failure_message).toBe("Lark refused the request (code 99992351)");
    const events = await t.db
      .em()
      .execute<Record<string, unknown>[]>("select type, reason from auth_event where session_id = ?", [s.id]);
    expect(events).toEqual([{ type: "FAILED", reason: "CARD_DELIVERY_FAILED" }]);
    await d.close(1000);
  });

  it("retries a transient failure with backoff through the recovery sweep, and gives up after maxAttempts", async () => {
    const { appId, openIds } = await appWithUsers(2);
    const [ok, doomed] = openIds as [string, string];
    emulator.addFault({
      path: "/open-apis/im/v1/messages",
      method: "POST",
      app_id: appId,
      status: 503,
      count: 3,
    });
    const d = dispatcher({ maxAttempts: 2 });
    const s1 = await pendingSession(appId, ok);
    d.notify(appId, s1.id);
    await waitFor(async () => (await row(s1.id)).card_attempts === 1);
    expect(new Date((await row(s1.id)).card_next_attempt_time as string).getTime()).toBeGreaterThan(
      clock.now().getTime(),
    );
    // Nothing is due before the backoff ends.
    await d.job.run(new AbortController().signal);
    expect((await row(s1.id)).card_attempts).toBe(1);
    const s2 = await pendingSession(appId, doomed);
    d.notify(appId, s2.id);
    await waitFor(async () => (await row(s2.id)).card_attempts === 1);
    offsetMs += 600_000;
    // The sweep retries both: one more fault is left, for whichever goes first.
    await d.job.run(new AbortController().signal);
    const states = [await row(s1.id), await row(s2.id)].map((r) => r.state).sort();
    expect(states).toEqual(["FAILED", "PENDING"]);
    await d.close(1000);
  });

  it("hands each due session to exactly one of several concurrent claimers", async () => {
    const { appId, openIds } = await appWithUsers(12);
    const ids = new Set<string>();
    for (const u of openIds) ids.add((await pendingSession(appId, u)).id);
    const store = createCardWorkStore(t.db, sealer);
    const claims = await Promise.all([1, 2, 3].map(() => store.claimDue(clock.now(), 60_000, 100)));
    const claimed = claims
      .flat()
      .map((w) => w.session.id)
      .filter((id) => ids.has(id));
    expect(claimed.sort()).toEqual([...ids].sort());
    // Leased: not due again until the lease lapses.
    expect((await store.claimDue(clock.now(), 60_000, 100)).filter((w) => ids.has(w.session.id))).toEqual([]);
    expect(await store.claim([...ids][0] as string, clock.now(), 60_000)).toBeUndefined();
  });

  it("starts a device authorization before the card and keeps the device code sealed", async () => {
    const { appId, openIds } = await appWithUsers(1, "device");
    const s = await pendingSession(appId, openIds[0] as string, { flow: "DEVICE" });
    const d = dispatcher();
    d.notify(appId, s.id);
    const r = await waitFor(async () =>
      (await row(s.id)).card_synced_state === "PENDING" ? row(s.id) : undefined,
    );
    expect(r.authorize_url).toMatch(/\/oauth\/v1\/device\/verify\?/);
    expect(Buffer.from(r.device_code_sealed as Uint8Array).toString()).toMatch(/^v1\.test\./);
    expect(r).toMatchObject({ device_code_key_id: "test", device_interval_seconds: 5 });
    expect(r.device_next_poll_time).not.toBeNull();
    expect(JSON.stringify(emulator.messagesOf(openIds[0] as string)[0]?.card)).toContain(
      r.authorize_url as string,
    );
    await d.close(1000);
  });

  it("keeps the device user code, so a card resent after a failed send still shows it", async () => {
    const { appId, openIds } = await appWithUsers(1, "device");
    const user = openIds[0] as string;
    const messages = { path: "/open-apis/im/v1/messages", method: "POST", app_id: appId };
    emulator.addFault({ ...messages, status: 503, count: 1 });
    const s = await pendingSession(appId, user, { flow: "DEVICE" });
    const d = dispatcher();
    d.notify(appId, s.id);
    const failed = await waitFor(async () => ((await row(s.id)).card_attempts === 1 ? row(s.id) : undefined));
    const userCode = new URL(failed.authorize_url as string).searchParams.get("user_code") ?? "";
    expect(userCode).not.toBe("");
    expect(failed.device_user_code).toBe(userCode);
    // The retry (here by the recovery sweep, as another replica would) starts no second device authorization.
    offsetMs += 600_000;
    await d.job.run(new AbortController().signal);
    expect((await row(s.id)).card_synced_state).toBe("PENDING");
    const [sent] = emulator.messagesOf(user);
    expect(JSON.stringify(sent?.card)).toContain(`DETAILED ${userCode}`);
    await d.close(1000);
  });

  it("smooths a burst below the emulator's limit: every card delivered, no retries", async () => {
    const { appId, openIds } = await appWithUsers(30);
    emulator.configure({ rate_limit_per_second: 10 });
    try {
      const messages = createRateLimiter({ windows: [{ limit: 9, windowMs: 1000 }] });
      const d = dispatcher({}, { ...createLarkLimiters(), messages });
      const before = warnings.length;
      const sessions = await Promise.all(openIds.map((u) => pendingSession(appId, u)));
      for (const s of sessions) d.notify(appId, s.id);
      await waitFor(async () => {
        const [c] = await t.db
          .em()
          .execute<{ n: number }[]>(
            "select count(*)::int as n from auth_session where app_id = ? and card_synced_state = 'PENDING'",
            [appId],
          );
        return c?.n === sessions.length;
      }, 30_000);
      expect(warnings.length - before).toBe(0);
      for (const u of openIds) expect(emulator.messagesOf(u)).toHaveLength(1);
      await d.close(1000);
    } finally {
      emulator.configure({ rate_limit_per_second: 50 });
    }
  });
});
