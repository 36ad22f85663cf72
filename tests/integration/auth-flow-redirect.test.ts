// The redirect flow end to end: generated stubs against the real app and an in-process emulator. The
// user's card, the redirector, consent in the emulator, our callback, the sealed grant, the card's result.
import { Code, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
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
  openRedirector,
  sessionIn,
  startFlowEnv,
  tableText,
} from "../support/auth-flow.js";
import { reasonOf, rejection } from "../support/rpc.js";
import { ADMIN_KEY, TEST_APP_ID, withKey } from "../support/test-app.js";

let env: FlowEnv;
beforeAll(async () => {
  env = await startFlowEnv("redirect");
});
afterAll(async () => {
  await env?.close();
});

const SCOPES = ["contact:user.base:readonly"];
const start = (openId: string, extra: Record<string, unknown> = {}) =>
  env.t
    .clients()
    .auth.startAuthorization({ appId: TEST_APP_ID, user: byOpenId(openId), scopes: SCOPES, ...extra });

/** Start → card → redirector → consent by `consenter` → the redirect back to our callback. */
async function throughConsent(openId: string, consenter = openId) {
  const { session } = await start(openId);
  const id = session?.sessionId ?? "";
  const card = await cardFor(env.emulator, openId, id);
  const consent = await consentUrl(authorizeButtonUrl(card.card));
  return { id, card, consent, redirect: decide(env.emulator, consent, consenter, "approve") };
}

