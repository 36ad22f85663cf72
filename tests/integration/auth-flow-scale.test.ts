// Many users at once with no cross-talk, and any replica finishing any session (PostgreSQL).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import { grantAad } from "../../src/store/grant-writer.js";
import {
  authorizeButtonUrl,
  byOpenId,
  callback,
  cardFor,
  cardShows,
  consentUrl,
  decide,
  type FlowEnv,
  newUser,
  sessionIn,
  startFlowEnv,
} from "../support/auth-flow.js";
import { skipWithoutPostgres } from "../support/db.js";
import { startTestApp, TEST_APP_ID, type TestApp } from "../support/test-app.js";

const SCOPES = ["contact:user.base:readonly"];

/** Runs `work` over `items`, `width` at a time: a browser per person, not a thundering herd on one port. */
async function inBatches<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

describe("100 concurrent sessions for 100 users", () => {
  let env: FlowEnv;
  beforeAll(async () => {
    env = await startFlowEnv("redirect");
  });
  afterAll(async () => {
    await env?.close();
  });

  it("authorizes each user with a grant of their own", { timeout: 180_000 }, async () => {
    const users = Array.from({ length: 100 }, (_, i) => newUser(env.emulator, `P${i}`));
    const { auth } = env.t.clients();
    const started = await Promise.all(
      users.map(async (u) => {
        const { session } = await auth.startAuthorization({
          appId: TEST_APP_ID,
          user: byOpenId(u.open_id),
          scopes: SCOPES,
        });
        return { user: u, id: session?.sessionId ?? "" };
      }),
    );
    expect(new Set(started.map((s) => s.id)).size).toBe(100);
    await inBatches(started, 10, async ({ user, id }) => {
      const card = await cardFor(env.emulator, user.open_id, id);
      // Each user's card is their own session's.
      expect(env.emulator.messagesOf(user.open_id)).toHaveLength(1);
      const consent = await consentUrl(authorizeButtonUrl(card.card));
      const page = await callback(decide(env.emulator, consent, user.open_id, "approve"));
      expect(page.html).toContain("Authorization complete");
    });
    for (const { user, id } of started) {
      const done = await sessionIn(env.t, id, S.AUTHORIZED);
      expect(done.identity?.openId).toBe(user.open_id);
    }
    const grants = await env.t.db
      .em()
      .execute<{ open_id: string; access_token_sealed: Uint8Array }[]>(
        "select open_id, access_token_sealed from user_grant where app_id = ?",
        [TEST_APP_ID],
      );
    expect(grants.map((g) => g.open_id).sort()).toEqual(users.map((u) => u.open_id).sort());
    // Each sealed token opens only under its own row's identity (AAD): no grant was written to another row.
    const sealed = Object.fromEntries(
      grants.map((g) => [g.open_id, Buffer.from(g.access_token_sealed).toString()]),
    );
    const { createSealer } = await import("../../src/crypto/seal.js");
    const sealer = createSealer([{ id: "test", key: Buffer.alloc(32, 7) }]);
    const [a, b] = users as [(typeof users)[0], (typeof users)[0]];
    expect(() =>
      sealer.open(sealed[a.open_id] ?? "", grantAad(TEST_APP_ID, a.open_id, "access")),
    ).not.toThrow();
    expect(() => sealer.open(sealed[a.open_id] ?? "", grantAad(TEST_APP_ID, b.open_id, "access"))).toThrow();
  });
});

describe.skipIf(skipWithoutPostgres("auth-flow-scale (second instance)"))(
  "a second instance on the same PostgreSQL database",
  () => {
    let env: FlowEnv;
    let second: TestApp;
    beforeAll(async () => {
      env = await startFlowEnv("redirect");
      second = await startTestApp(
        {
          LARK_DOMAIN: env.emulator.url,
          LARK_APP_SECRET: "flow-app-secret-0123456789",
          LARK_AUTH_FLOW: "redirect",
        },
        { sharedDatabaseUrl: env.t.databaseUrl },
      );
    });
    afterAll(async () => {
      await second?.close();
      await env?.close();
    });

    it("finishes on the second instance a session the first started: redirector, callback, card", async () => {
      const user = newUser(env.emulator);
      const { session } = await env.t.clients().auth.startAuthorization({
        appId: TEST_APP_ID,
        user: byOpenId(user.open_id),
        scopes: SCOPES,
      });
      const id = session?.sessionId ?? "";
      const card = await cardFor(env.emulator, user.open_id, id);
      // Every step on the other replica: its redirector arms the state, its callback completes.
      const onSecond = (url: string) => url.replace(env.t.httpUrl, second.httpUrl);
      const consent = await consentUrl(onSecond(authorizeButtonUrl(card.card)));
      const redirect = decide(env.emulator, consent, user.open_id, "approve");
      expect((await callback(onSecond(redirect))).html).toContain("Authorization complete");
      const done = await second.clients().auth.getAuthSession({ sessionId: id });
      expect(done.session?.state).toBe(S.AUTHORIZED);
      await sessionIn(env.t, id, S.AUTHORIZED);
      await cardShows(env.emulator, user.open_id, card.message_id, "Authorized");
    });

    it("either instance answers a Decline (Lark delivers it to one connected replica)", async () => {
      const user = newUser(env.emulator);
      const { session } = await second.clients().auth.startAuthorization({
        appId: TEST_APP_ID,
        user: byOpenId(user.open_id),
        scopes: SCOPES,
      });
      const id = session?.sessionId ?? "";
      const card = await cardFor(env.emulator, user.open_id, id);
      const click = await env.emulator.clickCard(card.message_id, {
        operator_open_id: user.open_id,
        value: { action: "decline", session_id: id },
      });
      expect(click).toMatchObject({ ok: true, toast: { type: "success" } });
      await sessionIn(env.t, id, S.DECLINED);
    });
  },
);