describe("redirect flow", () => {
  it("authorizes a user: card, redirector, consent, callback, sealed grant, authorized card", async () => {
    const user = newUser(env.emulator);
    const { session, alreadyAuthorized } = await start(user.open_id, { context: "job-1" });
    expect(alreadyAuthorized).toBe(false);
    const id = session?.sessionId ?? "";
    expect(session?.authorizeUrl).toBe(`${env.t.httpUrl}/oauth/authorize/${id}`);
    const card = await cardFor(env.emulator, user.open_id, id);
    expect(authorizeButtonUrl(card.card)).toBe(session?.authorizeUrl);

    const opened = await openRedirector(session?.authorizeUrl ?? "");
    expect(opened.status).toBe(302);
    expect(opened.headers.get("cache-control")).toBe("no-store");
    expect(opened.headers.get("referrer-policy")).toBe("no-referrer");
    const consent = opened.headers.get("location") ?? "";
    const state = new URL(consent).searchParams.get("state") ?? "";
    expect(state.length).toBeGreaterThanOrEqual(22); // >= 128 bits, base64url
    expect(new URL(consent).searchParams.get("code_challenge_method")).toBe("S256");

    const page = await callback(decide(env.emulator, consent, user.open_id, "approve"));
    expect(page.status).toBe(200);
    expect(page.html).toContain("Authorization complete");
    const done = await sessionIn(env.t, id, S.AUTHORIZED);
    expect(done.identity?.openId).toBe(user.open_id);
    expect(done.context).toBe("job-1");
    await cardShows(env.emulator, user.open_id, card.message_id, "Authorized");
    // Sealed from the first byte: neither the state nor any token is anywhere in clear.
    const [grant] = await env.t.db.em().execute("select * from user_grant where open_id = ?", [user.open_id]);
    expect(Buffer.from(grant?.access_token_sealed as Uint8Array).toString()).toMatch(/^v1\.test\./);
    for (const table of ["auth_session", "auth_event", "user_grant"]) {
      const text = await tableText(env.t, table);
      expect(text).not.toContain(state);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    }
    expect(env.t.logs.lines.join("\n")).not.toContain(state);
    // A click on the finished card's button answers its state.
    expect((await callback(session?.authorizeUrl ?? "")).html).toContain("Authorization complete");
  });

  it("answers a forged state 'not valid' and a replayed one 'already used'", async () => {
    const user = newUser(env.emulator);
    const { id, redirect } = await throughConsent(user.open_id);
    const forged = new URL(redirect);
    forged.searchParams.set("state", "forged-state-value");
    expect((await callback(forged.toString())).html).toContain("This link is not valid");
    expect((await callback(redirect)).html).toContain("Authorization complete");
    const replay = await callback(redirect);
    expect(replay.html).toContain("This link was already used");
    await sessionIn(env.t, id, S.AUTHORIZED);
    const rows = await env.t.db
      .em()
      .execute("select version from user_grant where open_id = ?", [user.open_id]);
    expect(rows).toEqual([{ version: "1" }]);
  });

  it("fails USER_MISMATCH when another user approves: no grant, the card says so", async () => {
    const asked = newUser(env.emulator);
    const other = newUser(env.emulator);
    const { id, card, redirect } = await throughConsent(asked.open_id, other.open_id);
    expect((await callback(redirect)).html).toContain("Signed in as a different user");
    const failed = await sessionIn(env.t, id, S.FAILED);
    expect(failed.failureReason).toBe("USER_MISMATCH");
    await cardShows(env.emulator, asked.open_id, card.message_id, "different Lark account");
    const grants = await env.t.db
      .em()
      .execute("select 1 from user_grant where open_id in (?, ?)", [asked.open_id, other.open_id]);
    expect(grants).toEqual([]);
  });

  it("declines when the person denies on Lark's consent page", async () => {
    const user = newUser(env.emulator);
    const { session } = await start(user.open_id);
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    const consent = await consentUrl(authorizeButtonUrl(card.card));
    const page = await callback(decide(env.emulator, consent, user.open_id, "deny"));
    expect(page.html).toContain("Authorization declined");
    // Lark's denial names no one, and anyone holding the link reaches that page: the record says so.
    const declined = await sessionIn(env.t, id, S.DECLINED);
    expect(declined.failureReason).toBe("CONSENT_DENIED");
    await cardShows(env.emulator, user.open_id, card.message_id, "Declined");
  });

  it("cancels a pending session (card updated); a second cancel is FAILED_PRECONDITION", async () => {
    const user = newUser(env.emulator);
    const { session } = await start(user.open_id);
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    const { auth } = env.t.clients();
    const cancelled = await auth.cancelAuthSession({ sessionId: id });
    expect(cancelled.session?.state).toBe(S.CANCELLED);
    expect(cancelled.session?.failureReason).toBe("CANCELLED_BY_CALLER");
    await cardShows(env.emulator, user.open_id, card.message_id, "Request withdrawn");
    const again = await rejection(auth.cancelAuthSession({ sessionId: id }));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(reasonOf(again)).toBe("SESSION_NOT_PENDING");
    // The withdrawn card's link arms nothing.
    expect((await openRedirector(session?.authorizeUrl ?? "")).status).not.toBe(302);
  });

  it("reuses a covering pending session and supersedes one that does not cover", async () => {
    const user = newUser(env.emulator);
    const first = (await start(user.open_id)).session;
    const card = await cardFor(env.emulator, user.open_id, first?.sessionId ?? "");
    expect((await start(user.open_id)).session?.sessionId).toBe(first?.sessionId);
    const second = (await start(user.open_id, { scopes: ["calendar:calendar:readonly"] })).session;
    expect(second?.sessionId).not.toBe(first?.sessionId);
    expect(second?.requestedScopes).toEqual(
      expect.arrayContaining([...SCOPES, "calendar:calendar:readonly"]),
    );
    const old = await sessionIn(env.t, first?.sessionId ?? "", S.CANCELLED);
    expect(old.failureReason).toBe("SUPERSEDED");
    await cardShows(env.emulator, user.open_id, card.message_id, "Request replaced");
    await cardFor(env.emulator, user.open_id, second?.sessionId ?? "");
  });

  it("answers RESOURCE_EXHAUSTED with RetryInfo past the per-user limit", async () => {
    const user = newUser(env.emulator);
    for (let i = 0; i < 5; i++) await start(user.open_id, { scopes: [`s${i}:read`] });
    const limited = await rejection(start(user.open_id, { scopes: ["s5:read"] }));
    expect(limited.code).toBe(Code.ResourceExhausted);
    expect(reasonOf(limited)).toBe("RATE_LIMITED");
    const retry = limited.findDetails(RetryInfoSchema)[0];
    expect(Number(retry?.retryDelay?.seconds ?? 0n)).toBeGreaterThan(0);
    expect(Number(retry?.retryDelay?.seconds ?? 0n)).toBeLessThanOrEqual(60);
  });

  it("returns the same session for the same idempotency key, with one card", async () => {
    const user = newUser(env.emulator);
    const a = await start(user.open_id, { idempotencyKey: `key-${user.open_id}` });
    const b = await start(user.open_id, { idempotencyKey: `key-${user.open_id}`, scopes: ["other:read"] });
    expect(b.session?.sessionId).toBe(a.session?.sessionId);
    await cardFor(env.emulator, user.open_id, a.session?.sessionId ?? "");
    expect(env.emulator.messagesOf(user.open_id)).toHaveLength(1);
  });

  it("completes from a code and state handed over to CompleteAuthorization (Connect transport)", async () => {
    const user = newUser(env.emulator);
    const { id, redirect } = await throughConsent(user.open_id);
    const url = new URL(redirect);
    const auth = createClient(AuthService, env.t.transports().connect);
    const done = await auth.completeAuthorization(
      { code: url.searchParams.get("code") ?? "", state: url.searchParams.get("state") ?? "" },
      withKey(ADMIN_KEY),
    );
    expect(done.session).toMatchObject({ sessionId: id, state: S.AUTHORIZED });
    const replay = await rejection(
      auth.completeAuthorization(
        { code: url.searchParams.get("code") ?? "", state: url.searchParams.get("state") ?? "" },
        withKey(ADMIN_KEY),
      ),
    );
    expect(reasonOf(replay)).toBe("STATE_ALREADY_USED");
  });

  it("answers already_authorized without a card once a grant covers the scopes", async () => {
    const user = newUser(env.emulator);
    const { redirect, id } = await throughConsent(user.open_id);
    await callback(redirect);
    await sessionIn(env.t, id, S.AUTHORIZED);
    const again = await start(user.open_id);
    expect(again.alreadyAuthorized).toBe(true);
    expect(again.session).toBeUndefined();
    expect(env.emulator.messagesOf(user.open_id)).toHaveLength(1);
  });
});
